"""The contract every registered connector gets for free (connectors/kit.py; docs/onboarding.md).

- arbitrary JSON, and its fixtures' records with any part replaced by arbitrary JSON, never crash it:
  each record comes out as one event, dead letter or non-event, and a dead letter is never a mapper
  crash (``mapper_error``) or an event the schema refuses (``invalid_event``);
- every fixture document changed in one place at a time (each value replaced by values of other types,
  each key removed) still gives a result, one where the document gave one, and no such dead letter;
- its folder has golden fixtures, each with its expected output, and its records are claimed by it and by
  no connector before it;
- the same record in several wire shapes (fixtures ``CASE@SHAPE``) gives the same event ids;
- the run-summary invariant holds over its fixtures and its bundled samples;
- its docs page exists.
"""

from __future__ import annotations

import copy
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import kit
from connectors.base import Connector, MapContext
from connectors.errors import MappingError, NonEvent
from connectors.normalize import Normalizer
from connectors.registry import connectors
from schemas.deadletter import DeadLetter
from schemas.event import Event

CONNECTORS = connectors()
# Dead letters that are the connector's fault, never the record's: an exception in map, or an event the
# schema refuses. A bad record is a dead letter with a reason a user can act on.
BUGS = {"mapper_error", "invalid_event"}
IDS = [c.name for c in CONNECTORS]
SAMPLES = Path(__file__).resolve().parents[2] / "samples"

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _replace(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    obj = copy.deepcopy(obj)
    cur = obj
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value
    return obj


def _one_result_per_record(connector: Connector, record: dict[str, Any]) -> None:
    ctx = MapContext(location="t#0", raw="{}", envelope=None, ingested=datetime(2025, 1, 14, tzinfo=UTC))
    if connector.claims(record):
        try:
            out = connector.map(record, ctx)
        except MappingError:
            pass
        else:
            assert isinstance(out, dict | NonEvent)
    results = list(Normalizer().records([record], "t"))
    assert results and all(isinstance(r, Event | DeadLetter | NonEvent) for r in results)
    bugs = [r.reason for r in results if isinstance(r, DeadLetter) and r.code in BUGS]
    assert not bugs, f"{connector.name}: {bugs[0]}\n{record!r}"


@pytest.mark.parametrize("connector", CONNECTORS, ids=IDS)
def test_layout_fixtures_expected_outputs_and_docs(connector: Connector) -> None:
    assert kit.layout_problems(connector) == []


@pytest.mark.parametrize("connector", CONNECTORS, ids=IDS)
def test_fixture_events_belong_to_their_connector(connector: Connector) -> None:
    """Detection picks this connector for its own records: no connector asked earlier takes them."""
    for f in kit.fixtures(connector):
        for r in Normalizer().blob(f.read_bytes(), f.name):
            if isinstance(r, Event):
                assert r.source.format == connector.format, f"{f.name}: taken by {r.source.format}"
                assert r.where.provider == connector.provider, f.name


@pytest.mark.parametrize("connector", CONNECTORS, ids=IDS)
def test_arbitrary_json_never_crashes(connector: Connector) -> None:
    @settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.text(max_size=12), json_values, max_size=6))
    def check(record: dict[str, Any]) -> None:
        _one_result_per_record(connector, record)

    check()


@pytest.mark.parametrize("connector", CONNECTORS, ids=IDS)
def test_fixture_records_with_any_part_replaced_never_crash(connector: Connector) -> None:
    records = list(kit.records_of(connector))[:30]
    if not records:
        pytest.skip("no mapped records in the fixtures")

    @settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data: st.DataObject) -> None:
        rec = data.draw(st.sampled_from(records))
        paths = _paths(rec)
        if paths:
            rec = _replace(rec, data.draw(st.sampled_from(paths)), data.draw(json_values))
        _one_result_per_record(connector, rec)

    check()


# One change at a time, everywhere: deterministic, and it reaches keys a random draw rarely picks (a list
# that is a number, an envelope that is empty).
SWEEP = [None, 7, 1.5, True, "", "x", [], {}, [1], {"a": 1}, 2**70]
REMOVE = object()
MAX_PATH = 5  # deep enough for an envelope's record's nested objects


def _documents(connector: Connector) -> list[Any]:
    """The JSON documents of the fixtures: a whole file, or each line of JSON lines (broken lines of the
    dead-letter fixtures left out: there is nothing in them to change)."""
    out: list[Any] = []
    for f in kit.fixtures(connector):
        data = f.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        try:
            out.append(orjson.loads(data))
            continue
        except orjson.JSONDecodeError:
            pass
        for line in data.splitlines():
            try:
                out.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue
    return out


def _changed(document: Any, path: tuple[Any, ...], value: Any) -> Any | None:
    if value is not REMOVE:
        return _replace(document, path, value)
    changed = copy.deepcopy(document)
    parent = changed
    for p in path[:-1]:
        parent = parent[p]
    if not isinstance(parent, dict):
        return None
    del parent[path[-1]]
    return changed


@pytest.mark.parametrize("connector", CONNECTORS, ids=IDS)
def test_fixture_documents_changed_anywhere_never_crash_or_vanish(connector: Connector) -> None:
    n = Normalizer()
    bugs: list[str] = []
    tried = 0
    for document in _documents(connector):
        before = len(list(n.blob(json.dumps(document).encode(), "sweep.json")))
        for path in _paths(document):
            if len(path) > MAX_PATH:
                continue
            for value in [REMOVE, *SWEEP]:
                changed = _changed(document, path, value)
                if changed is None:
                    continue
                results = list(n.blob(json.dumps(changed).encode(), "sweep.json"))  # 2**70: not orjson
                tried += 1
                what = f"{'.'.join(map(str, path))} = {'(removed)' if value is REMOVE else repr(value)}"
                assert results, f"{connector.name}: {what}: the document vanished without a result"
                assert before != 1 or len(results) == 1, f"{connector.name}: {what}: one record gave {results}"
                bugs.extend(f"{what}: {r.reason}" for r in results if isinstance(r, DeadLetter) and r.code in BUGS)
    assert tried > 100
    assert not bugs, f"{connector.name}: {len(bugs)} crashes, first: " + "; ".join(sorted(set(bugs))[:5])


@pytest.mark.parametrize("connector", CONNECTORS, ids=IDS)
def test_ids_are_stable_across_wire_shapes(connector: Connector) -> None:
    twins = kit.shape_twins(connector)
    for case, files in twins.items():
        ids = {}
        for f in files:
            ids[f.name] = [r.id for r in Normalizer().blob(f.read_bytes(), f.name) if isinstance(r, Event)]
        first = next(iter(ids.values()))
        assert first, f"{case}: no events"
        assert all(v == first for v in ids.values()), f"{case}: ids differ between shapes: {ids}"


def _sample_dir(connector: Connector) -> Path | None:
    """The bundled samples of a connector, found by its name (``sampledata/<name>.py``), if it has any."""
    from sampledata import samples_module

    module = samples_module(connector.name)
    if module is None:
        return None
    d = SAMPLES / module.CLOUD
    return d if d.is_dir() else None


@pytest.mark.parametrize("connector", CONNECTORS, ids=IDS)
def test_summary_invariant_over_fixtures_and_samples(connector: Connector) -> None:
    files = list(kit.fixtures(connector))
    d = _sample_dir(connector)
    if d is not None:
        files += sorted(p for p in d.rglob("*") if p.is_file())
    norm = Normalizer()
    results = [r for f in files for r in norm.blob(f.read_bytes(), f.as_posix())]
    s = kit.summary(results)
    assert s["holds"] == 1, s
    mine = sum(1 for r in results if isinstance(r, Event) and r.source.format == connector.format)
    assert mine > 0, f"no {connector.format} events in its fixtures and samples"
