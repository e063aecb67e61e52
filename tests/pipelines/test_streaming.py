"""The streaming pipeline: TestStream for duplicates, late, too-late events and the dedup TTL; a local
file queue as a stream source for at-least-once delivery across a crash and restart; the summary's
invariant. Each run takes a second or two on the local BundleBasedDirectRunner."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.test_stream import TestStream as BeamTestStream
from apache_beam.utils.timestamp import Timestamp

from pipelines import streaming
from pipelines.errors import UsageError
from pipelines.manifest import verify
from pipelines.settings import RunConfig, Settings
from tests.pipelines.conftest import fake, lines
from tests.pipelines.test_streaming_support import FileQueue, deadletters, parquet_ids, raw_count, siem_ids

T0 = Timestamp.from_rfc3339("2024-05-01T13:00:00Z")


def rec(i: int, at: str) -> dict:
    """A fake record with id ev-aws-<i> at 2024-05-01T13:<at>Z."""
    return fake(i, "aws", 13, time=f"2024-05-01T13:{at}Z")


def blob(name: str, *records: dict) -> tuple[str, bytes]:
    return f"test://{name}", lines(*records)


def config(tmp_path: Path, with_fake: tuple, shards: int = 2, **kw: object) -> RunConfig:
    settings = Settings(connectors=with_fake, dedup_shards=shards)
    return RunConfig(output=str(tmp_path / "out"), settings=settings, streaming=True, **kw)


def at(seconds: float) -> Timestamp:
    return T0 + seconds


def test_duplicate_late_and_too_late(tmp_path: Path, with_fake: tuple) -> None:
    e1, e2, e3, e4 = rec(1, "00:05"), rec(2, "00:20"), rec(3, "00:40"), rec(4, "00:50")
    stream = (
        BeamTestStream(coder=beam.coders.PickleCoder())
        .add_elements([beam.window.TimestampedValue(blob("b1", e1, e2), at(20))])
        .advance_watermark_to(at(70))  # window 13:00 ends at 13:01: its on-time pane is written
        .add_elements([beam.window.TimestampedValue(blob("b2", e3), at(70))])  # late, within lateness
        .add_elements([beam.window.TimestampedValue(blob("b3", e1), at(70))])  # a duplicate
        .advance_watermark_to(at(600))  # the window closed at 13:01 + 300 s
        .add_elements([beam.window.TimestampedValue(blob("b4", e4, e1), at(600))])  # too late; a duplicate
    )
    cfg = config(
        tmp_path, with_fake, 1, window_seconds=60, allowed_lateness_seconds=300, dedup_ttl_seconds=3600
    )
    summary = streaming.run(cfg, blobs=stream)
    out = tmp_path / "out"

    ids = siem_ids(out)
    assert len(ids) == 3 and set(ids.values()) == {1}
    assert parquet_ids(out) == ids
    assert raw_count(out) == 3
    letters = deadletters(out)
    assert [(d["stage"], d["code"]) for d in letters] == [("window", "too_late")]
    assert "ev-aws-4" in letters[0]["payload"] or "ev-aws-4" in str(letters[0])
    assert summary.duplicates_dropped == 2
    assert summary.records_read == 6 and summary.invariant_holds, summary.invariant_text()
    assert summary.deadletters == {"window": {"too_late": 1}}
    # The on-time pane and the late pane of window 13:00 are separate files.
    names = sorted(p.name for p in (out / "cold" / "events").rglob("*.parquet"))
    assert [n.split("-w")[1][:20] for n in names] == ["20240501T130000-p000", "20240501T130000-p001"]
    assert verify(str(out)).ok
    assert sorted(p.name.split("-w")[1][:20] for p in (out / "cold" / "ids").rglob("*.ids")) == [
        "20240501T130000-p000",
        "20240501T130000-p001",
    ]



def test_panes_write_the_security_lake_copy(tmp_path: Path, with_fake: tuple) -> None:
    """--security-lake with --streaming: each pane writes the OCSF copy of its events in Security Lake's
    layout (one class per file), beside its SIEM file; every SIEM event is there once, and a late pane
    adds its own file instead of rewriting the window's."""
    import io

    import pyarrow.parquet as pq

    from pipelines.securitylake import class_schema, source_name
    from schemas.projections import tables as t

    events = [rec(i, f"00:{i:02d}") for i in range(1, 9)]
    stream = (
        BeamTestStream(coder=beam.coders.PickleCoder())
        .add_elements([beam.window.TimestampedValue(blob("b1", *events[:6]), at(20))])
        .advance_watermark_to(at(70))  # window 13:00 ends: its on-time pane
        .add_elements([beam.window.TimestampedValue(blob("b2", *events[6:]), at(70))])  # late: its own pane
        .advance_watermark_to(at(600))
    )
    lake = tmp_path / "lake"
    cfg = config(tmp_path, with_fake, 1, window_seconds=60, allowed_lateness_seconds=300,
                 security_lake=str(lake), security_lake_prefix="ca")
    summary = streaming.run(cfg, blobs=stream)
    assert summary.ok, summary.invariant_text()
    siem = siem_ids(tmp_path / "out")
    assert len(siem) == len(events)
    sources = {source_name(uid, "ca"): uid for uid in t.OCSF_CLASSES}
    files = sorted(lake.rglob("*.parquet"))
    uids: list[str] = []
    for f in files:
        parts = f.relative_to(lake).parts
        assert parts[0] == "ext" and parts[1] in sources, parts
        assert [x.split("=")[0] for x in parts[2:5]] == ["region", "accountId", "eventDay"], parts
        table = pq.read_table(io.BytesIO(f.read_bytes()))
        assert table.schema == class_schema(sources[parts[1]])
        assert set(table.column("class_uid").to_pylist()) == {sources[parts[1]]}
        uids += [m["uid"] for m in table.column("metadata").to_pylist()]
    assert len(uids) == len(set(uids)) == len(events)  # each event once, across the two panes' files
    assert len(files) >= 2  # the late pane wrote its own file

def test_dedup_ttl_expires(tmp_path: Path, with_fake: tuple) -> None:
    """With a TTL shorter than window + lateness, an id is forgotten once the watermark passes its
    window's end + TTL: the same record arriving late after that is written again. With the default
    TTL (longer than window + lateness), it stays a duplicate."""
    e1 = rec(1, "00:10")

    def run(ttl: int, where: Path) -> tuple[dict, object]:
        stream = (
            BeamTestStream(coder=beam.coders.PickleCoder())
            .add_elements([beam.window.TimestampedValue(blob("b1", e1), at(10))])
            .advance_watermark_to(at(90))
            .advance_watermark_to(at(150))  # past 13:01 + 60 s: a 60 s TTL has expired
            # A few more steps, so that the timer set when the first pane was written fires (at 13:02)
            # before the next element is processed: the runner interleaves timers and elements freely.
            .advance_watermark_to(at(151))
            .advance_watermark_to(at(152))
            .advance_watermark_to(at(153))
            .add_elements([beam.window.TimestampedValue(blob("b2", e1), at(150))])
        )
        cfg = config(where, with_fake, window_seconds=60, allowed_lateness_seconds=600, dedup_ttl_seconds=ttl)
        summary = streaming.run(cfg, blobs=stream)
        return dict(siem_ids(where / "out")), summary

    ids, summary = run(60, tmp_path / "short")
    assert list(ids.values()) == [2] and summary.duplicates_dropped == 0 and summary.invariant_holds
    ids, summary = run(3600, tmp_path / "long")
    assert list(ids.values()) == [1] and summary.duplicates_dropped == 1 and summary.invariant_holds


def write_queue(folder: Path, n_files: int = 6, per_file: int = 20) -> set[str]:
    folder.mkdir(parents=True)
    for k in range(n_files):
        records = [fake(k * per_file + i, "aws", 13) for i in range(per_file)]
        (folder / f"m{k:03d}.jsonl").write_bytes(lines(*records))
    (folder / "m999_bad.jsonl").write_bytes(b'{"fakecloud": 1, "time": \n')
    return {f"ev-aws-{i}" for i in range(n_files * per_file)}


def test_file_queue_exactly_once_and_acked(tmp_path: Path, with_fake: tuple) -> None:
    queue = write_queue(tmp_path / "q")
    source = FileQueue(str(tmp_path / "q"))
    messages: list[str] = []
    summary = streaming.run(
        config(tmp_path, with_fake, idle_stop_seconds=1.0), messages.append, sources=[source]
    )
    ids = siem_ids(tmp_path / "out")
    assert len(ids) == len(queue) and set(ids.values()) == {1}
    assert parquet_ids(tmp_path / "out") == ids
    assert summary.invariant_holds and summary.ok, summary.invariant_text()
    assert summary.records_read == len(queue) + 1 and summary.deadletters_total == 1
    assert sum(summary.enrichment.get("catalog", {}).values()) == len(queue)  # enriched as in batch
    assert source.opened and source.closed and len(source.acked) == 7
    assert list((tmp_path / "q").iterdir()) == []  # every message acked, so deleted
    assert any("stopping" in m for m in messages) and any(m.startswith("done:") for m in messages)
    # Every pane lists its files in a manifest of its own: the output verifies.
    report = verify(str(tmp_path / "out"))
    assert report.ok and not report.extra, report


def test_restart_after_unacked_run_keeps_output_single(tmp_path: Path, with_fake: tuple) -> None:
    """First run: the consumer reads everything but never acknowledges (it died before acking). Second
    run on the same output: the queue delivers everything again; the id index of the first run's panes
    makes every record a duplicate, so the output holds each record once."""
    queue = write_queue(tmp_path / "q")
    first = streaming.run(
        config(tmp_path, with_fake, idle_stop_seconds=1.0),
        sources=[FileQueue(str(tmp_path / "q"), ack=False)],
    )
    assert first.written_total == len(queue)
    assert len(list((tmp_path / "q").iterdir())) == 7  # nothing acked: all still queued
    second = streaming.run(
        config(tmp_path, with_fake, idle_stop_seconds=1.0), sources=[FileQueue(str(tmp_path / "q"))]
    )
    assert second.written_total == 0 and second.duplicates_dropped == len(queue) and second.invariant_holds
    ids = siem_ids(tmp_path / "out")
    assert len(ids) == len(queue) and set(ids.values()) == {1}
    assert parquet_ids(tmp_path / "out") == ids
    assert list((tmp_path / "q").iterdir()) == []


def test_crash_mid_stream_then_restart(tmp_path: Path, with_fake: tuple) -> None:
    """The consumer crashes on its second poll: the run fails with nothing acknowledged past what had
    entered the pipeline. The restarted run reads the rest (and whatever was not acked) and the output
    holds every record once."""
    queue = write_queue(tmp_path / "q")
    crashing = FileQueue(str(tmp_path / "q"), fail_after_polls=1)
    with pytest.raises(Exception, match="simulated crash"):
        streaming.run(config(tmp_path, with_fake, idle_stop_seconds=1.0), sources=[crashing])
    summary = streaming.run(
        config(tmp_path, with_fake, idle_stop_seconds=1.0), sources=[FileQueue(str(tmp_path / "q"))]
    )
    assert summary.invariant_holds
    ids = siem_ids(tmp_path / "out")
    assert len(ids) == len(queue) and set(ids.values()) == {1}
    assert list((tmp_path / "q").iterdir()) == []


def test_usage_errors(tmp_path: Path, with_fake: tuple) -> None:
    with pytest.raises(UsageError, match="at least one stream"):
        streaming.run(config(tmp_path, with_fake))
    with pytest.raises(UsageError, match="divide an hour"):
        streaming.run(config(tmp_path, with_fake, window_seconds=7), sources=[FileQueue(str(tmp_path))])
    for runner in ("FnApiRunner", "DirectRunner"):
        with pytest.raises(UsageError, match=f"does not run on --runner {runner}"):
            streaming.run(RunConfig(output=str(tmp_path), beam_args=[f"--runner={runner}"]), sources=[])
    assert streaming.streaming_options(["--runner=DataflowRunner"])[1] is False  # the splittable reading step
    assert streaming.streaming_options([])[1] is True


class _BrokenFetch(FileQueue):
    """Announces one file it cannot fetch (a Delivery with error) and fails to close."""

    def poll(self, max_items: int, wait_seconds: float):  # type: ignore[no-untyped-def]
        from connectors.sources import Delivery

        got = list(super().poll(max_items, wait_seconds))
        if self.polls == 1:
            got.append(Delivery("queue://q/gone.json", b"", "gone", error="AccessDenied: no read permission"))
        return got

    def ack(self, deliveries):  # type: ignore[no-untyped-def]
        super().ack([d for d in deliveries if d.ack_id != "gone"])

    def close(self) -> None:
        raise OSError("connection reset")


def test_no_secret_in_logs_errors_or_deadletters(
    tmp_path: Path, with_fake: tuple, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = {
        "AWS_SECRET_ACCESS_KEY": "SECRETawsKEY0123456789",
        "AWS_SESSION_TOKEN": "SECRETsessionTOKEN",
        "AZURE_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=SECRETazureKEY==",
        "AZURE_CLIENT_SECRET": "SECRETclientSECRET",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    caplog.set_level("DEBUG")
    write_queue(tmp_path / "q", n_files=2, per_file=3)
    messages: list[str] = []
    summary = streaming.run(
        config(tmp_path, with_fake, idle_stop_seconds=1.0),
        messages.append,
        sources=[_BrokenFetch(str(tmp_path / "q"))],
    )
    assert summary.deadletters["read"]["unreadable_file"] == 1 and summary.invariant_holds
    out = tmp_path / "out"
    seen = caplog.text + "\n".join(messages) + str(summary.to_dict())
    seen += "".join(
        p.read_text(errors="replace") for p in out.rglob("*") if p.is_file() and p.suffix != ".parquet"
    )
    for value in secrets.values():
        assert "SECRET" not in seen, value
    # A source that fails: the error says which, and holds no secret either.
    with pytest.raises(RuntimeError, match="a stream source failed") as failed:
        streaming.run(
            config(tmp_path / "again", with_fake, idle_stop_seconds=1.0),
            sources=[FileQueue(str(tmp_path / "q"), fail_after_polls=0)],
        )
    assert "SECRET" not in str(failed.value)


class _Interrupting(FileQueue):
    """Sends this process a SIGINT (a user's Ctrl-C) on its third poll."""

    def poll(self, max_items: int, wait_seconds: float):  # type: ignore[no-untyped-def]
        got = super().poll(max_items, wait_seconds)
        if self.polls == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return got


def test_ctrl_c_drains(tmp_path: Path, with_fake: tuple) -> None:
    """Without --idle-stop the stream runs until interrupted; a first Ctrl-C ends the poll loop and the
    pipeline drains: every window written, every delivery acknowledged, nothing lost."""
    queue = write_queue(tmp_path / "q", n_files=3, per_file=5)
    messages: list[str] = []
    summary = streaming.run(
        config(tmp_path, with_fake), messages.append, sources=[_Interrupting(str(tmp_path / "q"))]
    )
    assert any("interrupt" in m for m in messages)
    ids = siem_ids(tmp_path / "out")
    assert len(ids) == len(queue) and set(ids.values()) == {1}
    assert summary.ok and list((tmp_path / "q").iterdir()) == []


def test_splittable_poll_reads_acks_after_commit_and_ends_when_idle(tmp_path: Path, with_fake: tuple) -> None:
    """The portable reading step (``PollSourcesFn``, for runners with full splittable-DoFn support such as
    Dataflow) on the FnApiRunner: every delivery read once, acknowledged by the bundle finalizer (after
    the runner committed the bundle), the restriction finished after the idle time."""
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.testing.util import assert_that, equal_to

    from pipelines.settings import Settings
    from pipelines.streaming import COUNTS, EVENTS, PollSourcesFn, ReadStreamsSDF, StreamSettings

    queue = write_queue(tmp_path / "q", n_files=4, per_file=5)
    fn = PollSourcesFn(
        [],
        Settings(connectors=with_fake),
        StreamSettings(),
        idle_stop=0.5,
        sources=[FileQueue(str(tmp_path / "q"))],
        max_items=2,
    )

    def totals(elements: list) -> list[tuple[str, int]]:
        events = sum(len(v[1]) for tag, v in elements if tag == EVENTS)
        records = sum(v.get("records_read", 0) for tag, v in elements if tag == COUNTS)
        deliveries = sum(v.get("stream/deliveries", 0) for tag, v in elements if tag == COUNTS)
        return [("events", events), ("records", records), ("deliveries", deliveries)]

    with beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"])) as p:
        read = p | ReadStreamsSDF(fn)
        summed = read | beam.combiners.ToList() | beam.FlatMap(totals)
        assert_that(
            summed, equal_to([("events", len(queue)), ("records", len(queue) + 1), ("deliveries", 5)])
        )
    assert list((tmp_path / "q").iterdir()) == []  # all acknowledged, by the finalizer


class _AckFails(FileQueue):
    def ack(self, deliveries):  # type: ignore[no-untyped-def]
        raise ConnectionError("the queue went away")


def test_failed_ack_is_not_fatal(tmp_path: Path, with_fake: tuple, caplog: pytest.LogCaptureFixture) -> None:
    """An acknowledgement that fails leaves the deliveries to come again (deduplicated then): the run
    goes on, writes everything, warns, and lists the unacknowledged deliveries as a problem."""
    queue = write_queue(tmp_path / "q", n_files=2, per_file=4)
    summary = streaming.run(
        config(tmp_path, with_fake, idle_stop_seconds=0.5), sources=[_AckFails(str(tmp_path / "q"))]
    )
    assert len(siem_ids(tmp_path / "out")) == len(queue) and summary.invariant_holds
    assert summary.problems == ["3 deliveries were not acknowledged (they will come again)"]
    assert "ConnectionError" in caplog.text and len(list((tmp_path / "q").iterdir())) == 3


def test_watermark_rule() -> None:
    """The newest event time every source delivered; a source quiet for longer than window + lateness
    stops holding the others back."""
    from pipelines.settings import Settings
    from pipelines.streaming import PollLoop, StreamSettings

    loop = PollLoop([], [], Settings(), StreamSettings(window_seconds=60, allowed_lateness_seconds=60), None)
    assert loop.watermark() is None
    loop._newest = {0: 1_000, 1: 5_000}
    now = time.monotonic()
    loop._last_seen = {0: now, 1: now}
    assert loop.watermark() == 1_000
    loop._last_seen[0] = now - 121  # source 0 quiet for more than 120 s
    assert loop.watermark() == 5_000
    loop._last_seen[1] = now - 121  # every source quiet: the newest anyone delivered
    assert loop.watermark() == 5_000


def test_enrichment_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference data is looked up again every refresh_seconds; a reload that fails keeps the
    previous context instead of stopping the stream."""
    from types import SimpleNamespace

    from enrichers.config import EnrichmentConfig

    clock = [100.0]
    loads: list[int] = []
    contexts = [SimpleNamespace(chain=[1]), SimpleNamespace(chain=[2])]

    def load(config: EnrichmentConfig) -> object:
        loads.append(1)
        if len(loads) == 3:
            raise ValueError("directory.csv: line 3: not CSV")
        return contexts[min(len(loads), 2) - 1]

    from pipelines.stages import normalize

    monkeypatch.setattr(normalize, "load_context", load)
    monkeypatch.setattr(normalize.time, "monotonic", lambda: clock[0])
    refresh = streaming.EnrichmentRefresh(EnrichmentConfig(refresh_seconds=60))
    assert refresh.current() is contexts[0] and len(loads) == 1
    clock[0] += 30
    assert refresh.current() is contexts[0] and len(loads) == 1  # within the period: no reload
    clock[0] += 31
    assert refresh.current() is contexts[1] and len(loads) == 2  # a changed file: the new context
    clock[0] += 61
    assert refresh.current() is contexts[1] and len(loads) == 3  # a broken file: the previous one stays


class _WatchedQueue(FileQueue):
    """A FileQueue that, once drained, keeps the stream open (no delivery, so the watermark stays inside
    the first window) until the SIEM endpoint has every event, or a bound of polls is reached."""

    def __init__(self, folder: str, hec: object, expected: int) -> None:
        super().__init__(folder)
        self.hec = hec
        self.expected = expected
        self.delivered_while_open = False
        self.quiet_polls = 0

    def poll(self, max_items: int, wait_seconds: float):  # type: ignore[no-untyped-def]
        out = super().poll(max_items, wait_seconds)
        if not out:
            self.quiet_polls += 1
            if len(self.hec.ids()) >= self.expected:  # type: ignore[attr-defined]
                self.delivered_while_open = True
        return out


def test_siem_delivery_does_not_wait_for_the_window(tmp_path: Path, with_fake: tuple, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """New events go to the SIEM sinks as soon as they are deduplicated; only cold storage waits for its
    event-time window (300 s here, never closed while the stream runs: the newest event is 13:00:30)."""
    from pipelines.sinks import parse_sink
    from tests.sinks.servers import HecServer

    queue = tmp_path / "q"
    queue.mkdir()
    (queue / "m0.jsonl").write_bytes(lines(*[rec(i, f"00:{i:02d}") for i in range(30)]))
    monkeypatch.setenv("SPLUNK_HEC_TOKEN", "live-token")
    with HecServer("live-token") as hec:
        source = _WatchedQueue(str(queue), hec, expected=30)
        cfg = config(tmp_path, with_fake, idle_stop_seconds=20.0, window_seconds=300,
                     sinks=[parse_sink(f"hec:{hec.url}?backoff=0.01&timeout=2")])
        # Stop as soon as the SIEM has the events (or after the idle bound): a first Ctrl-C's drain.
        original = source.poll

        def poll(max_items: int, wait_seconds: float):  # type: ignore[no-untyped-def]
            out = original(max_items, wait_seconds)
            if source.delivered_while_open:
                raise _Done
            return out

        source.poll = poll  # type: ignore[method-assign]
        with pytest.raises(RuntimeError, match="_Done"):
            streaming.run(cfg, sources=[source])
        assert source.delivered_while_open, "the SIEM got the events only when the window closed"
        assert len(set(hec.ids())) == 30


class _Done(Exception):
    pass
