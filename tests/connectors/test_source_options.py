"""The ``?key=value`` options of source specs: pydantic models per kind (connectors.options), one-line
errors, and the docs' options tables generated from the models."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from connectors.options import docs_with_tables, documented_kinds, expected, options_table
from connectors.sources import SourceError, SourceSpec, resolve, source_kinds
from tests.conftest import ROOT

DOCS = sorted((ROOT / "docs").glob("*.md"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("logging:projects/p?page_sise=5", "source 'logging' does not take page_sise (did you mean page_size?); "
         "it takes: logs, filter, slice, page_size, rpm, endpoint"),
        ("logging:projects/p?page_size=0", "source 'logging': page_size='0': expected a whole number between 1 "
         "and 1000"),
        ("logging:projects/p?rpm=lots", "source 'logging': rpm='lots': expected a whole number between 1 and 6000"),
        ("logging:projects/p?slice=0s", "source 'logging': slice='0s': expected a duration such as 30m, 1h or "
         "90s of at least 1s"),
        ("gcs:bucket?logs=activity,nope", "source 'gcs': logs='activity,nope': unknown audit log 'nope'"),
        ("pubsub:projects/p/subscriptions/s?ack_deadline=5", "expected a whole number between 10 and 600"),
        ("s3:bucket?regoins=us-east-1", "source 's3' does not take regoins (did you mean regions?)"),
        ("s3:bucket?lag=soon", "source 's3': lag='soon': expected a number between 0 and 1440"),
        ("s3:bucket?accounts=12", "source 's3': accounts='12': '12' is not a 12-digit account id"),
        ("s3:bucket?include=everything", "source 's3': include='everything': takes digest, insight"),
        ("s3:bucket?threads=2.5", "source 's3': threads='2.5': expected a whole number between 1 and 64"),
        ("sqs:queue?visibilty=60", "source 'sqs' does not take visibilty (did you mean visibility?)"),
        ("sqs:queue?visibility=0", "source 'sqs': visibility='0': expected a whole number between 1 and 43200"),
        ("azure-blob:acct?subscriptions=nope", "'NOPE' is not a subscription id (a GUID)"),
        ("azure-blob:acct?page_size=6000", "expected a whole number between 1 and 5000"),
        ("log-analytics:w?slice=30m&min_slice=1h", "source 'log-analytics': min_slice (1h) is larger than slice "
         "(30m)"),
        ("log-analytics:w?endpoint=http://la.example", "expected an https:// URL"),
        ("eventhub:ns/hub", "source 'eventhub' needs ?checkpoint=: the blob container"),
        ("eventhub:ns/hub?checkpoint=https://a.blob.core.windows.net/cp&start=middle", "source 'eventhub': "
         "start='middle': expected earliest or latest"),
        ("eventhub:ns/hub?checkpoint=https://a.blob.core.windows.net/cp&balance_interval=60&ownership_expiry=90",
         "ownership_expiry (90) must be at least twice balance_interval (120)"),
        ("workspace-reports:c?applications=login,drive", "source 'workspace-reports': applications='login,drive': "
         "unknown application 'drive'"),
        ("workspace-reports:c?slice=30s", "expected a duration such as 30m, 1h or 90s of at least 1m"),
    ],
)
def test_a_bad_option_is_one_line_naming_the_spec_key_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(SourceError) as err:
        resolve(SourceSpec.parse(text))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_options_parse_to_typed_values_and_blank_means_default() -> None:
    kind = resolve(SourceSpec.parse("logging:projects/p?slice=30m&page_size=7&endpoint=&logs=all"))
    o = kind.options(SourceSpec.parse("logging:projects/p?slice=30m&page_size=7&endpoint=&logs=all"))
    assert (o.slice, o.page_size, o.endpoint, o.rpm) == (timedelta(minutes=30), 7, None, 60)
    assert o.logs == ("activity", "data_access", "system_event", "policy")
    # The Dataflow Pub/Sub read's options (docs/deploy-dataflow.md) are taken, not refused.
    spec = SourceSpec.parse("pubsub:projects/p/subscriptions/s?id_label=uid&timestamp_attribute=ts")
    assert resolve(spec).options(spec).id_label == "uid"


def test_the_other_kinds_parse_to_typed_values_with_the_old_defaults() -> None:
    def options(text: str) -> Any:
        spec = SourceSpec.parse(text)
        return resolve(spec).options(spec)

    s3 = options("s3:b?accounts=111122223333&lag=7.5&include=digest")
    assert (s3.accounts, s3.lag, s3.include, s3.page_size, s3.threads, s3.attempts) == (
        ("111122223333",), 7.5, ("digest",), 1000, 8, 8
    )
    sqs = options("sqs:q")
    assert (sqs.visibility, sqs.threads, sqs.attempts, sqs.endpoint) == (300, 8, 8, None)
    blob = options("azure-blob:acct")
    assert (blob.lag, blob.page_size, blob.threads, blob.attempts) == (60, 5000, 8, 6)
    la = options("log-analytics:w?endpoint=https://api.loganalytics.azure.cn/")
    assert (la.slice, la.min_slice, la.rows_per_blob, la.timeout, la.endpoint) == (
        timedelta(hours=1), timedelta(minutes=1), 10_000, 300, "https://api.loganalytics.azure.cn"
    )
    hub = options("eventhub:ns/hub?checkpoint=https://a.blob.core.windows.net/cp/&start=LATEST&endpoint=gw:5671")
    assert (hub.checkpoint, hub.start, hub.endpoint, hub.consumer_group) == (
        "https://a.blob.core.windows.net/cp", "latest", "sb://gw:5671", "$Default"
    )
    assert (hub.balance_interval, hub.expiry) == (10, 60)
    assert options("eventhub:ns/hub?checkpoint=https://a/cp&balance_interval=45").expiry == 90
    ws = options("workspace-reports:c")
    assert (ws.applications, ws.slice, ws.page_size) == (
        ("login", "admin", "token", "saml"), timedelta(hours=6), 1000
    )


def test_a_value_that_may_hold_a_credential_is_not_echoed() -> None:
    for text, secret in [
        ("s3:b?endpoint=http://key:hunter2@127.0.0.1:9000", "hunter2"),
        ("eventhub:ns/hub?checkpoint=https://a.blob.core.windows.net/cp%3Fsv%3D1%26sig%3Dhunter2", "hunter2"),
        ("logging:projects/p?endpoint=https://127.0.0.1/x%3Ftoken%3Dhunter2", "hunter2"),
    ]:
        with pytest.raises(SourceError) as err:
            resolve(SourceSpec.parse(text))
        message = str(err.value)
        assert secret not in message and ("withheld" in message or "***" in message), message


def test_every_registered_kind_has_an_options_model() -> None:
    assert all(kind.options_model is not None for kind in source_kinds().values())


def test_help_comes_from_the_model() -> None:
    kind = source_kinds()["logging"]
    assert kind.options_model is not None
    assert list(kind.params) == list(kind.options_model.model_fields)
    assert all(kind.params.values())  # every option has a description
    page_size = kind.options_model.model_fields["page_size"]
    assert expected(page_size) == "a whole number between 1 and 1000"
    assert "| `page_size` | a whole number between 1 and 1000 | 1000 |" in options_table(kind.options_model)


def test_the_docs_options_tables_are_the_models() -> None:
    """Each kind with a model has its table in the docs, generated (python -m connectors.options)."""
    documented: set[str] = set()
    for path in DOCS:
        text = path.read_text()
        assert docs_with_tables(text) == text, f"{path.name}: run python -m connectors.options {path}"
        documented |= documented_kinds(text)
    with_models = {name for name, kind in source_kinds().items() if kind.options_model is not None}
    assert with_models <= documented, f"no generated options table for {sorted(with_models - documented)}"
