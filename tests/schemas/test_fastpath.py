"""The validation fast path (schemas/fastpath.py) agrees with full pydantic validation.

For every dict a mapper can give, either the fast path vouches for it and returns exactly
``Event.model_validate(d).model_dump()`` (same values, same key order, and ``dumps`` gives the
``model_dump_json`` bytes), or it says ``Unsure`` and pydantic decides. It never accepts what pydantic
refuses, and never changes a value pydantic would keep.

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
from pydantic import BaseModel, ConfigDict, ValidationError

from connectors.base import Connector, MapContext
from connectors.errors import MappingError, NonEvent
from connectors.normalize import Normalizer
from connectors.registry import connectors
from schemas.event import Activity, Event
from schemas.fastpath import FastPathError, Unsure, canonical, compile_model, dumps, event_check

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("FASTPATH_EXAMPLES", "10000"))
CHECK = event_check()


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
    """Checks the fast path against pydantic on one mapper dict; says which path decided."""
    try:
        event: Event | None = Event.model_validate(copy.deepcopy(out))
    except ValidationError:
        event = None
    try:
        doc = CHECK(copy.deepcopy(out))
    except Unsure:
        doc = None
    if doc is not None:
        assert event is not None, f"the fast path accepted what pydantic refuses: {out!r}"
        assert _ordered(doc) == _ordered(event.model_dump())
        assert dumps(doc) == event.model_dump_json().encode()
    if event is None:
        with pytest.raises(ValidationError):
            canonical(copy.deepcopy(out))
        return "refused"
    assert _ordered(canonical(copy.deepcopy(out))) == _ordered(event.model_dump())
    return "fast" if doc is not None else "pydantic"


# --- golden fixtures ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_every_golden_event_takes_the_fast_path_and_agrees(name: str) -> None:
    c = CONNECTORS[name]
    taken = {"fast": 0, "pydantic": 0, "refused": 0}
    for record, ctx in CAPTURED[name]:
        out = _mapped(c, copy.deepcopy(record), ctx)
        if out is not None:
            taken[agree(out)] += 1
    assert taken["fast"] > 0, f"{name}: no golden record mapped"
    # The mappers give exactly what the schema wants: every golden event takes the fast path.
    assert taken["pydantic"] == 0, taken


def test_documents_normalizer_writes_the_golden_bytes() -> None:
    """End to end: ``Normalizer(documents=True)`` + ``dumps`` gives the bytes of the model path."""
    models, docs = Normalizer(), Normalizer(documents=True)
    compared = 0
    for c in CONNECTORS.values():
        for p in _golden_inputs(c):
            data = p.read_bytes()
            a = [r for r in models.blob(data, p.name) if isinstance(r, Event)]
            b = [r for r in docs.blob(data, p.name) if isinstance(r, dict)]
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
    seen: dict[str, int] = {"fast": 0, "pydantic": 0, "refused": 0}

    @SETTINGS
    @given(st.data())
    def run(data: st.DataObject) -> None:
        seen[agree(_mutate(data, data.draw(st.sampled_from(outs)), FIELD_NAMES))] += 1

    run()
    # The mutations reach all three outcomes (a generator that only made valid dicts would prove little).
    if EXAMPLES >= 1000:
        assert all(seen.values()), seen


# --- the generator refuses what it does not understand --------------------------------------------


class _Loose(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: dict[str, str] = {}


class _Open(BaseModel):
    name: str


def test_unknown_field_shapes_are_refused_when_compiling() -> None:
    with pytest.raises(FastPathError, match=r"_Loose\.labels"):
        compile_model(_Loose)
    with pytest.raises(FastPathError, match="extra='forbid'"):
        compile_model(_Open)


def test_generated_source_is_readable() -> None:
    source = CHECK.source  # type: ignore[attr-defined]
    assert "def _check_Event(d):" in source and "raise Unsure" in source
    assert orjson.loads(dumps({"t": datetime(2024, 1, 1, tzinfo=UTC)})) == {"t": "2024-01-01T00:00:00Z"}
