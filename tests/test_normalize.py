"""Framing and the no-silent-drop rule, independent of any one cloud's mapping."""

from __future__ import annotations

import gzip
import io
from typing import Any

import orjson
import pytest

from connectors.base import Connector, MapContext, Unwrapped
from connectors.errors import MappingError, NonEvent
from connectors.normalize import MAX_RECORD_BYTES, Normalizer
from schemas.deadletter import DeadLetter
from schemas.event import Event, Format, Provider


class Toy(Connector):
    """A tiny source: records with "toy_op" and "toy_time"; {"toys": [...]} envelopes; {"digest": 1}."""

    name = "toy"
    format = Format.aws_cloudtrail
    provider = Provider.aws

    def unwrap(self, doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
        if "toys" in doc:
            return Unwrapped("toy_box", doc["toys"])
        if "digest" in doc:
            return NonEvent("toy.digest")
        return None

    def claims(self, record: dict[str, Any]) -> bool:
        return "toy_op" in record

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | NonEvent:
        if record["toy_op"] == "boom":
            raise RuntimeError("mapper bug")
        if record["toy_op"] == "skip":
            return NonEvent("toy.skip")
        if "toy_time" not in record:
            raise MappingError("missing_time", "no toy_time")
        return {
            "id": str(record.get("id", ctx.location)),
            "when": {"time": record["toy_time"], "ingested": ctx.ingested},
            "what": {"action": f"toy:{record['toy_op']}", "operation": record["toy_op"]},
            "where": {"provider": "aws"},
            "source": {"format": "aws.cloudtrail", "location": ctx.location, "shape": ctx.envelope},
            "raw": ctx.raw,
        }


def run(data: bytes, **kw: Any) -> list[Any]:
    return list(Normalizer(registered=[Toy()], **kw).blob(data, "f"))


def rec(op: str = "Get", **kw: Any) -> dict[str, Any]:
    return {"toy_op": op, "toy_time": "2024-05-01T12:00:00Z", **kw}


def kinds(results: list[Any]) -> list[str]:
    out = []
    for r in results:
        if isinstance(r, Event):
            out.append("event")
        elif isinstance(r, DeadLetter):
            out.append(f"dead:{r.stage}:{r.code}")
        else:
            out.append(f"non:{r.kind}")
    return out


def test_json_lines_plain_and_gzip_give_the_same_events() -> None:
    data = b"\n".join(orjson.dumps(rec(id=i)) for i in range(5)) + b"\n"
    plain, gz = run(data), run(gzip.compress(data))
    assert kinds(plain) == ["event"] * 5
    assert [e.id for e in plain] == [e.id for e in gz]
    assert [e.source.location for e in plain] == [f"f#{i}" for i in range(5)]


def test_envelopes_arrays_and_pretty_printed_documents() -> None:
    box = {"toys": [rec(id=1), rec(id=2)]}
    assert kinds(run(orjson.dumps(box))) == ["event", "event"]
    assert run(orjson.dumps(box))[0].source.shape == "toy_box"
    pretty = orjson.dumps([rec(id=1), box], option=orjson.OPT_INDENT_2)
    assert kinds(run(pretty)) == ["event"] * 3
    assert kinds(run(b'{"digest": 1}')) == ["non:toy.digest"]


def test_an_empty_array_is_a_counted_non_event() -> None:
    """Nothing read vanishes unseen: an empty JSON array (a file, a line, an item) is one non-event."""
    assert kinds(run(b"[]")) == ["non:empty_json_array"]
    assert kinds(run(b"[]\n" + orjson.dumps(rec(id=1)) + b"\n")) == ["non:empty_json_array", "event"]
    assert kinds(run(orjson.dumps([rec(id=1), []]))) == ["event", "non:empty_json_array"]


def test_raw_keeps_the_original_line_bytes() -> None:
    line = b'{"toy_op": "Get",   "toy_time": "2024-05-01T12:00:00Z"}'
    (e,) = run(line)
    assert e.raw == line.decode()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", ["dead:read:empty_file"]),
        (b"\n  \n", ["dead:read:empty_file"]),
        (b"{not json\n", ["dead:parse:invalid_json"]),
        (b"42\n", ["dead:parse:unknown_shape"]),
        (b'{"who": "knows"}\n', ["dead:parse:unknown_shape"]),
        (orjson.dumps({"toy_op": "Get"}), ["dead:map:missing_time"]),
        (orjson.dumps(rec("boom")), ["dead:map:mapper_error"]),
        (orjson.dumps(rec("skip")), ["non:toy.skip"]),
        (orjson.dumps(rec(toy_time="yesterday")), ["dead:validate:invalid_event"]),
    ],
)
def test_bad_input_is_one_dead_letter_with_a_reason(data: bytes, expected: list[str]) -> None:
    results = run(data)
    assert kinds(results) == expected
    for r in results:
        if isinstance(r, DeadLetter):
            assert r.reason and r.location.startswith("f")


def test_one_bad_line_costs_one_record() -> None:
    data = orjson.dumps(rec(id=1)) + b"\n{broken\n" + orjson.dumps(rec(id=2)) + b"\n"
    results = run(data)
    assert kinds(results) == ["event", "dead:parse:invalid_json", "event"]
    assert results[1].payload == b"{broken"
    assert results[1].location == "f#1"


def test_truncated_gzip_keeps_what_came_before_and_dead_letters_the_rest() -> None:
    data = b"".join(orjson.dumps(rec(id=i)) + b"\n" for i in range(2000))
    gz = gzip.compress(data)
    results = run(gz[: len(gz) // 2])
    ks = kinds(results)
    assert ks[-1] == "dead:read:corrupt_gzip"
    assert 0 < ks.count("event") < 2000
    assert "truncated or corrupt" in results[-1].reason


def test_ten_megabyte_record_is_a_dead_letter_and_the_run_goes_on() -> None:
    big = orjson.dumps(rec(id=1, blob="x" * (10 << 20)))
    data = big + b"\n" + orjson.dumps(rec(id=2)) + b"\n"
    results = run(data)
    assert kinds(results) == ["dead:parse:oversized_record", "event"]
    assert f"limit of {MAX_RECORD_BYTES} bytes" in results[0].reason
    assert results[0].payload == big


def test_invalid_json_inside_an_envelope_is_counted() -> None:
    box = {"toys": ['{"toy_op": "Get", "toy_time": "2024-05-01T12:00:00Z"}', "{nope"]}
    assert kinds(run(orjson.dumps(box))) == ["event", "dead:parse:invalid_json"]


def test_stream_memory_is_bounded_by_the_line_not_the_file() -> None:
    lines = b"".join(orjson.dumps(rec(id=i)) + b"\n" for i in range(20000))
    it = Normalizer(registered=[Toy()]).stream(io.BytesIO(lines), "f")
    first = next(it)
    assert isinstance(first, Event)
    assert sum(1 for _ in it) == 19999


def test_keep_raw_false_drops_raw() -> None:
    (e,) = run(orjson.dumps(rec()), keep_raw=False)
    assert e.raw is None


def test_dead_letter_json_round_trips_binary_payloads() -> None:
    d = DeadLetter(stage="read", code="corrupt_gzip", reason="r", payload=b"\x1f\x8b\xff", location="f")
    j = orjson.loads(d.to_json())
    assert "payload_b64" in j and j["stage"] == "read" and j["attempts"] == 1
    assert DeadLetter.from_dict(j).payload == b"\x1f\x8b\xff"
    text = DeadLetter(stage="map", code="c", reason="r", payload=b'{"a":1}', location="f#1")
    assert DeadLetter.from_dict(orjson.loads(text.to_json())).payload == b'{"a":1}'


def test_parse_time_reads_every_cloud_text_form_and_keeps_the_original() -> None:
    from connectors.timeutil import parse_time

    bq, keep = parse_time("2023-03-08 18:52:52.123456789 UTC", "timestamp")
    assert bq.isoformat() == "2023-03-08T18:52:52.123456+00:00"
    assert keep == "2023-03-08 18:52:52.123456789 UTC"
    assert parse_time("2023-03-08 18:52:52.114", "t")[0].isoformat() == "2023-03-08T18:52:52.114000+00:00"
    assert parse_time("2023-03-08T10:52:52.510-08:00", "t")[0].hour == 18
    with pytest.raises(MappingError, match=r"is outside 2000\.\.now"):
        parse_time("1970-01-01T00:00:00Z", "eventTime")
