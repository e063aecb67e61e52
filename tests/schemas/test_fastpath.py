"""The validation fast path (schemas/fastpath.py) agrees with full model validation.

For every dict a mapper can give, the document validator accepts it exactly when ``Event.model_validate``
does, and then returns exactly ``Event.model_validate(d).model_dump()`` (same values, same key order, and
``dumps`` gives the ``model_dump_json`` bytes).

Checked on every golden fixture, and on 10,000 generated records per connector (FASTPATH_EXAMPLES raises
or lowers it): half are golden records with their input mutated before mapping, half golden mapper
outputs mutated directly (wrong types, None, unknown keys, enum members, non-UTC and naive timestamps,
ints where floats are due), which is where a checker goes wrong.
"""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.base import Connector, MapContext
from connectors.errors import MappingError, NonEvent
from connectors.normalize import Normalizer
from connectors.registry import connectors
from schemas.event import Activity, Event
from schemas.fastpath import canonical, document_validator, dumps

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("FASTPATH_EXAMPLES", "10000"))


class _Capture:
    """A connector that remembers what it was asked to map (record and context), for the properties."""

    def __init__(self, inner: Connector) -> None:
        self._inner = inner
        self.seen: list[tuple[dict[str, Any], MapContext]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def map(self, record: dict[str, Any], ctx: MapContext) -> Any:
        self.seen.append((copy.deepcopy(record), ctx))
        return self._inner.map(record, ctx)


def _golden_inputs(c: Connector) -> list[Path]:
    folder = ROOT / "connectors" / c.name / "testdata"
    return sorted(p for p in folder.glob("*.json*") if ".expected." not in p.name)


def _captured(c: Connector) -> list[tuple[dict[str, Any], MapContext]]:
    cap = _Capture(c)
    n = Normalizer(registered=[cap])  # type: ignore[list-item]  # duck-typed connector
    for p in _golden_inputs(c):
        list(n.blob(p.read_bytes(), p.name))
    return cap.seen


CONNECTORS = {c.name: c for c in connectors()}
CAPTURED = {name: _captured(c) for name, c in CONNECTORS.items()}


def _mapped(c: Connector, record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | None:
    try:
        out = c.map(record, ctx)
    except MappingError:
        return None
    except Exception:  # a mapper bug: the normalizer makes it a mapper_error dead letter, not our concern here
        return None
    return None if isinstance(out, NonEvent) else out


def _ordered(value: Any) -> Any:
    """The value with every dict's key order made visible (dict equality ignores order)."""
    if isinstance(value, dict):
        return [(k, _ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def agree(out: dict[str, Any]) -> str:
    """Checks the fast path against model validation on one mapper dict; says whether it was accepted."""
    try:
        event: Event | None = Event.model_validate(copy.deepcopy(out))
    except ValidationError:
        event = None
    try:
        doc: dict[str, Any] | None = canonical(copy.deepcopy(out))
    except ValidationError:
        doc = None
    if event is None:
        assert doc is None, f"the fast path accepted what the model refuses: {out!r}"
        return "refused"
    assert doc is not None, f"the fast path refused what the model accepts: {out!r}"
    assert _ordered(doc) == _ordered(event.model_dump())
    assert dumps(doc) == event.model_dump_json().encode()
    return "accepted"


# --- golden fixtures ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_every_golden_event_agrees(name: str) -> None:
    c = CONNECTORS[name]
    taken = {"accepted": 0, "refused": 0}
    for record, ctx in CAPTURED[name]:
        out = _mapped(c, copy.deepcopy(record), ctx)
        if out is not None:
            taken[agree(out)] += 1
    assert taken["accepted"] > 0, f"{name}: no golden record mapped"


def test_documents_normalizer_writes_the_golden_bytes() -> None:
    """End to end: ``Normalizer(documents=True)`` + ``dumps`` gives the bytes of the model path."""
    models, docs = Normalizer(), Normalizer(documents=True)
    compared = 0
    for c in CONNECTORS.values():
        for p in _golden_inputs(c):
            data = p.read_bytes()
            a = [r for r in models.blob(data, p.name) if isinstance(r, Event)]
            b: list[dict[str, Any]] = [r for r in docs.blob(data, p.name) if isinstance(r, dict)]  # type: ignore[misc]
            assert len(a) == len(b), p
            for e, d in zip(a, b, strict=True):
                e.when.ingested = d["when"]["ingested"]  # one clock read per file and normalizer
                assert dumps(d) == e.model_dump_json().encode(), p
                compared += 1
    assert compared > 50


# --- generated records ----------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["", "human", "success", "aws", "gcp.audit", "create", "1", "unknown"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
odd_values = st.sampled_from([
    datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2024, 1, 2, 3, 4, 5, 1000, tzinfo=timezone(timedelta(hours=2))),
    datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(0))),
    datetime(2024, 1, 2, 3, 4, 5),
    "2024-01-02T03:04:05Z",
    Activity.create,
    1.0,
    1,
    0,
    True,
    float("nan"),
    2**64,
    b"bytes",
    {},
    [],
    [None],
    ["a", 1],
    [{}],
    {"unknown_key": 1},
])
values = st.one_of(json_values, odd_values)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _mutate(data: st.DataObject, value: dict[str, Any], extra_keys: list[str]) -> dict[str, Any]:
    """Up to three changes at random places: a value replaced, a key removed, or a key added."""
    value = copy.deepcopy(value)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(value)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent: Any = value
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = data.draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[last] = copy.deepcopy(data.draw(values))
        elif action == "delete" and isinstance(parent, dict):
            del parent[last]
        elif isinstance(parent, dict):
            parent[data.draw(st.sampled_from(extra_keys))] = copy.deepcopy(data.draw(values))
    return value


SETTINGS = settings(
    max_examples=max(1, EXAMPLES // 2),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FIELD_NAMES = sorted({name for m in (Event,) for name in m.model_fields} | {"type", "id", "ip", "mfa", "x"})


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_mutated_inputs_agree(name: str) -> None:
    """Golden records changed before mapping: whatever the mapper makes of them, the paths agree."""
    c = CONNECTORS[name]
    records = CAPTURED[name]

    @SETTINGS
    @given(st.data())
    def run(data: st.DataObject) -> None:
        record, ctx = data.draw(st.sampled_from(records))
        out = _mapped(c, _mutate(data, record, ["eventName", "type", "id", "x"]), ctx)
        if out is not None:
            agree(out)

    run()


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_mutated_mapper_outputs_agree(name: str) -> None:
    """Golden mapper outputs changed directly: wrong types, unknown keys, odd timestamps, enum members."""
    c = CONNECTORS[name]
    outs = [o for o in (_mapped(c, copy.deepcopy(r), ctx) for r, ctx in CAPTURED[name]) if o is not None]
    seen: dict[str, int] = {"accepted": 0, "refused": 0}

    @SETTINGS
    @given(st.data())
    def run(data: st.DataObject) -> None:
        seen[agree(_mutate(data, data.draw(st.sampled_from(outs)), FIELD_NAMES))] += 1

    run()
    # The mutations reach both outcomes (a generator that only made valid dicts would prove little).
    if EXAMPLES >= 1000:
        assert all(seen.values()), seen


# --- the derived schema ---------------------------------------------------------------------------


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: float = 0.0
    tags: list[str] = []


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    inner: _Inner = Field(default_factory=_Inner)
    maybe: _Inner | None = None


def test_document_validator_mirrors_the_model() -> None:
    v = document_validator(_Outer)
    for ok in ({"name": "a"}, {"name": "a", "inner": {"n": 1}, "maybe": {"tags": ["x"]}}):
        assert _ordered(v.validate_python(ok)) == _ordered(_Outer.model_validate(ok).model_dump())
    for bad in ({}, {"name": "a", "extra": 1}, {"name": "a", "inner": {"n": "x"}}):
        with pytest.raises(ValidationError):
            v.validate_python(bad)


def test_utc_is_written_as_pydantic_writes_it() -> None:
    assert dumps({"t": datetime(2024, 1, 1, tzinfo=UTC)}) == b'{"t":"2024-01-01T00:00:00Z"}'
    assert orjson.loads(dumps({"t": datetime(2024, 1, 1, 0, 0, 0, 5, tzinfo=UTC)})) == {
        "t": "2024-01-01T00:00:00.000005Z"
    }
