"""End-to-end runs of the batch pipeline on the local runner (a few seconds each)."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from connectors.errors import NonEvent
from connectors.normalize import Normalizer
from pipelines import batch
from pipelines.settings import RunConfig, Settings
from pipelines.summary import Summary
from schemas.arrow import arrow_schema
from schemas.deadletter import DeadLetter
from schemas.event import Event
from tests.pipelines.conftest import BIG_RECORD_BYTES

pytestmark = pytest.mark.slow


def expected_from_normalizer(paths: list[Path], registered: tuple) -> dict:
    """What a correct run reports, worked out by the normalizer alone, file by file."""
    n = Normalizer(registered=registered)
    read = 0
    ids: set[str] = set()
    events = 0
    dead: Counter[tuple[str, str]] = Counter()
    non_events: Counter[str] = Counter()
    for p in paths:
        with open(p, "rb") as f:
            for r in n.stream(f, str(p)):
                read += 1
                if isinstance(r, Event):
                    events += 1
                    ids.add(r.id)
                elif isinstance(r, DeadLetter):
                    dead[(r.stage, r.code)] += 1
                elif isinstance(r, NonEvent):
                    non_events[r.kind] += 1
    return {"read": read, "ids": ids, "duplicates": events - len(ids), "dead": dead, "non_events": non_events}


def files_under(root: Path, pattern: str) -> list[Path]:
    return sorted(p for p in root.glob(pattern) if p.is_file())


def read_json_lines(paths: list[Path]) -> list[dict]:
    return [orjson.loads(line) for p in paths for line in p.read_bytes().splitlines() if line.strip()]


def check_output_tree(out: Path, summary: Summary) -> list[dict]:
    """What must hold for any run: returns the SIEM events."""
    assert summary.invariant_holds, summary.invariant_text()
    assert summary.ok, summary.problems
    # The stages measured the processing (first read to last write): on one worker or several processes.
    assert 0 < summary.processing_seconds <= summary.elapsed_seconds and summary.startup_seconds >= 0
    leftovers = [p for p in out.rglob("*") if any(s in p.name for s in ("beam-temp", ".temp", "_tmp-"))]
    assert leftovers == []

    siem = read_json_lines(files_under(out, "siem/*.jsonl"))
    ids = [e["id"] for e in siem]
    assert len(ids) == len(set(ids)) == summary.written_total

    parquet_files = files_under(out, "cold/events/**/*.parquet")
    assert len(parquet_files) == summary.parquet_files
    rows = 0
    for p in parquet_files:
        provider, date, hour = (part.split("=", 1)[1] for part in p.parent.relative_to(out / "cold/events").parts)
        table = pq.read_table(p)
        assert table.schema.equals(arrow_schema()), p
        rows += table.num_rows
        for row in table.select(["where", "when"]).to_pylist():
            assert row["where"]["provider"] == provider
            assert row["when"]["time"].strftime("%Y-%m-%d %H") == f"{date} {hour}"
    assert rows == summary.written_total

    letters = read_json_lines(files_under(out, "deadletters/*.jsonl"))
    assert len(letters) == summary.deadletters_total
    for d in letters:
        assert {"stage", "code", "reason", "location", "payload_bytes", "time"} <= d.keys()
        assert ("payload" in d) != ("payload_b64" in d)
        assert d["reason"] and d["location"]
        assert len(DeadLetter.from_dict(d).payload) == d["payload_bytes"]

    saved = orjson.loads((out / "_summary.json").read_bytes())
    assert saved["records_read"] == summary.records_read
    assert saved["invariant"]["holds"] is True
    return siem


def test_mixed_input(mixed_input: dict[str, Path], with_fake: tuple, tmp_path: Path) -> None:
    root = next(iter(mixed_input.values())).parent.parent
    twice = mixed_input["fake/events.jsonl"]
    out = tmp_path / "out"
    config = RunConfig(
        inputs=[str(root), str(twice)],  # one file given twice: every record of it again
        output=str(out),
        settings=Settings(connectors=with_fake, batch_size=16, dedup_shards=2),
    )
    progress: list[str] = []
    summary = batch.run(config, progress=progress.append)
    assert progress and "matched 12 files" in progress[0]

    want = expected_from_normalizer([*mixed_input.values(), twice], with_fake)
    assert summary.records_read == want["read"]
    assert summary.files_read == 12
    assert summary.written_total == len(want["ids"])
    assert summary.duplicates_dropped == want["duplicates"]
    assert summary.duplicates_dropped >= 71 + 1  # the file again, and its duplicated line
    got_dead = Counter({(s, c): n for s, by in summary.deadletters.items() for c, n in by.items()})
    assert got_dead == want["dead"]
    assert dict(summary.non_events) == dict(want["non_events"])
    for code in ("invalid_json", "corrupt_gzip", "empty_file", "missing_time", "oversized_record"):
        assert any(c == code for _s, c in got_dead), code

    siem = check_output_tree(out, summary)
    assert {e["id"] for e in siem} == want["ids"]
    assert {e["where"]["provider"] for e in siem} >= {"aws", "gcp", "azure"}

    letters = {d["code"]: d for d in read_json_lines(files_under(out, "deadletters/*.jsonl"))}
    big = letters["oversized_record"]
    assert big["stage"] == "parse" and big["payload_bytes"] > BIG_RECORD_BYTES
    assert big["location"] == f"{mixed_input['fake/big_record.jsonl']}#0"
    assert letters["invalid_json"]["payload"].startswith('{"fakecloud": 1, "time":')
    assert letters["corrupt_gzip"]["location"].startswith(str(mixed_input["fake/truncated.json.gz"]) + "#")
    assert letters["empty_file"]["location"] == str(mixed_input["fake/empty.json"])

    # Hive partitions for the stand-in events: aws 13h, gcp 14h and 09h (before the gzip cut), azure 23h.
    partitions = {p.parent.relative_to(out / "cold/events").as_posix() for p in out.glob("cold/events/**/*.parquet")}
    assert {
        "provider=aws/date=2024-05-01/hour=13",
        "provider=gcp/date=2024-05-01/hour=14",
        "provider=gcp/date=2024-05-01/hour=09",
        "provider=azure/date=2024-05-01/hour=23",
    } <= partitions
    raw = [
        line
        for p in files_under(out, "cold/raw/**/*.jsonl.gz")
        for line in gzip.decompress(p.read_bytes()).splitlines()
    ]
    assert len(raw) == summary.written_total
    assert summary.raw_files == summary.parquet_files


def test_worker_processes(mixed_input: dict[str, Path], with_fake: tuple, tmp_path: Path) -> None:
    """The same books on two local worker processes: the stages' code and the connectors travel."""
    root = next(iter(mixed_input.values())).parent.parent
    out = tmp_path / "out"
    config = RunConfig(
        inputs=[str(root / "fake")],
        output=str(out),
        settings=Settings(connectors=with_fake, batch_size=16),
        beam_args=["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"],
    )
    summary = batch.run(config)
    assert summary.runner == "FnApiRunner with 2 worker processes"
    want = expected_from_normalizer(sorted(p for p in (root / "fake").iterdir()), with_fake)
    assert summary.records_read == want["read"]
    assert summary.written_total == len(want["ids"]) > 0
    check_output_tree(out, summary)


def test_corpus(corpus_dir: Path, tmp_path: Path) -> None:
    """The shared real-shaped corpus through the registered connectors: whatever they map today, the
    books balance and every sink holds exactly the events written."""
    out = tmp_path / "out"
    clouds = [corpus_dir / c for c in ("aws", "gcp", "azure")]
    summary = batch.run(RunConfig(inputs=[str(c) for c in clouds], output=str(out)))
    files = [p for c in clouds for p in c.rglob("*") if p.is_file()]
    want = expected_from_normalizer(files, Normalizer().connectors)
    assert summary.records_read == want["read"]
    assert summary.written_total == len(want["ids"])
    check_output_tree(out, summary)


def test_mixed_input_through_the_runners_shuffle(mixed_input: dict[str, Path], with_fake: tuple, tmp_path: Path) -> None:
    """The distributed runners' path (event batches through GroupByKey, no spill files), run locally:
    the same books as the spill path."""
    root = next(iter(mixed_input.values())).parent.parent
    twice = mixed_input["fake/events.jsonl"]
    out = tmp_path / "out"
    config = RunConfig(
        inputs=[str(root), str(twice)],
        output=str(out),
        settings=Settings(connectors=with_fake, batch_size=16, dedup_shards=2),
        shuffle=True,
    )
    summary = batch.run(config)
    want = expected_from_normalizer([*mixed_input.values(), twice], with_fake)
    assert summary.records_read == want["read"]
    assert summary.written_total == len(want["ids"])
    assert summary.duplicates_dropped == want["duplicates"]
    got_dead = Counter({(s, c): n for s, by in summary.deadletters.items() for c, n in by.items()})
    assert got_dead == want["dead"]
    siem = check_output_tree(out, summary)
    assert {e["id"] for e in siem} == want["ids"]
