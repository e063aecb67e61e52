"""Acknowledge after the write: the ledger of rounds and tokens, and the local streaming run acknowledging
a delivery only once every event it carried is in a committed pane (or its dead letter is written)."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from pathlib import Path

import orjson
import pyarrow.parquet as pq

from connectors.sources import Delivery
from pipelines import streaming
from pipelines.local.acks import AckLedger, blob_token, event_token
from pipelines.settings import RunConfig, Settings
from tests.pipelines.conftest import fake, lines
from tests.pipelines.test_streaming_support import FileQueue, parquet_ids


def test_a_round_is_done_when_every_token_is_durable() -> None:
    ledger = AckLedger()
    ledger.register(1, ["ea", "eb", "ea"])
    ledger.register(2, [])  # a round that carried nothing to store (e.g. only non-events)
    ledger.register(3, ["eb", "ec"])  # "eb" again: a redelivery while the first copy waits
    assert ledger.take_done() == [2] and ledger.pending == 2
    ledger.durable(["ea"])
    assert ledger.take_done() == []
    ledger.durable(["eb"])  # the one pane that holds eb releases both rounds' wait for it
    assert ledger.take_done() == [1] and ledger.pending == 1
    ledger.durable(["eb", "zz"])  # unknown or already released: nothing happens
    assert ledger.take_done() == []
    ledger.durable(["ec"])
    assert ledger.take_done() == [3] and ledger.pending == 0


def test_an_event_that_becomes_a_dead_letter_waits_for_the_dead_letter_file() -> None:
    ledger = AckLedger()
    ledger.register(1, ["ea", "eb"])
    ledger.register(2, ["ec", "dx"])
    ledger.transfer(["ea", "eb"], "dy")  # too late: both go to one dead-letter batch
    ledger.transfer(["ec"], "dx")  # into a batch round 2 already waits for: one wait fewer
    ledger.durable(["dx"])
    assert ledger.take_done() == [2]
    ledger.durable(["dy"])
    assert ledger.take_done() == [1]
    assert event_token("a") == "ea" and blob_token(b"x").startswith("d") and len(blob_token(b"x")) == 41


def _committed(out: Path) -> tuple[set[str], set[str]]:
    """(native ids in Parquet files some manifest lists, locations in written dead letters)."""
    ids: set[str] = set()
    for manifest in (out / "cold" / "_manifests").glob("*.jsonl"):
        for line in manifest.read_bytes().splitlines():
            entry = orjson.loads(line)
            if entry["path"].endswith(".parquet"):
                source = pq.read_table(out / entry["path"], columns=["source"]).column("source").to_pylist()
                ids.update(s["native_id"] for s in source)
    locations = set()
    for path in (out / "deadletters").glob("*.jsonl") if (out / "deadletters").exists() else []:
        for line in path.read_bytes().splitlines():
            if line:
                locations.add(orjson.loads(line)["location"].split("#")[0])
    return ids, locations


class _CheckingQueue(FileQueue):
    """Checks, at each acknowledgement, that what the delivery carried is already durable."""

    def __init__(self, folder: str, out: Path) -> None:
        super().__init__(folder)
        self.out = out
        self.early: list[str] = []
        self.carried: dict[str, set[str]] = {}

    def poll(self, max_items: int, wait_seconds: float) -> Sequence[Delivery]:
        got = super().poll(max_items, wait_seconds)
        for d in got:
            self.carried[d.ack_id] = {
                orjson.loads(line)["eventID"] for line in d.data.splitlines() if b'"eventID"' in line
            }
        return got

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        ids, locations = _committed(self.out)
        for d in deliveries:
            carried = self.carried[d.ack_id]
            if (carried and not carried <= ids) or (not carried and d.location not in locations):
                self.early.append(d.ack_id)
        super().ack(deliveries)


def test_deliveries_are_acknowledged_only_after_their_events_are_committed(tmp_path: Path, with_fake: tuple) -> None:
    """One hour-long window: its pane is written only at the end (the drain), so every acknowledgement
    waits for it; the bad message waits for its dead letter. Everything is acked by the end."""
    q = tmp_path / "q"
    q.mkdir()
    for k in range(4):
        (q / f"m{k}.jsonl").write_bytes(lines(*[fake(k * 5 + i, "aws", 13) for i in range(5)]))
    (q / "m9_bad.jsonl").write_bytes(b'{"fakecloud": 1, "time": \n')
    out = tmp_path / "out"
    source = _CheckingQueue(str(q), out)
    config = RunConfig(
        output=str(out), settings=Settings(connectors=with_fake, dedup_shards=1), streaming=True,
        idle_stop_seconds=1.0, window_seconds=3600,
    )
    summary = streaming.run(config, sources=[source])
    assert summary.invariant_holds and summary.ok, summary.invariant_text()
    assert sorted(source.acked) == sorted(["m0.jsonl", "m1.jsonl", "m2.jsonl", "m3.jsonl", "m9_bad.jsonl"])
    assert source.early == []
    assert len(parquet_ids(out)) == 20 and list(q.iterdir()) == []
    # Streaming runs take the output's lock and keep a summary per run, as batch runs do.
    assert not (out / "_run.lock").exists()
    assert (out / "cold" / "_manifests" / f"{summary.run_id}.summary.json").exists()


class _Terminating(FileQueue):
    """Sends this process a SIGTERM (a container being stopped) on its third poll."""

    def poll(self, max_items: int, wait_seconds: float):  # type: ignore[no-untyped-def]
        got = super().poll(max_items, wait_seconds)
        if self.polls == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return got


def test_sigterm_drains_and_acknowledges_what_was_written(tmp_path: Path, with_fake: tuple) -> None:
    q = tmp_path / "q"
    q.mkdir()
    for k in range(3):
        (q / f"m{k}.jsonl").write_bytes(lines(*[fake(k * 5 + i, "aws", 13) for i in range(5)]))
    messages: list[str] = []
    config = RunConfig(output=str(tmp_path / "out"), settings=Settings(connectors=with_fake), streaming=True)
    summary = streaming.run(config, messages.append, sources=[_Terminating(str(q))])
    assert any(m.startswith("SIGTERM: finishing") for m in messages)
    assert summary.ok and summary.written_total == 15 and list(q.iterdir()) == []
