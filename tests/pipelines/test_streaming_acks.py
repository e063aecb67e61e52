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
    # The rate's processing time: from the loop's first read to the last write its ledger heard of.
    assert 0 < summary.processing_seconds <= summary.elapsed_seconds and summary.startup_seconds >= 0
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


class _State:
    def __init__(self) -> None:
        self.value: object = None

    def read(self) -> object:
        return self.value

    def write(self, value: object) -> None:
        self.value = value


class _Timer:
    def set(self, when: object) -> None:
        self.when = when


def test_the_dedup_stage_releases_events_when_their_pane_is_committed(tmp_path: Path, with_fake: tuple) -> None:
    """The stage's side of the ledger, without a runner: a duplicate of an event still waiting in its
    window waits with it; the window's pane releases both; a later duplicate of a committed event is
    released at once; a too-late event waits for its dead-letter file."""
    from apache_beam.utils.timestamp import Timestamp

    from pipelines.layout import Layout
    from pipelines.local.acks import close_ledger, open_ledger
    from pipelines.settings import StreamSettings
    from pipelines.stages.deadletters import WriteDeadLettersFn
    from pipelines.stages.dedup import DedupWindowFn
    from pipelines.stages.normalize import EVENTS, StreamReader

    settings, stream = Settings(connectors=with_fake, dedup_shards=1), StreamSettings(60, 60, 3600)
    reader = StreamReader(settings, stream)

    def batch(i: int) -> tuple[int, tuple]:
        (found,) = [v for tag, v in [*reader.read_blob(f"q://{i}", lines(fake(i, "aws", 13)), None),
                                     *reader.flush()] if tag == EVENTS]
        return found[0][3], found

    layout = Layout(str(tmp_path / "out"), "RUNACK")
    ledger = open_ledger(layout.run_id)
    try:
        fn = DedupWindowFn(layout, settings, stream)
        fn.setup()
        state, tick = _State(), _Timer()
        first = batch(1)
        ident = first[1][1][0][0]
        ledger.register(1, [event_token(ident)])
        ledger.register(2, [event_token(ident)])
        list(fn.process(first, state, tick))
        list(fn.process(batch(1), state, tick))  # a redelivery while the first copy waits
        assert ledger.take_done() == []
        window_end = first[1][0][4] + stream.window_us
        list(fn.on_tick(state, tick, first[0], Timestamp(micros=window_end)))  # the on-time pane
        assert sorted(ledger.take_done()) == [1, 2]
        ledger.register(3, [event_token(ident)])
        list(fn.process(batch(1), state, tick))  # a duplicate of a committed event
        assert ledger.take_done() == [3]

        list(fn.on_tick(state, tick, first[0], Timestamp(micros=window_end + stream.lateness_us)))
        late = batch(61)  # another event at 13:01:07, in the window that just closed
        ledger.register(4, [event_token(late[1][1][0][0])])
        dead = [o.value for o in fn.process(late, state, tick) if getattr(o, "tag", None) == "deadletters"]
        assert len(dead) == 1 and ledger.take_done() == []
        WriteDeadLettersFn(layout).process(dead[0])
        assert ledger.take_done() == [4]
    finally:
        close_ledger(layout.run_id)
