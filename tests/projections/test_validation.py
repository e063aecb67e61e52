"""Every event of the demo samples and of the shared corpus, projected to OCSF 1.8.0 and to ECS 9,
validates against the official schemas: the OCSF class schema with the cloud profile (jsonschema,
Draft 2020-12) with zero errors, and ECS's ecs_flat with zero unknown non-custom fields, zero type
errors and categorization values from the allowed sets."""

from __future__ import annotations

from collections import Counter

import pytest

from schemas.event import Event
from schemas.projections import project
from schemas.projections.tables import ACCOUNT_CHANGE, API_ACTIVITY, AUTHENTICATION
from schemas.projections.validate import ecs_errors, ecs_fields, ocsf_errors


def _check_ocsf(events: list[Event]) -> Counter[int]:
    classes: Counter[int] = Counter()
    problems = []
    for e in events:
        doc = project(e, "ocsf")
        assert doc is not None
        classes[doc["class_uid"]] += 1
        problems += [f"{e.source.location} ({doc['class_uid']}): {err}" for err in ocsf_errors(doc)]
    assert not problems, f"{len(problems)} OCSF errors:\n" + "\n".join(problems[:30])
    return classes


def _check_ecs(events: list[Event]) -> None:
    problems = []
    for e in events:
        doc = project(e, "ecs")
        assert doc is not None
        problems += [f"{e.source.location}: {err}" for err in ecs_errors(doc)]
    assert not problems, f"{len(problems)} ECS errors:\n" + "\n".join(problems[:30])


@pytest.mark.usefixtures("ocsf_schema")
def test_samples_validate_as_ocsf(sample_events: list[Event]) -> None:
    classes = _check_ocsf(sample_events)
    # the demo samples hold sign-ins, identity changes and plain API calls: three classes at least
    assert {API_ACTIVITY, AUTHENTICATION, ACCOUNT_CHANGE} <= set(classes), classes


@pytest.mark.corpus
@pytest.mark.usefixtures("ocsf_schema")
def test_corpus_validates_as_ocsf(corpus_events: list[Event]) -> None:
    classes = _check_ocsf(corpus_events)
    assert {API_ACTIVITY, AUTHENTICATION, ACCOUNT_CHANGE} <= set(classes), classes


@pytest.mark.usefixtures("ecs_schema")
def test_samples_validate_as_ecs(sample_events: list[Event]) -> None:
    _check_ecs(sample_events)


@pytest.mark.corpus
@pytest.mark.usefixtures("ecs_schema")
def test_corpus_validates_as_ecs(corpus_events: list[Event]) -> None:
    _check_ecs(corpus_events)


@pytest.mark.usefixtures("ecs_schema")
def test_ecs_validator_catches_what_it_should() -> None:
    """The checker itself: an unknown field, a wrong type and a category outside the allowed set fail."""
    assert "cloud.account.id" in ecs_fields()
    bad = {"event": {"category": ["not-a-category"], "outcome": "success"}, "source": {"ip": "not-an-ip"},
           "cloud": {"nonsense": "x"}, "cloudaudit": {"anything": 1}}
    errors = ecs_errors(bad)
    assert any(e.startswith("event.category") for e in errors)
    assert any(e.startswith("source.ip") for e in errors)
    assert any(e.startswith("cloud.nonsense") for e in errors)
    assert not any(e.startswith("cloudaudit") for e in errors)


@pytest.mark.usefixtures("ocsf_schema")
def test_ocsf_validator_catches_what_it_should(sample_events: list[Event]) -> None:
    doc = project(sample_events[0], "ocsf")
    assert doc is not None
    del doc["cloud"]
    doc["actor"]["user"]["type_id"] = 12345
    errors = ocsf_errors(doc)
    assert any("cloud" in e for e in errors) and any("type_id" in e for e in errors)
