"""Changed records: whatever a record holds, a connector never breaks the normalizer's one-to-one rule.

- Every connector: each golden input document, changed in one place at a time (every value replaced by
  each of a few of another type, every key removed), gives at least one result, exactly one where the
  document gave one, and no dead letter that is a mapper crash (``mapper_error``) or an event the schema
  refuses (``invalid_event``): a bad record is a dead letter with a reason a user can act on.
- The identity planes (Entra ID, Google Workspace), which have no property tests of their own: each
  golden record changed in up to three random places (hypothesis) gives exactly one result, never a crash.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.errors import NonEvent
from connectors.normalize import Normalizer
from schemas.deadletter import DeadLetter
from schemas.event import Event

ROOT = Path(__file__).resolve().parents[2]
CONNECTORS = ("entra_id", "google_workspace")  # the identity planes (the hypothesis test)
ALL = ("aws_cloudtrail", "gcp_audit", "azure_activity", "entra_id", "google_workspace")
BUGS = {"mapper_error", "invalid_event"}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _documents(name: str) -> list[Any]:
    """The JSON documents of a connector's golden inputs (a document, or each line of JSON lines)."""
    out: list[Any] = []
    for p in sorted((ROOT / "connectors" / name / "testdata").glob("*.json*")):
        if ".expected." in p.name:
            continue
        data = p.read_bytes()
        try:
            docs = [orjson.loads(data)]
        except orjson.JSONDecodeError:
            docs = []
            for line in data.splitlines():
                try:
                    docs.append(orjson.loads(line))
                except orjson.JSONDecodeError:
                    continue  # the dead-letter fixtures' broken lines: nothing to change in them
        out.extend(docs)
    return out


def _records(name: str) -> list[dict[str, Any]]:
    """The audit records of a connector's golden inputs (envelopes opened: ``records``, ``items``)."""
    out: list[dict[str, Any]] = []
    for d in _documents(name):
        inner = (d.get("records") or d.get("items")) if isinstance(d, dict) else d
        items = inner if isinstance(inner, list) else [d]
        out.extend(x for x in items if isinstance(x, dict))
    return out


RECORDS = {name: _records(name) for name in CONNECTORS}
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
wrong = st.recursive(
    scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3), max_leaves=6
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _mutate(data: st.DataObject, record: dict[str, Any]) -> dict[str, Any]:
    record = copy.deepcopy(record)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(record)
        if not paths:
            break
        # Half the changes near the top: the keys a mapper reads first are few among the many deep ones.
        near = [p for p in paths if len(p) <= 2]
        path = data.draw(st.sampled_from(near) | st.sampled_from(paths))
        parent: Any = record
        for step in path[:-1]:
            parent = parent[step]
        how = data.draw(st.sampled_from(["replace", "remove", "add"]))
        if how == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        elif how == "add" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=8))] = data.draw(wrong)
        else:
            parent[path[-1]] = data.draw(wrong)
    return record


def test_every_connector_has_golden_records() -> None:
    for name in CONNECTORS:
        assert len(RECORDS[name]) >= 5, name


@pytest.mark.parametrize("name", CONNECTORS)
@SETTINGS
@given(data=st.data())
def test_a_changed_record_is_one_result_and_never_a_crash(name: str, data: st.DataObject) -> None:
    record = _mutate(data, data.draw(st.sampled_from(RECORDS[name])))
    results = list(Normalizer().blob(orjson.dumps(record), "prop.json"))
    assert len(results) == 1, results
    r = results[0]
    assert isinstance(r, Event | DeadLetter | NonEvent)
    if isinstance(r, DeadLetter):
        assert r.code not in BUGS, f"{name}: {r.code}: {r.reason}\n{record!r}"


# One change at a time, everywhere: every path of every golden document, its value replaced by each of
# these (or its key removed). Deterministic, and it reaches the keys a random draw rarely picks.
SWEEP = [None, 7, 1.5, True, "", "x", [], {}, [1], {"a": 1}, 2**70]
REMOVE = object()
MAX_PATH = 5  # deep enough for an envelope's record's nested objects


def _changed(document: Any, path: tuple[Any, ...], value: Any) -> Any | None:
    changed = copy.deepcopy(document)
    parent: Any = changed
    for step in path[:-1]:
        parent = parent[step]
    if value is REMOVE:
        if not isinstance(parent, dict):
            return None
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return changed


@pytest.mark.parametrize("name", ALL)
def test_every_single_change_is_a_result_and_never_a_crash(name: str) -> None:
    n = Normalizer()
    bugs: list[str] = []
    tried = 0
    for document in _documents(name):
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
                assert results, f"{name}: {what}: the document vanished without a result"
                assert before != 1 or len(results) == 1, f"{name}: {what}: one record gave {results}"
                bugs.extend(
                    f"{what}: {r.reason}" for r in results if isinstance(r, DeadLetter) and r.code in BUGS
                )
    assert tried > 1000
    assert not bugs, f"{name}: {len(bugs)} crashes, first: " + "; ".join(sorted(set(bugs))[:5])
