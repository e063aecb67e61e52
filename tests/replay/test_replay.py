"""``cloudaudit replay``: dead letters of every stage through the pipeline again. A record whose mapping
was fixed becomes the event it would have been (same id, same location); what fails again is a new dead
letter with attempts + 1; sink letters go to the SIEM outputs only; the invariant holds for replays."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.base import MapContext
from connectors.normalize import Normalizer
from pipelines import batch, replay
from pipelines.cli import main
from pipelines.manifest import verify
from pipelines.settings import RunConfig, Settings
from pipelines.spill import canonical_line, encode_event
from schemas.deadletter import DeadLetter
from schemas.event import Event
from tests.conftest import ROOT
from tests.pipelines.conftest import fake, lines
from tests.pipelines.fakecloud import FakeCloud


class FixedFakeCloud(FakeCloud):
    """The mapping fix: a record without ``time`` takes it from ``logged`` instead of failing."""

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any]:
        if "time" not in record and "logged" in record:
            record = {**record, "time": record["logged"]}
        return super().map(record, ctx)


class HelloConnector(FakeCloud):
    """A new connector for a shape nobody claimed: ``{"hello": ..., "level": ...}``."""

    name = "hello"

    def claims(self, record: dict[str, Any]) -> bool:
        return "hello" in record

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any]:
        return super().map({"fakecloud": 1, "eventID": f"hello-{record['hello']}",
                            "time": "2024-05-01T12:00:00Z", "op": "Hello"}, ctx)


BROKEN = (FakeCloud(),)
FIXED = (FixedFakeCloud(), HelloConnector())


def read_lines(folder: Path) -> list[dict]:
    return [orjson.loads(x) for p in sorted(folder.glob("*.jsonl")) for x in p.read_bytes().splitlines() if x.strip()]


def parquet_ids(out: Path) -> Counter[str]:
    import pyarrow.parquet as pq

    return Counter(i for p in out.glob("cold/events/**/*.parquet") for i in pq.read_table(p).column("id").to_pylist())


def write_input(folder: Path) -> None:
    folder.mkdir(parents=True)
    no_time = [{k: v for k, v in fake(i).items() if k != "time"} | {"logged": f"2024-05-01T13:0{i}:00Z"}
               for i in range(5)]
    (folder / "a.jsonl").write_bytes(lines(*[fake(i) for i in range(10, 20)], *no_time) + b'{"broken": \n')
    (folder / "b.json").write_bytes(b'{"hello": "world", "level": 3}\n')


def test_replay_after_a_mapping_fix_makes_the_events_the_first_run_would_have(tmp_path: Path) -> None:
    write_input(tmp_path / "in")
    first = batch.run(RunConfig(inputs=[str(tmp_path / "in")], output=str(tmp_path / "run1"),
                                settings=Settings(connectors=BROKEN)))
    assert first.invariant_holds
    assert first.deadletters == {"map": {"missing_time": 5}, "parse": {"invalid_json": 1, "unknown_shape": 1}}
    letters = read_lines(tmp_path / "run1" / "deadletters")

    out = tmp_path / "replayed"
    summary = replay.run([str(tmp_path / "run1" / "deadletters")], str(out), Settings(connectors=FIXED))
    assert summary.ok and summary.invariant_holds, summary.invariant_text()
    assert summary.records_read == 7
    assert summary.written_total == 6  # 5 with a time now, 1 hello
    assert summary.deadletters == {"parse": {"invalid_json": 1}}

    # The same events a first run with the fix would have made: same ids, same locations.
    batch.run(RunConfig(inputs=[str(tmp_path / "in")], output=str(tmp_path / "direct"),
                        settings=Settings(connectors=FIXED)))
    direct_events = {e["id"]: e for e in read_lines(tmp_path / "direct" / "siem")}
    replayed = {e["id"]: e for e in read_lines(out / "siem")}
    assert set(replayed) <= set(direct_events)
    for i, e in replayed.items():  # the same event but for when it was ingested
        assert {**e, "when": {**e["when"], "ingested": None}} == {
            **direct_events[i], "when": {**direct_events[i]["when"], "ingested": None}
        }
    assert parquet_ids(out) == Counter(replayed.keys())
    assert verify(str(out)).ok

    # What failed again: a new letter, same payload and location, attempts 2; then 3.
    (again,) = read_lines(out / "deadletters")
    (orig,) = [d for d in letters if d["code"] == "invalid_json"]
    assert again["attempts"] == 2 and again["payload"] == orig["payload"] and again["location"] == orig["location"]
    third = replay.run([str(out / "deadletters")], str(tmp_path / "third"), Settings(connectors=FIXED))
    assert read_lines(tmp_path / "third" / "deadletters")[0]["attempts"] == 3
    assert third.invariant_holds


def test_replay_of_the_bundled_malformed_samples_through_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    first = batch.run(RunConfig(inputs=[str(ROOT / "samples" / "malformed")], output=str(out)))
    assert first.deadletters_total >= 5
    (letters_file,) = (out / "deadletters").glob("*.jsonl")
    assert main(["replay", str(letters_file), "--output", str(tmp_path / "again")]) == 0
    printed = capsys.readouterr().out
    assert "invariant" in printed and "holds" in printed
    again = read_lines(tmp_path / "again" / "deadletters")
    # Nothing was fixed: every letter fails again, one more attempt each; nothing is lost.
    assert len(again) == first.deadletters_total
    assert {d["attempts"] for d in again} == {2}
    assert Counter((d["stage"], d["code"]) for d in again) == Counter(
        (d["stage"], d["code"]) for d in read_lines(out / "deadletters")
    )


def _event(i: int) -> Event:
    (e,) = Normalizer(registered=BROKEN).blob(lines(fake(i)), f"s3://bucket/key.json#{i}")
    assert isinstance(e, Event)
    return e


def _sink_letter(event: Event, code: str) -> bytes:
    _id, json_without_raw, raw = encode_event(event)
    line = canonical_line(json_without_raw, raw)
    return DeadLetter("sink", code, "the SIEM did not take it", line, event.source.location or "").to_json()


def test_sink_letters_go_to_the_siem_outputs_not_twice_to_cold_storage(tmp_path: Path) -> None:
    events = [_event(i) for i in range(4)]
    letters = tmp_path / "letters.jsonl"
    letters.write_bytes(b"\n".join([
        _sink_letter(events[0], "retries_exhausted"),
        _sink_letter(events[1], "hec_rejected"),
        _sink_letter(events[2], "parquet_rejected"),  # never reached cold storage: goes there now
        DeadLetter("sink", "retries_exhausted", "x", b'{"id": "not an event"}', "loc").to_json(),
        b"this line is not a dead letter",
    ]) + b"\n")
    out = tmp_path / "out"
    summary = replay.run([str(letters)], str(out), Settings(connectors=BROKEN))
    assert summary.invariant_holds, summary.invariant_text()
    assert summary.records_read == 5 and summary.written_total == 3
    assert summary.deadletters == {"replay": {"invalid_event": 1, "invalid_deadletter": 1}}
    siem = Counter(e["id"] for e in read_lines(out / "siem"))
    assert siem == Counter([events[0].id, events[1].id, events[2].id])
    assert parquet_ids(out) == Counter([events[2].id])
    dead = read_lines(out / "deadletters")
    assert {d["attempts"] for d in dead if d["code"] == "invalid_event"} == {2}


def test_replay_into_an_idempotent_sink_twice_keeps_one_document_per_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers = pytest.importorskip("tests.sinks.servers", reason="the sink test servers (tests/sinks) are missing")
    pytest.importorskip("pipelines.sinks.transform", reason="WriteToSinks is not available")
    from pipelines.sinks import parse_sink

    monkeypatch.setenv("ELASTIC_API_KEY", "es-key-for-replay-tests")
    events = [_event(i) for i in range(6)]
    letters = tmp_path / "letters.jsonl"
    letters.write_bytes(b"\n".join(_sink_letter(e, "retries_exhausted") for e in events) + b"\n")
    with servers.BulkServer(api_key="es-key-for-replay-tests") as es:
        sink = parse_sink(f"elastic:{es.url}?index=cloudaudit-replay&retries=3&backoff=0.01")
        for n in (1, 2):  # the SIEM came back; then the same letters are replayed once more by mistake
            summary = replay.run([str(letters)], str(tmp_path / f"out{n}"), Settings(connectors=BROKEN), sinks=[sink])
            assert summary.invariant_holds
            assert summary.deadletters_total == 0
        # Sent twice, stored once: the _id is the event id, and the second time each is a conflict.
        assert sorted(es.ids()) == sorted(e.id for e in events)
        assert set(es.writes.values()) == {1}
        assert es.item_statuses[409] == len(events)


def test_a_file_that_could_not_be_opened_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "late.jsonl"
    letters = tmp_path / "letters.jsonl"
    letters.write_bytes(DeadLetter("read", "unreadable_file", "cannot open file: PermissionError", b"",
                                   str(path), attempts=2).to_json() + b"\n")
    path.write_bytes(lines(*[fake(i) for i in range(3)]))  # readable now
    summary = replay.run([str(letters)], str(tmp_path / "out"), Settings(connectors=BROKEN), reread_from=[str(tmp_path)])
    assert summary.ok and summary.written_total == 3 and summary.deadletters_total == 0
    path.unlink()  # gone for good: a new letter, one more attempt
    summary = replay.run([str(letters)], str(tmp_path / "out2"), Settings(connectors=BROKEN), reread_from=[str(tmp_path)])
    (again,) = read_lines(tmp_path / "out2" / "deadletters")
    assert (again["stage"], again["code"], again["attempts"]) == ("read", "unreadable_file", 3)
    assert summary.invariant_holds


def test_a_crafted_letter_cannot_make_replay_read_outside_reread_from(tmp_path: Path) -> None:
    secret = tmp_path / "home" / ".aws" / "credentials"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b'{"fakecloud": 1, "aws_secret_access_key": "planted-secret-value"}\n')
    inputs = tmp_path / "inputs"
    (inputs / "ok").mkdir(parents=True)
    (inputs / "ok" / "late.jsonl").write_bytes(lines(fake(1)))
    (inputs / "link").symlink_to(secret.parent)  # a link under the root that leads out of it
    crafted = [
        DeadLetter("read", "unreadable_file", "x", b"", str(secret)),
        DeadLetter("read", "unreadable_file", "x", b"", str(inputs / "ok" / ".." / ".." / "home" / ".aws" / "credentials")),
        DeadLetter("read", "unreadable_file", "x", b"", str(inputs / "link" / "credentials")),
        DeadLetter("parse", "invalid_json", "x", b"", str(secret)),  # a record letter without its record
        DeadLetter("read", "unreadable_file", "x", b"", str(inputs / "ok" / "late.jsonl")),
    ]
    letters = tmp_path / "letters.jsonl"
    letters.write_bytes(b"".join(d.to_json() + b"\n" for d in crafted))
    out = tmp_path / "out"
    summary = replay.run([str(letters)], str(out), Settings(connectors=BROKEN), reread_from=[str(inputs)])
    assert summary.written_total == 1 and summary.invariant_holds
    assert summary.deadletters == {"replay": {"reread_refused": 3}, "parse": {"invalid_json": 1}}
    for p in out.rglob("*"):
        if p.is_file():
            assert b"planted-secret-value" not in p.read_bytes(), p
    refused = [d for d in read_lines(out / "deadletters") if d["code"] == "reread_refused"]
    assert all("--reread-from" in d["reason"] for d in refused)
    # Without --reread-from nothing is re-read at all.
    summary = replay.run([str(letters)], str(tmp_path / "out2"), Settings(connectors=BROKEN))
    assert summary.written_total == 0 and summary.deadletters["replay"] == {"reread_refused": 4}
