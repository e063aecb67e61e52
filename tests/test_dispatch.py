"""Dispatch once per envelope, and the long-integer pre-check, against the general path they shortcut.

The connectors here are toys written for these tests: ``Box`` delivers ``{"box": [...]}`` record
envelopes, ``First`` goes before it (as Entra ID goes before Azure Activity: its records arrive in Box's
envelopes), ``Other`` counts how often it is asked.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from connectors import normalize
from connectors.base import Connector, MapContext, Unwrapped
from connectors.errors import NonEvent
from connectors.normalize import Normalizer, has_long_number
from schemas.deadletter import DeadLetter
from schemas.event import Event, Format, Provider


class _Toy(Connector):
    format = Format.aws_cloudtrail
    provider = Provider.aws
    key = ""

    def __init__(self) -> None:
        self.claim_calls = 0
        self.unwrap_calls = 0

    def unwrap(self, doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
        self.unwrap_calls += 1
        return None

    def claims(self, record: dict[str, Any]) -> bool:
        self.claim_calls += 1
        return self.key in record

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | NonEvent:
        return {
            "id": f"{self.name}-{record[self.key]}",
            "when": {"time": "2024-05-01T12:00:00Z", "ingested": ctx.ingested},
            "what": {"action": f"{self.name}:{record[self.key]}", "operation": record[self.key]},
            "where": {"provider": "aws"},
            "source": {"format": "aws.cloudtrail", "location": ctx.location, "shape": ctx.envelope},
            "raw": ctx.raw,
        }


class Other(_Toy):
    name = "other"
    key = "other_op"


class First(_Toy):
    name = "first"
    key = "first_op"
    before = ("box",)


class Box(_Toy):
    name = "box"
    key = "box_op"
    record_envelopes = frozenset({"box"})

    def unwrap(self, doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
        self.unwrap_calls += 1
        for key in ("box", "records"):  # {"records": [...]} as Event Hub and Records files shape it
            if key in doc:
                return Unwrapped("box", doc[key])
        return None


def _run(data: bytes) -> tuple[list[Any], Other, First, Box]:
    other, first, box = Other(), First(), Box()
    results = list(Normalizer(registered=[other, first, box]).blob(data, "f"))
    return results, other, first, box


def _ids(results: list[Any]) -> list[str]:
    return [r.id if isinstance(r, Event) else f"dead:{r.code}" if isinstance(r, DeadLetter) else "non" for r in results]


def test_records_of_an_envelope_are_not_offered_to_unrelated_connectors() -> None:
    doc = {"box": [{"box_op": str(i)} for i in range(50)]}
    results, other, _first, box = _run(orjson.dumps(doc))
    assert _ids(results) == [f"box-{i}" for i in range(50)]
    assert other.unwrap_calls == 1  # the document only
    assert other.claim_calls == 0  # the envelope said whose records these are
    assert box.claim_calls == 50


def test_a_connector_that_goes_before_the_owner_still_claims_its_records_in_the_envelope() -> None:
    doc = {"box": [{"box_op": "a"}, {"first_op": "b"}, {"box_op": "c"}]}
    results, other, _first, _box = _run(orjson.dumps(doc))
    assert _ids(results) == ["box-a", "first-b", "box-c"]
    assert other.claim_calls == 0


def test_foreign_or_broken_items_take_the_general_path_as_before() -> None:
    doc = {"box": [{"other_op": "x"}, {"nobody": 1}, 7, {"box_op": "y"}]}
    results, other, _first, _box = _run(orjson.dumps(doc))
    assert _ids(results) == ["other-x", "dead:unknown_shape", "dead:unknown_shape", "box-y"]
    assert other.claim_calls == 2  # only the two items Box and First did not claim (7 is no object)


def test_a_large_records_document_read_record_by_record_is_dispatched_once(monkeypatch: Any) -> None:
    monkeypatch.setattr(normalize, "STREAM_FROM_BYTES", 256)  # stream anything past 256 bytes (ijson)
    doc = {"records": [{"box_op": str(i)} for i in range(40)] + [{"first_op": "f"}, {"other_op": "o"}]}
    results, other, _first, _box = _run(orjson.dumps(doc))
    assert _ids(results) == [f"box-{i}" for i in range(40)] + ["first-f", "other-o"]
    assert other.claim_calls == 1  # only for the item neither Box nor First claims


def test_json_lines_are_still_dispatched_per_record() -> None:
    lines = b"\n".join(orjson.dumps(r) for r in ({"other_op": "1"}, {"box_op": "2"}, {"first_op": "3"}))
    results, _other, _first, _box = _run(lines)
    assert _ids(results) == ["other-1", "box-2", "first-3"]


_LONG = re.compile(rb"\d{20}")


@given(st.binary(max_size=200) | st.text(alphabet="0123456789a\" ,:{}", max_size=120).map(str.encode))
def test_long_number_check_agrees_with_the_regular_expression(data: bytes) -> None:
    assert has_long_number(data) == (_LONG.search(data) is not None)
