"""The event model's contract: fixed field paths, vocabularies, derived exports kept in step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, get_args, get_origin

import orjson
import pyarrow as pa
import pytest
from pydantic import BaseModel, ValidationError

from connectors.registry import vocabulary
from schemas.arrow import arrow_schema, schema_text, table_from_json_lines, to_table
from schemas.event import SCHEMA_VERSION, VOCABULARIES, Event, words
from schemas.export import FILES, GENERATED
from schemas.ids import event_id
from schemas.jsonschema import json_schema

FIXED_PATHS = ["id", "when.time", "when.observed", "who.actor.type", "who.actor.id", "who.actor.name", "who.actor.account", "who.actor.credential_id", "who.session.issuer", "who.session.mfa", "who.delegation", "who.invoked_by", "what.action", "what.operation", "what.service", "what.outcome", "what.error.code", "what.read_only", "what.resources", "where.provider", "where.account", "where.region", "where.source.ip", "where.source.domain", "how.user_agent", "how.client", "source.format", "source.native_id", "raw"]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        m = _model_of(arg)
        if m is not None:
            return m
    return None


def _has_path(model: type[BaseModel], path: str) -> bool:
    head, _, rest = path.partition(".")
    if head not in model.model_fields:
        return False
    if not rest:
        return True
    sub = _model_of(model.model_fields[head].annotation)
    return sub is not None and _has_path(sub, rest)


@pytest.mark.parametrize("path", FIXED_PATHS)
def test_fixed_field_paths_exist(path: str) -> None:
    assert _has_path(Event, path), f"{path} is part of the v{SCHEMA_VERSION} contract"


def _enum_values(model: type[BaseModel], field: str) -> set[str]:
    ann = model.model_fields[field].annotation
    for a in (ann, *get_args(ann)):
        if get_origin(a) is Literal:
            return set(get_args(a))
    raise AssertionError(f"{field} is not a closed vocabulary")


def test_each_enum_and_its_literal_twin_hold_the_same_words() -> None:
    for enum, literal in VOCABULARIES.items():
        assert tuple(m.value for m in enum) == words(literal), enum.__name__


def test_open_vocabularies_hold_the_builtin_enums_and_every_registered_word() -> None:
    from connectors.registry import connectors
    from schemas.event import OPEN_VOCABULARIES

    for enum, kind in OPEN_VOCABULARIES.items():
        assert {m.value for m in enum} <= vocabulary(kind), enum.__name__
        assert vocabulary(kind) == {str(getattr(c, kind)) for c in connectors()}
    s = json_schema()["$defs"]
    assert set(s["Where"]["properties"]["provider"]["enum"]) == vocabulary("provider")
    assert set(s["SourceInfo"]["properties"]["format"]["enum"]) == vocabulary("format")


def test_vocabularies_are_the_designed_lower_case_words() -> None:
    from schemas.event import Actor, How, What

    assert _enum_values(Actor, "type") == {
        "human", "service", "role_session", "root", "cloud_service", "anonymous", "unknown"
    }
    assert _enum_values(What, "outcome") == {"success", "failure", "unknown"}
    assert {"aws", "gcp", "azure"} <= vocabulary("provider")  # open: the registry adds words
    assert _enum_values(How, "client") == {
        "console", "cli", "sdk", "terraform", "cloud_service", "other", "unknown"
    }


def _minimal(**over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": "x",
        "when": {"time": datetime(2024, 5, 1, 13, 0, tzinfo=UTC)},
        "what": {"action": "iam:CreateUser", "operation": "CreateUser"},
        "where": {"provider": "aws"},
        "source": {"format": "aws.cloudtrail"},
    }
    d.update(over)
    return d


def test_minimal_event_validates_and_defaults_are_explicit() -> None:
    e = Event.model_validate(_minimal())
    assert e.schema_version == SCHEMA_VERSION
    assert e.who.actor.type == "unknown"
    assert e.what.outcome == "unknown"
    assert e.how.client == "unknown"


def test_naive_timestamps_and_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Event.model_validate(_minimal(when={"time": datetime(2024, 5, 1)}))
    with pytest.raises(ValidationError, match="Extra inputs"):
        Event.model_validate(_minimal(colour="blue"))
    with pytest.raises(ValidationError):
        Event.model_validate(_minimal(where={"provider": "oracle"}))


def test_event_id_is_deterministic_and_separates_parts() -> None:
    a = event_id("aws.cloudtrail", "e1", "2024-01-01T00:00:00Z")
    assert a == event_id("aws.cloudtrail", "e1", "2024-01-01T00:00:00Z")
    assert len(a) == 32
    assert a != event_id("gcp.audit", "e1", "2024-01-01T00:00:00Z")
    assert event_id("f", "ab", "c") != event_id("f", "a", "bc")


@pytest.mark.parametrize("name", sorted(FILES))
def test_checked_in_exports_are_current(name: str) -> None:
    path = GENERATED / name
    assert path.exists(), f"{path} missing: run python -m schemas.export"
    assert path.read_text() == FILES[name](), f"{path} is stale: run python -m schemas.export"


def test_json_schema_names_the_contract() -> None:
    s = json_schema()
    assert set(s["required"]) >= {"id", "when", "what", "where", "source"}
    assert "schema_version" in s["properties"]


def test_arrow_schema_covers_every_model_field() -> None:
    schema = arrow_schema()
    assert schema.names == list(Event.model_fields)
    assert schema.field("when").type.field("time").type == pa.timestamp("us", tz="UTC")
    assert schema.metadata[b"cloudaudit.schema_version"] == SCHEMA_VERSION.encode()


def test_arrow_conversions_agree_and_round_trip() -> None:
    e = Event.model_validate(
        _minimal(
            who={"actor": {"type": "role_session", "id": "arn:aws:sts::1:assumed-role/r/s"},
                 "session": {"issuer": "arn:aws:iam::1:role/r", "mfa": True,
                             "created": datetime(2024, 5, 1, tzinfo=UTC)},
                 "delegation": [{"id": "a@x.iam.gserviceaccount.com", "type": "service"}]},
        )
    )
    line = e.model_dump_json().encode()
    t1 = to_table([orjson.loads(line)])
    t2 = table_from_json_lines(line + b"\n" + line)
    assert t1.num_rows == 1 and t2.num_rows == 2
    assert t1.to_pylist()[0] == t2.to_pylist()[0]
    assert t2.schema.equals(arrow_schema())
    row = t1.to_pylist()[0]
    assert row["who"]["session"]["issuer"] == "arn:aws:iam::1:role/r"
    assert row["when"]["time"] == datetime(2024, 5, 1, 13, 0, tzinfo=UTC)
    assert row["who"]["delegation"][0]["type"] == "service"


def test_schema_text_is_stable() -> None:
    assert schema_text() == schema_text()
    assert "schema_version: string not null" in schema_text()
    assert "chars omitted" not in schema_text()  # every nested type printed in full
