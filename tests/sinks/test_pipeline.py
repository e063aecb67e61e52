"""``cloudaudit run --sink ...`` end to end: the batch pipeline on the local runner sending to local
HEC and _bulk endpoints that fail at random; every event written is in each sink exactly once or in
the dead letters, and the run summary's per-sink counts add up."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path

import orjson
import pytest

from pipelines.summary import from_counters
from tests.conftest import ROOT
from tests.pipelines.conftest import console_entry
from tests.sinks.conftest import FAST, HANGS
from tests.sinks.servers import BulkServer, Faults, HecServer

pytestmark = pytest.mark.slow


def read_lines(paths: list[Path]) -> list[dict]:
    return [orjson.loads(line) for p in paths for line in p.read_bytes().splitlines() if line.strip()]


def test_run_with_sinks_under_faults(tmp_path: Path) -> None:
    out = tmp_path / "out"
    hec_faults = Faults(seed=21, p429=0.1, p503=0.1, reset=0.1, timeout=0.01, hang_seconds=0.4)
    es_faults = Faults(seed=22, p429=0.1, reset=0.1, lost=0.1, timeout=0.01, hang_seconds=0.4)
    # A third sink whose endpoint keeps failing and that retries once: its events end as dead letters.
    bad_faults = Faults(seed=23, p503=0.5, reset=0.2)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SPLUNK_HEC_TOKEN": "hec-token-for-tests",
        "ELASTIC_API_KEY": "es-key-for-tests",
    }
    with (
        HecServer("hec-token-for-tests", faults=hec_faults, ack=True, ack_loss=0.05) as hec,
        BulkServer("es-key-for-tests", faults=es_faults, item_429=0.05) as es,
        HecServer("hec-token-for-tests", faults=bad_faults) as bad,
    ):
        proc = subprocess.run(
            [
                *console_entry(), "run", "--input", "samples", "--output", str(out),
                "--sink", f"hec:{hec.url}?index=audit&ack=true&ack_poll=0.01&ack_timeout=0.15&retries=10&{HANGS}",
                "--sink", f"elastic:{es.url}?index=cloudaudit-{{date}}&retries=10&{HANGS}",
                # Its breaker is kept shut (retries run out per batch), and its dead letters allowed. No acks,
                # so a stalled answer sent again would be a duplicate: FAST's patient timeout.
                "--sink", f"hec:{bad.url}?retries=1&breaker_batches=1000&{FAST}", "--max-deadletter-ratio", "1",
            ],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
        )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    summary = orjson.loads((out / "_summary.json").read_bytes())
    assert summary["invariant"]["holds"], summary["invariant"]
    assert summary["sinks_invariant"]["holds"], summary["sinks_invariant"]
    written = summary["events_written_total"]
    assert set(summary["sinks"]) == {"hec", "elastic", "hec-2"}

    siem_ids = [e["id"] for e in read_lines(sorted(out.glob("siem/*.jsonl")))]
    assert len(siem_ids) == len(set(siem_ids)) == written
    letters = read_lines(sorted(out.glob("deadletters/*.jsonl")))
    sink_letters = [d for d in letters if d["stage"] == "sink" and d["reason"].startswith("sink ")]
    assert len(letters) - len(sink_letters) == summary["deadletters_total"]

    for name, srv in (("hec", hec), ("elastic", es), ("hec-2", bad)):
        counts = summary["sinks"][name]
        dead = [orjson.loads(d["payload"])["id"] for d in sink_letters if d["reason"].startswith(f"sink {name} ")]
        in_sink = Counter(srv.ids())
        assert max(in_sink.values(), default=1) == 1, f"{name}: an event arrived twice"
        assert sorted([*in_sink, *dead]) == sorted(siem_ids), name
        assert counts["events"] == written
        assert counts["delivered"] == len(in_sink)
        assert sum(counts["deadletters"].values()) == len(dead)
    assert summary["sinks"]["hec-2"]["deadletters"].get("retries_exhausted", 0) > 0
    assert "sink hec-2" in proc.stdout and "delivered" in proc.stdout


def test_summary_counts_sinks_beside_the_invariant() -> None:
    counters = {
        "records_read": 10, "events_written/aws/success": 8, "deadletters/parse/invalid_json": 2,
        "sinks/hec/events": 8, "sinks/hec/delivered": 6, "sinks/hec/deadletters/retries_exhausted": 2,
        "sinks/es/events": 8, "sinks/es/delivered": 8,
    }
    s = from_counters(counters)
    assert s.invariant_holds and s.sinks_hold and s.ok  # sink dead letters are not in the main sum
    assert s.deadletters_total == 2
    assert s.sinks["hec"] == {"events": 8, "delivered": 6, "deadletters": {"retries_exhausted": 2}}
    assert s.to_dict()["sinks_invariant"]["holds"]
    lost = from_counters({**counters, "sinks/es/delivered": 7})
    assert not lost.sinks_hold and not lost.ok
    assert "VIOLATED" in lost.sink_text("es")


def test_streaming_run_sends_to_the_sinks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same sinks on the streaming pipeline's SIEM batches (local file queue as the stream)."""
    from pipelines import streaming
    from pipelines.settings import RunConfig, Settings
    from pipelines.sinks import parse_sink
    from tests.pipelines.conftest import FAKE, fake, lines
    from tests.pipelines.test_streaming_support import FileQueue, siem_ids

    queue = tmp_path / "q"
    queue.mkdir()
    for k in range(4):
        (queue / f"m{k}.jsonl").write_bytes(lines(*[fake(k * 25 + i, "aws", 13) for i in range(25)]))
    monkeypatch.setenv("SPLUNK_HEC_TOKEN", "stream-token")
    faults = Faults(seed=31, p429=0.15, p503=0.15, reset=0.1)
    with HecServer("stream-token", faults=faults) as hec:
        config = RunConfig(
            output=str(tmp_path / "out"), settings=Settings(connectors=FAKE), streaming=True,
            idle_stop_seconds=1.0, sinks=[parse_sink(f"hec:{hec.url}?retries=10&{FAST}")],
        )
        summary = streaming.run(config, sources=[FileQueue(str(queue))])
    written = siem_ids(tmp_path / "out")
    assert len(written) == 100
    assert summary.ok and summary.sinks_hold, summary.sinks
    assert summary.sinks["hec"]["delivered"] == 100 == summary.sinks["hec"]["events"]
    assert Counter(hec.ids()) == Counter(set(written))
