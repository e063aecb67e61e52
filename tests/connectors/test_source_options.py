"""The ``?key=value`` options of source specs: pydantic models per kind (connectors.options), one-line
errors, and the docs' options tables generated from the models."""

from __future__ import annotations

from datetime import timedelta

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
