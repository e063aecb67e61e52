"""The sinks' ``?key=value`` options: one pydantic model per kind (pipelines/sinks), one-line errors, the
old defaults, and docs/sinks.md's tables generated from the models."""

from __future__ import annotations

import pytest

from connectors.options import docs_with_tables, documented, options_table
from pipelines.sinks import SinkConfigError, make_sink, option_models, parse_sink, sink_class
from pipelines.sinks.base import PROJECTIONS
from pipelines.sinks.config import SinkOptions, register_projections
from pipelines.sinks.elastic import ElasticOptions
from pipelines.sinks.hec import HecOptions
from pipelines.sinks.sentinel import SentinelOptions
from tests.conftest import ROOT

SINKS_MD = ROOT / "docs" / "sinks.md"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("hec:https://s:8088?ack_pol=2", "sink hec does not take ack_pol (did you mean ack_poll?)"),
        ("hec:https://s:8088?name=siem&retries=many", "sink siem: retries='many': expected a whole number of at "
         "least 0"),
        ("hec:https://s:8088?ack=maybe", "sink hec: ack='maybe': expected true or false"),
        ("hec:https://s:8088?timeout=inf", "sink hec: timeout='inf': expected a number of at least 0.001"),
        ("hec:https://s:8088?channel=abc", "sink hec: channel='abc': expected a GUID"),
        ("hec:https://s:8088?projection=cef", "expected native or ocsf or ecs (canonical is native)"),
        ("elastic:https://es:9200?op=upsert", "sink elastic: op='upsert': expected create or index"),
        ("elastic:https://es:9200?index=ca-{day}", "unknown placeholder(s) day (known: {date}, {month}, "
         "{provider})"),
        ("elastic:https://es:9200?ack=true", "sink elastic does not take ack; it takes: name, projection"),
        ("sentinel:https://dce.example?stream=Custom-X_CL", "sink sentinel needs ?dcr=: the data collection "
         "rule's immutable id"),
        ("sentinel:https://dce.example?dcr=0123", "sink sentinel: dcr='0123': not the data collection rule's "
         "immutable id"),
        ("sentinel:https://dce.example?dcr=dcr-1&gzip=false", "the ingestion client always compresses"),
    ],
)
def test_a_bad_option_is_one_line_naming_the_sink_key_and_what_was_expected(value: str, message: str) -> None:
    with pytest.raises(SinkConfigError) as err:
        parse_sink(value)
    assert message in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_each_kind_keeps_its_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPLUNK_HEC_TOKEN", "t")
    hec = make_sink("hec:https://s:8088")
    assert (hec.projection_name, hec.keep_raw, hec.batch_events, hec.batch_bytes, hec.retries) == (
        "native", False, 500, 1_000_000, 5
    )
    assert (hec.backoff, hec.max_backoff, hec.timeout, hec.gzip) == (0.5, 30.0, 30.0, True)
    assert (hec.breaker_batches, hec.breaker_seconds) == (3, 30.0)
    assert (hec.index, hec.sourcetype, hec.ack, hec.ack_timeout, hec.ack_poll) == (  # type: ignore[attr-defined]
        None, "cloudaudit:event", False, 60.0, 1.0
    )
    es = make_sink("opensearch:https://es:9200")
    assert (es.projection_name, es.batch_events, es.batch_bytes) == ("ecs", 1000, 5_000_000)
    assert (es.pattern, es.op, es.pipeline, es.timestamp_field) == (  # type: ignore[attr-defined]
        "cloudaudit-{date}", "create", None, "@timestamp"
    )
    assert make_sink("elastic:https://es:9200?timestamp_field=").timestamp_field == ""  # type: ignore[attr-defined]
    assert make_sink("elastic:https://es:9200?pipeline=").pipeline is None  # type: ignore[attr-defined]
    az = make_sink("sentinel:https://dce.example?dcr=dcr-1")
    assert (az.projection_name, az.batch_events, az.stream) == ("native", 2000, "Custom-CloudAudit_CL")  # type: ignore[attr-defined]
    channel = "0B3B7C4E-3B2D-4B8A-9C5E-2F1A6D7E8F90"
    assert make_sink(f"splunk:https://s:8088?channel={channel}&ack=yes").channel == channel.lower()  # type: ignore[attr-defined]


def test_every_kind_has_a_model_and_the_projections_are_the_registry() -> None:
    from pipelines.sinks import KINDS

    for kind in KINDS:
        assert issubclass(sink_class(kind).OPTIONS_MODEL, SinkOptions)
    assert {sink_class(k).OPTIONS_MODEL for k in KINDS} == {HecOptions, ElasticOptions, SentinelOptions}
    register_projections()
    projection = SinkOptions.model_fields["projection"].annotation
    assert set(projection.__args__) == set(PROJECTIONS)  # type: ignore[union-attr]


def test_a_kind_table_shows_what_it_adds_or_changes() -> None:
    table = options_table(ElasticOptions)
    assert "| `projection` |" in table and "| ecs |" in table and "| `retries` |" not in table
    assert "| `retries` |" in options_table(SinkOptions)


def test_the_docs_options_tables_are_the_models() -> None:
    text = SINKS_MD.read_text()
    assert docs_with_tables(text) == text, f"run python -m connectors.options {SINKS_MD}"
    assert set(option_models()) <= documented(text), "a sink kind has no generated options table in sinks.md"
