"""The streaming pipeline: stream sources -> normalize -> deduplicate -> event-time windows -> the same
outputs as batch (siem/, cold/events, cold/raw, deadletters/), until interrupted or idle.

```
ReadStreams (poll/ack loop, watermark) ─┐                      ┌─ panes: siem/, cold/events, cold/raw, cold/ids
   or blobs ─ NormalizeBlobs ───────────┴─ Route ─ (shard, batch) ─ DedupWindowFn ─┤
                                                 ├─ dead letters ─ WriteDeadLettersFn  └─ dead letters (too_late, ...)
                                                 └─ counts ─────── PushCountsFn
```

Why it is built this way:

- **Batches, not events.** The read side groups events by (provider, date, hour, shard, window) and hands
  each group over as one element; the stateful stage reads and writes its state once per batch. Beam's
  per-element cost for a stateful DoFn on the local runner (~250 elements/s) would otherwise be the limit.
- **One stateful stage, keyed by shard, in the global window.** ``DedupWindowFn`` keeps the ids it has
  seen (forgotten ``--dedup-ttl`` seconds of event time after their window), the events of each window
  not yet written, and the panes written per window. One event-time timer per shard fires at the next
  deadline (a window's end: its on-time pane; a window's end + allowed lateness: it closes; an id bucket's
  expiry). The last firing time is a lower bound of the watermark, and that is what lateness is judged
  against: an event whose window closed is a ``too_late`` dead letter, never dropped silently — which
  Beam's own GroupByKey would do, and why the windowing is done here rather than with ``WindowInto``.
- **Event time.** Element timestamps are the window starts of their events (``when.time``); the source
  loop advances the watermark to the newest event time every source has delivered (the minimum over the
  sources that delivered something), so out-of-order arrivals within ``--allowed-lateness`` still land,
  in a later pane's files.
- **Across a restart.** Every pane writes a small id index (``cold/ids/.../*.ids``) beside its Parquet
  file; at start-up each stateful worker loads the ids written to the same output within the dedup TTL
  (of the newest written window), so a delivery that was not acknowledged before a crash, and comes
  again, is dropped as a duplicate. The index is written after the pane's data: a crash between the two
  can repeat a pane's events (at least once), never lose them.

The local runner: Beam's Python ``BundleBasedDirectRunner`` in streaming mode runs state, timers and
watermarks; its splittable-DoFn support cannot run an unbounded poll loop (no watermark estimator, no
self-checkpointing), so ``ReadStreams`` drives the sources through the runner's TestStream machinery with a
lazily produced event list: each poll round is one bundle of elements followed by a watermark advance, and
the round's deliveries are acknowledged when the runner asks for the next event, that is after the
round's elements were committed to the pipeline. On runners with full splittable-DoFn support (Dataflow)
the same loop runs as ``PollSourcesFn``, acknowledging in a bundle finalizer. See docs/streaming.md for
what each guarantees.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import itertools
import logging
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import apache_beam as beam
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam import coders
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.iobase import RestrictionProgress, RestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import StandardOptions
from apache_beam.testing.test_stream import ElementEvent, TestStream, WatermarkEvent
from apache_beam.transforms import userstate
from apache_beam.transforms.core import RestrictionProvider, WatermarkEstimatorProvider
from apache_beam.transforms.window import TimestampedValue
from apache_beam.typehints import typehints
from apache_beam.utils.timestamp import MAX_TIMESTAMP, MIN_TIMESTAMP, Duration, Timestamp

from connectors.sources import Delivery, SourceError, SourceSpec, StreamSource, resolve
from enrichers.beam import prepare as prepare_enrichment
from enrichers.config import EnrichmentConfig
from enrichers.context import EnrichmentContext, load_context
from pipelines import summary as names
from pipelines.batch import write_summary
from pipelines.errors import UsageError
from pipelines.layout import Layout, PartitionKey, new_run_id
from pipelines.manifest import (
    KIND_DEADLETTERS,
    KIND_PARQUET,
    KIND_RAW,
    KIND_SIEM,
    FileEntry,
    HashingStream,
    relative_path,
    write_manifest,
)
from pipelines.memory import bound_large_allocations
from pipelines.metrics import query_counters
from pipelines.options import check_output, pipeline_options, runner_text
from pipelines.read import DEADLETTERS, FileReader, partition_key
from pipelines.settings import RunConfig, Settings
from pipelines.sinks import WriteToSinks, check_sinks
from pipelines.sources import blob_parts, check_sources, describe
from pipelines.spill import SpilledEvent, canonical_line
from pipelines.store import PARQUET_COMPRESSION, RAW_GZIP_LEVEL, events_table, outcome_counts, raw_lines
from pipelines.summary import Summary, from_counters
from schemas.arrow import arrow_schema
from schemas.deadletter import DeadLetter
from schemas.event import Event

log = logging.getLogger(__name__)

STREAMING_RUNNER = "BundleBasedDirectRunner"
EVENTS = "events"
COUNTS = "counts"
# Counters only the streaming run has (the summary's invariant does not use them).
DELIVERIES = "stream/deliveries"
ROUNDS = "stream/poll_rounds"

MICROS = 1_000_000
# (provider, date, hour, shard, window start in microseconds): where a batch of events belongs.
WindowKey = tuple[str, str, str, int, int]


@dataclass(frozen=True)
class StreamSettings:
    """What the streaming stages need besides ``Settings``; pickled into the DoFns."""

    window_seconds: int = 300
    allowed_lateness_seconds: int = 3600
    dedup_ttl_seconds: int = 7200

    @property
    def window_us(self) -> int:
        return self.window_seconds * MICROS

    @property
    def lateness_us(self) -> int:
        return self.allowed_lateness_seconds * MICROS

    @property
    def ttl_us(self) -> int:
        return self.dedup_ttl_seconds * MICROS

    @classmethod
    def of(cls, config: RunConfig) -> StreamSettings:
        return cls(config.window_seconds, config.allowed_lateness_seconds, config.dedup_ttl_seconds)


def _micros(event: Event) -> int:
    t = event.when.time
    return int(t.timestamp()) * MICROS + t.microsecond


# --- read: blobs -> (window key, events) batches ---------------------------------------------------


class StreamReader(FileReader):
    """``FileReader`` that keeps events in memory grouped by window key instead of spilling them, and
    remembers the newest event time it saw (for the watermark)."""

    def __init__(self, settings: Settings, stream: StreamSettings) -> None:
        super().__init__(settings, spill_dir="")
        self.stream = stream
        self.newest_us: int | None = None

    def key_of(self, event: Event) -> Any:
        provider, date, hour, shard = partition_key(event, self.settings.dedup_shards)
        t = _micros(event)
        if self.newest_us is None or t > self.newest_us:
            self.newest_us = t
        return (provider, date, hour, shard, t - t % self.stream.window_us)

    def flush_events(self) -> Iterator[tuple[str, object]]:
        if not self._events:
            return
        for key, events in self._events.items():
            yield EVENTS, (key, events)
        self._events = {}
        self._event_count = self._event_bytes = 0

    def take_counts(self) -> dict[str, int]:
        counts = {k: v for k, v in self.counts.items() if v}
        self.counts.clear()
        return counts


def timestamped(tag: str, value: object) -> TimestampedValue:
    """A read output as a pipeline element: event batches at their window's start, the rest at 0 (they
    are handled at once, whatever the watermark)."""
    if tag == EVENTS:
        key = value[0]  # type: ignore[index]
        return TimestampedValue((tag, value), Timestamp(micros=key[4]))
    return TimestampedValue((tag, value), Timestamp(0))


class EnrichmentRefresh:
    """The enrichment context, looked up again every ``refresh_seconds`` (processing time): the reference
    files (directory, inventory, networks, catalog) change while a stream runs for days. A reload is one
    ``stat`` per file when nothing changed (``enrichers.context.load_context``). A file that became
    broken keeps the previous context (with a warning) rather than stopping the stream; the start-up
    check (``enrichers.beam.prepare`` in ``run``) refuses a broken file before anything is read.

    This is the slowly-changing side input pattern done inside the reading step: the local streaming
    runner cannot run ``PeriodicImpulse`` (a splittable DoFn), and the reading step is where batch
    applies enrichment too (``FileReader.add``)."""

    def __init__(self, config: EnrichmentConfig | None) -> None:
        self.config = config if config is not None else EnrichmentConfig()
        self.refreshes = 0
        self._context: EnrichmentContext | None = None
        self._loaded_at: float | None = None

    def current(self) -> EnrichmentContext | None:
        now = time.monotonic()
        if self._loaded_at is not None and now - self._loaded_at < self.config.refresh_seconds:
            return self._context
        self._loaded_at = now
        try:
            context = load_context(self.config)
        except Exception as exc:
            log.warning("enrichment reference data not reloaded, keeping the previous: %s", exc)
            return self._context
        if context is not self._context:
            self.refreshes += 1
        self._context = context if context.chain else None
        return self._context


class NormalizeBlobsFn(beam.DoFn):
    """Blobs (or ``Delivery``s) -> tagged read outputs, for inputs that are not a ``ReadStreams`` loop
    (a TestStream of blobs in tests, or any unbounded PCollection of blobs)."""

    def __init__(
        self, settings: Settings, stream: StreamSettings, enrichment: EnrichmentConfig | None = None
    ) -> None:
        self._settings = settings
        self._stream = stream
        self._enrichment_config = enrichment

    def setup(self) -> None:
        self._reader = StreamReader(self._settings, self._stream)
        self._enrichment = EnrichmentRefresh(self._enrichment_config)

    def process(self, element: Any) -> Iterator[TimestampedValue]:
        self._reader.reset()
        self._reader.enrichment = self._enrichment.current()
        location, data, error = blob_parts(element)
        outputs = list(self._reader.read_blob(location, data, error))
        outputs.extend(self._reader.flush())
        for tag, value in outputs:
            yield timestamped(tag, value)
        yield timestamped(COUNTS, self._reader.take_counts())


class NormalizeBlobs(beam.PTransform):
    """Blobs -> tagged read outputs (event batches at their window start, dead letters, counts)."""

    def __init__(
        self, settings: Settings, stream: StreamSettings, enrichment: EnrichmentConfig | None = None
    ) -> None:
        super().__init__()
        self._settings = settings
        self._stream = stream
        self._enrichment = enrichment

    def expand(self, blobs: beam.PCollection[Any]) -> beam.PCollection[Any]:
        return blobs | "Normalize" >> beam.ParDo(
            NormalizeBlobsFn(self._settings, self._stream, self._enrichment)
        )


# --- the poll loop ---------------------------------------------------------------------------------


@dataclass
class LoopStats:
    """What the poll loop has done so far (for the progress line)."""

    deliveries: int = 0
    acked: int = 0
    records: int = 0
    deadletters: int = 0
    rounds: int = 0
    ack_failures: int = 0
    watermark_us: int | None = None
    started: float = field(default_factory=time.monotonic)


class PollLoop:
    """Polls the sources round after round and produces TestStream events: one ``ElementEvent`` per round
    with deliveries, then a ``WatermarkEvent`` when the watermark moved. A round's deliveries are
    acknowledged when the next event is asked for (the runner has committed the round's bundle by then).
    Ends after ``idle_stop`` seconds without deliveries (the runner then advances the watermark to +inf,
    which fires every window), or never when ``idle_stop`` is None."""

    def __init__(
        self,
        sources: Sequence[StreamSource],
        names_: Sequence[str],
        settings: Settings,
        stream: StreamSettings,
        idle_stop: float | None,
        progress: Callable[[str], None] = lambda _m: None,
        progress_seconds: float = 30.0,
        max_items: int = 100,
        enrichment: EnrichmentConfig | None = None,
    ) -> None:
        self.sources = list(sources)
        self.names = list(names_)
        self.reader = StreamReader(settings, stream)
        self.enrichment = EnrichmentRefresh(enrichment)
        self.idle_stop = idle_stop
        self.progress = progress
        self.progress_seconds = progress_seconds
        self.max_items = max_items
        self.stats = LoopStats()
        self.error: BaseException | None = None
        self.stop_requested = False  # set by a first Ctrl-C: end after this round, and drain
        self._newest: dict[int, int] = {}  # source index -> newest event time delivered (us)
        self._last_seen: dict[int, float] = {}  # source index -> when it last delivered an event (monotonic)
        self._pending_parts: dict[Any, list[Delivery]] = {}

    def __iter__(self) -> Iterator[Any]:
        try:
            for source in self.sources:
                source.open()
            yield from self._rounds()
        except BaseException as exc:
            # The runner takes a failed event stream for an ended one (it advances the watermark to +inf
            # and finishes): remember the failure, so that ``run`` raises it after the drain.
            self.error = exc
            raise
        finally:
            for source in self.sources:
                try:
                    source.close()
                except Exception as exc:  # closing is best effort; the deliveries are acked already
                    log.warning("closing a stream source failed: %s", type(exc).__name__)

    def _rounds(self) -> Iterator[Any]:
        last_delivery = time.monotonic()
        last_progress = time.monotonic()
        wait = 1.0 if len(self.sources) == 1 else 0.5
        while True:
            started = time.monotonic()
            polled: list[tuple[int, Delivery]] = []
            for i, source in enumerate(self.sources):
                for delivery in source.poll(self.max_items, wait):
                    polled.append((i, delivery))
            self.stats.rounds += 1
            if polled:
                last_delivery = time.monotonic()
                elements = self.normalize_round(polled)
                yield ElementEvent(elements)
                # Asked for the next event: the round's elements are in the pipeline. Acknowledge them.
                self.acknowledge(polled)
                watermark = self.watermark()
                if watermark is not None and (
                    self.stats.watermark_us is None or watermark > self.stats.watermark_us
                ):
                    self.stats.watermark_us = watermark
                    yield WatermarkEvent(Timestamp(micros=watermark))
            if self.stop_requested:
                self.progress(f"stop requested: draining ({self.stats_text()})")
                return
            if not polled:
                if self.idle_stop is not None and time.monotonic() - last_delivery >= self.idle_stop:
                    self.progress(f"no delivery for {self.idle_stop:g}s: stopping ({self.stats_text()})")
                    return
                if time.monotonic() - started < 0.05:
                    time.sleep(0.2)  # a source that does not wait: do not spin
            if time.monotonic() - last_progress >= self.progress_seconds:
                last_progress = time.monotonic()
                self.progress(self.stats_text())

    def normalize_round(self, polled: list[tuple[int, Delivery]]) -> list[TimestampedValue]:
        outputs: list[tuple[str, object]] = []
        self.reader.enrichment = self.enrichment.current()
        for i, delivery in polled:
            self.reader.newest_us = None
            outputs.extend(self.reader.read_blob(delivery.location, delivery.data, delivery.error))
            if self.reader.newest_us is not None:
                self._newest[i] = max(self._newest.get(i, self.reader.newest_us), self.reader.newest_us)
                self._last_seen[i] = time.monotonic()
        outputs.extend(self.reader.flush())
        counts = self.reader.take_counts()
        counts[DELIVERIES] = len(polled)
        counts[ROUNDS] = 1
        self.stats.deliveries += len(polled)
        self.stats.records += counts.get(names.RECORDS_READ, 0)
        self.stats.deadletters += sum(v for k, v in counts.items() if k.startswith(names.DEADLETTERS + "/"))
        return [timestamped(tag, value) for tag, value in outputs] + [timestamped(COUNTS, counts)]

    def acknowledge(self, polled: list[tuple[int, Delivery]]) -> None:
        """Acknowledge per source; a message announcing several files once all its parts came."""
        by_source: dict[int, list[Delivery]] = {}
        for i, delivery in polled:
            if delivery.parts > 1:
                key = (i, _hashable(delivery.ack_id))
                parts = self._pending_parts.setdefault(key, [])
                parts.append(delivery)
                if len(parts) < delivery.parts:
                    continue
                del self._pending_parts[key]
                by_source.setdefault(i, []).extend(parts)
            else:
                by_source.setdefault(i, []).append(delivery)
        for i, acked in by_source.items():
            try:
                self.sources[i].ack(acked)
            except Exception as exc:
                # Not fatal: an unacknowledged delivery comes again and is dropped as a duplicate. Only the
                # error's type is logged: a client's message may quote a request.
                self.stats.ack_failures += len(acked)
                log.warning(
                    "acknowledging %d deliveries of %s failed (%s): they will come again",
                    len(acked),
                    self.names[i] if i < len(self.names) else f"source {i}",
                    type(exc).__name__,
                )
                continue
            self.stats.acked += len(acked)

    def watermark(self) -> int | None:
        """The newest event time every active source has delivered. A source that delivered nothing for
        longer than a window plus the allowed lateness (processing time) no longer holds the others back:
        a quiet Pub/Sub subscription must not keep CloudTrail's windows open for ever."""
        if not self._newest:
            return None
        now = time.monotonic()
        horizon = (self.reader.stream.window_us + self.reader.stream.lateness_us) / MICROS
        active = [t for i, t in self._newest.items() if now - self._last_seen.get(i, now) < horizon]
        return min(active) if active else max(self._newest.values())

    def stats_text(self) -> str:
        s = self.stats
        wm = "-" if s.watermark_us is None else Timestamp(micros=s.watermark_us).to_rfc3339()
        return (
            f"deliveries {s.deliveries}, records {s.records}, dead letters (read) {s.deadletters}, "
            f"acked {s.acked}, watermark {wm}, {time.monotonic() - s.started:.0f}s"
        )


def _hashable(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


class _Deferred:
    """A TestStream event list produced on demand. The direct runner's TestStream concatenates its
    set-up and tear-down events around ``_events`` and then iterates the result one event per bundle;
    this object keeps that lazy (``__radd__``/``__add__``) so the poll loop runs while the pipeline does."""

    def __init__(self, parts: list[Iterable[Any]]) -> None:
        self._parts = parts

    def __bool__(self) -> bool:
        return True

    def __radd__(self, other: list[Any]) -> _Deferred:
        return _Deferred([other, *self._parts])

    def __add__(self, other: list[Any]) -> _Deferred:
        return _Deferred([*self._parts, other])

    def __iter__(self) -> Iterator[Any]:
        return itertools.chain.from_iterable(self._parts)


class _LiveStream(TestStream):
    """A TestStream whose events come from a ``PollLoop`` as it runs (local runner only)."""

    def __init__(self, loop: Iterable[Any]) -> None:
        super().__init__(coder=coders.PickleCoder())
        self._events = _Deferred([loop])  # type: ignore[assignment]


class ReadStreams(beam.PTransform):
    """PBegin -> tagged read outputs (event batches at their window start, dead letters, counts) from
    stream sources, with the watermark of the loop. Runs on the local ``BundleBasedDirectRunner``."""

    def __init__(self, loop: PollLoop) -> None:
        super().__init__()
        self._loop = loop

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection[Any]:
        return pbegin | "Poll" >> _LiveStream(self._loop)


# --- the portable reading step: a splittable DoFn ------------------------------------------------


_FINISH = -1


class _Rounds(RestrictionTracker):
    """Poll rounds ``[start, stop)``, unbounded while ``stop`` is None. ``try_split(0)`` (a checkpoint)
    keeps the rounds claimed so far and hands the rest on; ``finish`` ends the stream."""

    def __init__(self, restriction: tuple[int, int | None]) -> None:
        self.start, self.stop = restriction
        self.claimed: int | None = None

    def current_restriction(self) -> tuple[int, int | None]:
        return self.start, self.stop

    def try_claim(self, position: int) -> bool:
        if position == _FINISH:  # the DoFn sees only a view of the tracker: this is how it ends the stream
            self.finish()
            return False
        if self.stop is not None and position >= self.stop:
            return False
        self.claimed = position
        return True

    def try_split(self, fraction_of_remainder: float) -> tuple[Any, Any] | None:
        if self.stop is not None:
            return None
        self.stop = self.claimed + 1 if self.claimed is not None else self.start
        return (self.start, self.stop), (self.stop, None)

    def finish(self) -> None:
        self.stop = self.claimed + 1 if self.claimed is not None else self.start

    def check_done(self) -> None:
        if self.stop is None:
            raise ValueError("poll rounds are unbounded: checkpoint (defer_remainder) or finish first")

    def current_progress(self) -> RestrictionProgress:
        return RestrictionProgress(completed=float(self.claimed or 0), remaining=1.0)

    def is_bounded(self) -> bool:
        return self.stop is not None


class _RoundsProvider(RestrictionProvider):
    def initial_restriction(self, element: Any) -> tuple[int, int | None]:
        return 0, None

    def create_tracker(self, restriction: tuple[int, int | None]) -> _Rounds:
        return _Rounds(restriction)

    def restriction_size(self, element: Any, restriction: tuple[int, int | None]) -> float:
        return 1.0

    def split(self, element: Any, restriction: tuple[int, int | None]) -> Iterator[tuple[int, int | None]]:
        yield restriction

    def truncate(self, element: Any, restriction: tuple[int, int | None]) -> None:
        return None  # on drain: stop polling


class _ManualWatermark(WatermarkEstimatorProvider):
    def initial_estimator_state(self, element: Any, restriction: Any) -> Timestamp:
        return MIN_TIMESTAMP

    def create_watermark_estimator(self, state: Any) -> ManualWatermarkEstimator:
        return ManualWatermarkEstimator(state)


_ROUNDS = beam.DoFn.RestrictionParam(_RoundsProvider())
_WATERMARK = beam.DoFn.WatermarkEstimatorParam(_ManualWatermark())


class PollSourcesFn(beam.DoFn):
    """The poll loop as a splittable DoFn, for runners with full splittable-DoFn support (Dataflow, and
    Beam's portable runners): each call is one poll round of every source, its outputs, a watermark
    estimate (the newest event time every source delivered) and a checkpoint (``defer_remainder``). The
    round's deliveries are acknowledged in a bundle finalizer, which the runner calls only after it has
    durably committed the bundle's outputs: at least once end to end. After ``idle_stop`` seconds without
    a delivery the restriction finishes and the watermark goes to +inf.

    The sources are made from their specs on the worker (``setup``), so nothing but the specs travels."""

    def __init__(
        self,
        specs: Sequence[SourceSpec],
        settings: Settings,
        stream: StreamSettings,
        idle_stop: float | None,
        enrichment: EnrichmentConfig | None = None,
        sources: Sequence[StreamSource] | None = None,
        max_items: int = 100,
    ) -> None:
        self._specs = list(specs)
        self._settings = settings
        self._stream = stream
        self._idle_stop = idle_stop
        self._enrichment = enrichment
        self._given = list(sources) if sources is not None else None  # tests: StreamSource objects
        self._max_items = max_items

    def setup(self) -> None:
        sources = self._given if self._given is not None else stream_sources(self._specs)
        self._loop = PollLoop(
            sources,
            [describe(s) for s in self._specs],
            self._settings,
            self._stream,
            self._idle_stop,
            max_items=self._max_items,
            enrichment=self._enrichment,
        )
        for source in sources:
            source.open()
        self._last_delivery = time.monotonic()

    def process(
        self,
        element: Any,
        finalizer: Any = beam.DoFn.BundleFinalizerParam,
        tracker: Any = _ROUNDS,
        watermark: Any = _WATERMARK,
    ) -> Iterator[TimestampedValue]:
        round_ = tracker.current_restriction()[0]
        if not tracker.try_claim(round_):
            return
        loop = self._loop
        wait = 1.0 if len(loop.sources) == 1 else 0.5
        polled = [(i, d) for i, source in enumerate(loop.sources) for d in source.poll(self._max_items, wait)]
        if polled:
            self._last_delivery = time.monotonic()
            yield from loop.normalize_round(polled)
            finalizer.register(lambda: loop.acknowledge(polled))
            newest = loop.watermark()
            current = watermark.current_watermark()
            if newest is not None and (current is None or current < Timestamp(micros=newest)):
                watermark.set_watermark(Timestamp(micros=newest))
        elif self._idle_stop is not None and time.monotonic() - self._last_delivery >= self._idle_stop:
            tracker.try_claim(_FINISH)
            watermark.set_watermark(MAX_TIMESTAMP)
            return
        tracker.defer_remainder(Duration(0 if polled else 1))

    def teardown(self) -> None:
        loop: PollLoop | None = getattr(self, "_loop", None)
        for source in loop.sources if loop is not None else []:
            try:
                source.close()
            except Exception as exc:  # best effort: acknowledged deliveries are acked already
                log.warning("closing a stream source failed: %s", type(exc).__name__)


class ReadStreamsSDF(beam.PTransform):
    """PBegin -> tagged read outputs from stream sources, through ``PollSourcesFn`` (portable runners)."""

    def __init__(self, fn: PollSourcesFn) -> None:
        super().__init__()
        self._fn = fn

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection[Any]:
        return pbegin | "Impulse" >> beam.Impulse() | "Poll" >> beam.ParDo(self._fn)


# --- route, dead letters, counts -------------------------------------------------------------------


class RouteFn(beam.DoFn):
    """Tagged read outputs -> (shard, (window key, events)) on the main output; dead-letter batches and
    counts tagged."""

    def process(self, element: tuple[str, Any]) -> Iterator[Any]:
        tag, value = element
        if tag == EVENTS:
            key, events = value
            yield key[3], (key, events)
        else:
            yield beam.pvalue.TaggedOutput(tag, value)


# Counts of the streaming runs in this process, by run id. The local streaming runner reports a step's
# Beam counters from its first bundle only, so the summary is added up here as well (the streaming
# pipeline runs in this process: it is the only runner ReadStreams supports).
_RUN_COUNTS: dict[str, Counter[str]] = {}
_RUN_COUNTS_LOCK = threading.Lock()


class PushCountsFn(beam.DoFn):
    """Counts (a dict per read round or pane) -> Beam counters and the run's tally, for the summary."""

    def __init__(self, run_id: str) -> None:
        self._run_id = run_id

    def process(self, counts: dict[str, int]) -> None:
        with _RUN_COUNTS_LOCK:
            _RUN_COUNTS.setdefault(self._run_id, Counter()).update(counts)
        for name, value in counts.items():
            if value:
                Metrics.counter(names.NAMESPACE, name).inc(value)


class WriteDeadLettersFn(beam.DoFn):
    """Each batch of dead-letter lines -> one file under deadletters/, named by its content so that a
    retried bundle rewrites the same file."""

    def __init__(self, layout: Layout) -> None:
        self._layout = layout

    def process(self, blob: bytes) -> None:
        if not blob:
            return
        digest = hashlib.sha1(blob).hexdigest()[:16]
        path = f"{self._layout.deadletters_prefix}-{digest}.jsonl"
        entry = _write_listed(
            self._layout, KIND_DEADLETTERS, path, blob if blob.endswith(b"\n") else blob + b"\n"
        )
        write_manifest(self._layout.root, f"{self._layout.run_id}-d{digest}", [entry])


# --- dedup, windows, panes -------------------------------------------------------------------------


@dataclass
class ShardState:
    """Everything one shard remembers, read and written once per batch or timer firing."""

    wm: int = -(2**62)  # last timer firing (us): a lower bound of the watermark
    ids: dict[str, int] = field(default_factory=dict)  # id -> expiry (us, event time)
    expiring: dict[int, list[str]] = field(default_factory=dict)  # expiry -> ids
    open: dict[int, dict[WindowKey, list[SpilledEvent]]] = field(default_factory=dict)  # window -> events
    panes: dict[int, int] = field(default_factory=dict)  # window -> next pane number (until it closes)


def _stamp(window_us: int) -> str:
    return Timestamp(micros=window_us).to_utc_datetime().strftime("%Y%m%dT%H%M%S")


class PaneFiles:
    """File names of one pane of one window, per partition: unique per run, window, pane and shard."""

    def __init__(self, layout: Layout, window_us: int, pane: int) -> None:
        self.layout = layout
        self.suffix = f"{layout.run_id}-w{_stamp(window_us)}-p{pane:03d}"

    def _name(self, key: PartitionKey, ext: str) -> str:
        return f"part-{self.suffix}-s{key.shard:03d}.{ext}"

    def parquet_path(self, key: PartitionKey) -> str:
        return FileSystems.join(self.layout.partition_dir("events", key), self._name(key, "parquet"))

    def raw_path(self, key: PartitionKey) -> str:
        return FileSystems.join(self.layout.partition_dir("raw", key), self._name(key, "jsonl.gz"))

    def ids_path(self, key: PartitionKey) -> str:
        return FileSystems.join(self.layout.partition_dir("ids", key), self._name(key, "ids"))

    def siem_path(self, shard: int) -> str:
        return FileSystems.join(self.layout.root, "siem", f"events-{self.suffix}-s{shard:03d}.jsonl")


_PARTITION = re.compile(r"date=(\d{4}-\d{2}-\d{2})[/\\]hour=(\d{2})[/\\]")
_written_cache: dict[tuple[str, int, str], frozenset[str]] = {}
_written_lock = threading.Lock()


def load_written_ids(root: str, ttl_us: int, run_id: str = "") -> frozenset[str]:
    """The ids the streaming runs before this one wrote to ``root`` within the dedup TTL of the newest
    window they wrote (from the ``cold/ids`` index beside the panes). Only the hour partitions within the
    TTL of the newest one are read. This run's own index files are left out: a worker set up again
    mid-run must not take the ids its own state forgot (TTL) for old ones. Loaded once per process."""
    key = (root, ttl_us, run_id)
    with _written_lock:
        if key not in _written_cache:
            _written_cache[key] = frozenset(_load_written_ids(root, ttl_us, run_id))
        return _written_cache[key]


def _load_written_ids(root: str, ttl_us: int, run_id: str) -> set[str]:
    pattern = FileSystems.join(root, "cold", "ids", "**")
    try:
        (match,) = FileSystems.match([pattern])
    except Exception:
        return set()
    files: list[tuple[int, str]] = []
    for meta in match.metadata_list:
        name = os.path.basename(meta.path)
        if not name.endswith(".ids") or (run_id and f"-{run_id}-" in name):
            continue
        m = _PARTITION.search(meta.path)
        hour_us = 0
        if m:
            hour = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}:00:00+00:00")
            hour_us = int(hour.timestamp()) * MICROS
        files.append((hour_us, meta.path))
    if not files:
        return set()
    newest_hour = max(h for h, _ in files)
    entries: list[tuple[str, int]] = []
    for hour_us, path in files:
        if hour_us + 3600 * MICROS < newest_hour - ttl_us:
            continue  # the whole hour is older than the TTL
        try:
            with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                data = f.read()
        except Exception as exc:  # an unreadable index only weakens deduplication across restarts
            log.warning("cannot read id index %s: %s", path, type(exc).__name__)
            continue
        for line in data.splitlines():
            ident, _, window = line.decode("utf-8", "replace").partition("\t")
            if ident:
                entries.append((ident, int(window or 0)))
    if not entries:
        return set()
    newest = max(w for _, w in entries)
    return {ident for ident, w in entries if w >= newest - ttl_us}


_STATE = userstate.ReadModifyWriteStateSpec("shard", coders.PickleCoder())
_TICK = userstate.TimerSpec("tick", userstate.TimeDomain.WATERMARK)
_STATE_PARAM = beam.DoFn.StateParam(_STATE)
_TICK_PARAM = beam.DoFn.TimerParam(_TICK)


class DedupWindowFn(beam.DoFn):
    """(shard, (window key, events)) -> panes written; SIEM JSON-lines batches on the main output, dead
    letters (too_late, parquet_rejected) tagged. See the module docstring for the state machine."""

    STATE = _STATE
    TICK = _TICK

    def __init__(self, layout: Layout, settings: Settings, stream: StreamSettings) -> None:
        self._layout = layout
        self._settings = settings
        self._stream = stream

    def setup(self) -> None:
        bound_large_allocations()
        self._counts: Counter[str] = Counter()
        self._written_before = load_written_ids(self._layout.root, self._stream.ttl_us, self._layout.run_id)

    def process(
        self,
        element: tuple[int, tuple[WindowKey, list[SpilledEvent]]],
        state: Any = _STATE_PARAM,
        tick: Any = _TICK_PARAM,
    ) -> Iterator[Any]:
        shard, (key, events) = element
        st: ShardState = state.read() or ShardState()
        window = key[4]
        end = window + self._stream.window_us
        fresh: list[SpilledEvent] = []
        in_batch: set[str] = set()
        for event in events:
            if event[0] in st.ids or event[0] in self._written_before or event[0] in in_batch:
                self._counts[names.DUPLICATES] += 1
            else:
                in_batch.add(event[0])
                fresh.append(event)
        if fresh and end + self._stream.lateness_us <= st.wm:
            yield from self._too_late(key, fresh, st.wm)
        elif fresh:
            expiry = end + self._stream.ttl_us
            bucket = st.expiring.setdefault(expiry, [])
            for event in fresh:
                st.ids[event[0]] = expiry
                bucket.append(event[0])
            if end <= st.wm:  # late, within the allowed lateness: its own pane, now
                yield from self._write_pane(shard, window, {key: fresh}, st)
            else:
                groups = st.open.setdefault(window, {})
                groups.setdefault(key, []).extend(fresh)
                if sum(len(v) for v in groups.values()) >= self._settings.batch_size:
                    # An early pane: memory stays bounded while the watermark waits.
                    yield from self._write_pane(shard, window, st.open.pop(window), st)
        self._set_tick(st, tick)
        state.write(st)
        yield from self._take_counts()

    @userstate.on_timer(_TICK)
    def on_tick(
        self,
        state: Any = _STATE_PARAM,
        tick: Any = _TICK_PARAM,
        key: Any = beam.DoFn.KeyParam,
        fired: Any = beam.DoFn.TimestampParam,
    ) -> Iterator[Any]:
        st: ShardState = state.read() or ShardState()
        now = fired.micros
        st.wm = max(st.wm, now)
        for window in sorted(w for w in st.open if w + self._stream.window_us <= now):
            yield from self._write_pane(int(key), window, st.open.pop(window), st)
        for window in [w for w in st.panes if w + self._stream.window_us + self._stream.lateness_us <= now]:
            del st.panes[window]
        for expiry in [e for e in st.expiring if e <= now]:
            for ident in st.expiring.pop(expiry):
                if st.ids.get(ident) == expiry:
                    del st.ids[ident]
        self._set_tick(st, tick)
        state.write(st)
        yield from self._take_counts()

    def _take_counts(self) -> Iterator[Any]:
        # Counted downstream (PushCountsFn): counters incremented in a timer callback are not reported by
        # the local runner.
        if self._counts:
            yield beam.pvalue.TaggedOutput(COUNTS, dict(self._counts))
            self._counts.clear()

    def _set_tick(self, st: ShardState, tick: Any) -> None:
        w, lateness = self._stream.window_us, self._stream.lateness_us
        deadlines = [x + w for x in st.open]
        deadlines += [x + w + lateness for x in st.panes]
        deadlines += list(st.expiring)
        later = [d for d in deadlines if d > st.wm]
        if later:
            tick.set(Timestamp(micros=min(later)))

    def _too_late(self, key: WindowKey, events: list[SpilledEvent], wm: int) -> Iterator[Any]:
        start = Timestamp(micros=key[4]).to_rfc3339()
        closed = Timestamp(micros=key[4] + self._stream.window_us + self._stream.lateness_us).to_rfc3339()
        reason = (
            f"event too late: its window {start} (+{self._stream.window_seconds}s) closed at {closed} "
            f"(allowed lateness {self._stream.allowed_lateness_seconds}s); watermark was at least "
            f"{Timestamp(micros=wm).to_rfc3339()}"
        )
        lines = []
        for event in events:
            line = canonical_line(event[1], event[2])
            lines.append(DeadLetter("window", "too_late", reason, line, _location(line)).to_json())
        self._counts[names.deadletter_counter("window", "too_late")] += len(events)
        yield beam.pvalue.TaggedOutput(DEADLETTERS, b"\n".join(lines))

    def _write_pane(
        self, shard: int, window: int, groups: dict[WindowKey, list[SpilledEvent]], st: ShardState
    ) -> Iterator[Any]:
        pane = st.panes.get(window, 0)
        st.panes[window] = pane + 1
        files = PaneFiles(self._layout, window, pane)
        siem: list[bytes] = []
        listed: list[FileEntry] = []
        end = window + self._stream.window_us
        for key, events in sorted(groups.items()):
            part = PartitionKey(key[0], key[1], key[2], key[3])
            writer = _PaneWriter(self._layout, files.parquet_path(part), files.raw_path(part))
            try:
                for start in range(0, len(events), self._settings.batch_size):
                    batch = events[start : start + self._settings.batch_size]
                    siem_lines, dead = self._write_batch(writer, part, batch)
                    siem.extend(siem_lines)
                    if dead:
                        yield beam.pvalue.TaggedOutput(DEADLETTERS, b"\n".join(dead))
            finally:
                written = writer.close()
            listed.extend(written)
            self._counts[names.PARQUET_FILES] += sum(e.kind == KIND_PARQUET for e in written)
            self._counts[names.RAW_FILES] += sum(e.kind == KIND_RAW for e in written)
            # After the data: a crash in between repeats these events on restart, never loses them.
            _write_bytes(files.ids_path(part), "".join(f"{e[0]}\t{end}\n" for e in events).encode())
        if siem:
            blob = b"\n".join(siem)
            listed.append(_write_listed(self._layout, KIND_SIEM, files.siem_path(shard), blob + b"\n"))
            yield blob
        if listed:  # the pane's own manifest (cloudaudit verify): written last, named like the pane's files
            write_manifest(self._layout.root, f"{files.suffix}-s{shard:03d}", listed)

    def _write_batch(
        self, writer: _PaneWriter, part: PartitionKey, batch: list[SpilledEvent]
    ) -> tuple[list[bytes], list[bytes]]:
        table, kept, bad = events_table(batch)
        dead = []
        for event, reason in bad:
            self._counts[names.deadletter_counter("sink", "parquet_rejected")] += 1
            line = canonical_line(event[1], event[2])
            dead.append(DeadLetter("sink", "parquet_rejected", reason, line, _location(line)).to_json())
        if not kept:
            return [], dead
        writer.write(table, [raw for _, _, raw in kept])
        for outcome, n in outcome_counts(table).items():
            self._counts[names.written_counter(part.provider, outcome)] += n
        return [canonical_line(j, raw) for _, j, raw in kept], dead


class _PaneWriter:
    """A pane's Parquet file and raw archive for one partition, opened on first write (the batch store's
    format: zstd Parquet with the event schema, gzip JSON lines of the original records), hashed as
    written for the pane's manifest."""

    def __init__(self, layout: Layout, parquet_path: str, raw_path: str) -> None:
        self._layout = layout
        self._paths = (parquet_path, raw_path)
        self._pq_stream: HashingStream | None = None
        self._pq: pq.ParquetWriter | None = None
        self._raw_stream: HashingStream | None = None
        self._raw: gzip.GzipFile | None = None
        self._rows = self._lines = 0

    def write(self, table: pa.Table, raws: list[str | None]) -> None:
        if self._pq is None:
            self._pq_stream = _hashing(self._paths[0])
            self._pq = pq.ParquetWriter(self._pq_stream, arrow_schema(), compression=PARQUET_COMPRESSION)
        self._pq.write_table(table)
        self._rows += table.num_rows
        data = raw_lines(raws)
        if data:
            if self._raw is None:
                self._raw_stream = _hashing(self._paths[1])
                self._raw = gzip.GzipFile(
                    filename="", mode="wb", fileobj=self._raw_stream, compresslevel=RAW_GZIP_LEVEL, mtime=0
                )
            self._raw.write(data)
            self._lines += data.count(b"\n")

    def close(self) -> list[FileEntry]:
        """Finish both files (on an object store this commits them) and describe them."""
        entries = []
        if self._pq is not None and self._pq_stream is not None:
            self._pq.close()
            self._pq_stream.close()
            entries.append(_entry(self._layout, KIND_PARQUET, self._pq_stream, self._rows))
        if self._raw is not None and self._raw_stream is not None:
            self._raw.close()
            self._raw_stream.close()
            entries.append(_entry(self._layout, KIND_RAW, self._raw_stream, self._lines))
        return entries


def _hashing(path: str) -> HashingStream:
    return HashingStream(FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED), path)


def _entry(layout: Layout, kind: str, stream: HashingStream, records: int) -> FileEntry:
    rel = relative_path(layout.root, stream.path)
    return FileEntry(layout.run_id, kind, rel, records, stream.size, stream.sha256.hexdigest())


def _write_listed(layout: Layout, kind: str, path: str, data: bytes) -> FileEntry:
    """A JSON-lines file written whole, and its manifest entry."""
    _write_bytes(path, data)
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    rel = relative_path(layout.root, path)
    return FileEntry(layout.run_id, kind, rel, lines, len(data), hashlib.sha256(data).hexdigest())


def _write_bytes(path: str, data: bytes) -> None:
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        f.write(data)


def _location(line: bytes) -> str:
    try:
        return str(orjson.loads(line)["source"]["location"] or "")
    except Exception:
        return ""


# --- composition -----------------------------------------------------------------------------------


class StreamStages(beam.PTransform):
    """Tagged read outputs -> deduplicated, windowed writes; returns the SIEM JSON-lines batches (for
    sinks that want them)."""

    def __init__(self, layout: Layout, settings: Settings, stream: StreamSettings) -> None:
        super().__init__()
        self._layout = layout
        self._settings = settings
        self._stream = stream

    def expand(self, read: beam.PCollection[Any]) -> beam.PCollection[bytes]:
        routed = read | "Route" >> beam.ParDo(RouteFn()).with_outputs(DEADLETTERS, COUNTS, main=EVENTS)
        # The shard is an int: a deterministic key coder for the state (Beam warns otherwise).
        routed[EVENTS].element_type = typehints.KV[int, typehints.Any]
        stored = routed[EVENTS] | "DedupWindows" >> beam.ParDo(
            DedupWindowFn(self._layout, self._settings, self._stream)
        ).with_outputs(DEADLETTERS, COUNTS, main="siem")
        (
            (routed[COUNTS], stored[COUNTS])
            | "AllCounts" >> beam.Flatten()
            | "PushCounts" >> beam.ParDo(PushCountsFn(self._layout.run_id))
        )
        (
            (routed[DEADLETTERS], stored[DEADLETTERS])
            | "AllDeadLetters" >> beam.Flatten()
            | "WriteDeadLetters" >> beam.ParDo(WriteDeadLettersFn(self._layout))
        )
        return stored["siem"]


def stream_sources(specs: Sequence[SourceSpec]) -> list[StreamSource]:
    out = []
    for spec in specs:
        try:
            source = resolve(spec).factory(spec)
        except SourceError as exc:
            raise UsageError(f"source {spec.kind!r}: {exc}") from None
        if not isinstance(source, StreamSource) or isinstance(source, beam.PTransform):
            raise UsageError(f"source {spec.kind!r} did not give a stream source")
        out.append(source)
    return out


# Runners the streaming pipeline refuses: FnApiRunner fires event-time timers at the end of every bundle
# (whatever the watermark), so windows and lateness would be wrong; plain DirectRunner first tries to
# download Prism.
_UNSUITABLE_RUNNERS = {"FnApiRunner", "DirectRunner", "SwitchingDirectRunner", "PrismRunner"}


def streaming_options(beam_args: Sequence[str]) -> tuple[Any, bool]:
    """Beam options for a streaming run, and whether it runs locally (``ReadStreams`` on the
    BundleBasedDirectRunner) or on a runner with full splittable-DoFn support (``ReadStreamsSDF``)."""
    options = pipeline_options(beam_args)
    standard = options.view_as(StandardOptions)
    named = any(a.startswith("--runner") for a in beam_args)
    runner = str(standard.runner).rsplit(".", 1)[-1]
    if named and runner in _UNSUITABLE_RUNNERS:
        raise UsageError(
            f"--streaming does not run on --runner {runner}; it runs locally on {STREAMING_RUNNER} (the "
            "default) or on a runner with full splittable-DoFn support such as DataflowRunner (see docs/streaming.md)"
        )
    local = not named or runner == STREAMING_RUNNER
    if local:
        standard.runner = STREAMING_RUNNER
    standard.streaming = True
    return options, local


@contextlib.contextmanager
def _drain_on_interrupt(loop: PollLoop | None, progress: Callable[[str], None]) -> Iterator[None]:
    """A first Ctrl-C (SIGINT) ends the poll loop after its current round, and the pipeline drains: every
    window is written and every acknowledged delivery is in the output. A second one interrupts at once
    (then what was acknowledged but not yet written is lost, see docs/streaming.md)."""
    if loop is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if loop.stop_requested:
            raise KeyboardInterrupt
        loop.stop_requested = True
        progress(
            "interrupt: finishing the current poll round and writing every window (Ctrl-C again to abort)"
        )

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(
    config: RunConfig,
    progress: Callable[[str], None] = lambda _msg: None,
    sources: Sequence[StreamSource] | None = None,
    blobs: beam.PTransform | None = None,
) -> Summary:
    """Run the streaming pipeline until it is idle for ``config.idle_stop_seconds`` (or forever), and
    return the checked summary.

    ``sources`` replaces the sources of ``config.sources`` (StreamSource objects, e.g. a test's queue);
    ``blobs`` replaces the poll loop with any root transform yielding blobs (e.g. a TestStream).
    """
    options, local = streaming_options(config.beam_args)
    if sources is None and blobs is None:
        check_sources(config.sources, streaming=True)
        if not config.sources:
            raise UsageError("--streaming needs at least one stream --source")
        if config.inputs:
            raise UsageError("--input files are read in batch: run them without --streaming")
        sources = stream_sources(config.sources)
    if config.window_seconds > 3600 or 3600 % config.window_seconds:
        raise UsageError(f"--window {config.window_seconds} must divide an hour (e.g. 60, 300, 900, 3600)")
    check_output(config.output)
    prepare_enrichment(config.enrichment)  # a broken reference file stops the run here, before any read
    config.sinks = check_sinks(
        config.sinks
    )  # SIEM sinks: bad options or missing credentials stop it here too
    layout = Layout(config.output, new_run_id())
    stream = StreamSettings.of(config)
    labels = (
        [describe(s) for s in config.sources]
        if config.sources
        else [f"source{i}" for i in range(len(sources or []))]
    )
    progress(
        f"streaming from {', '.join(labels) if blobs is None else 'blobs'}; run {layout.run_id} on "
        f"{STREAMING_RUNNER}; window {stream.window_seconds}s, allowed lateness "
        f"{stream.allowed_lateness_seconds}s, dedup ttl {stream.dedup_ttl_seconds}s"
        + (f", stops after {config.idle_stop_seconds:g}s idle" if config.idle_stop_seconds else "")
    )
    pipeline = beam.Pipeline(options=options)
    loop: PollLoop | None = None
    if blobs is not None:
        read = (
            pipeline
            | "Blobs" >> blobs
            | "NormalizeBlobs" >> NormalizeBlobs(config.settings, stream, config.enrichment)
        )
    elif not local:  # a runner with full splittable-DoFn support (Dataflow, ...): the sources poll there
        fn = PollSourcesFn(
            config.sources,
            config.settings,
            stream,
            config.idle_stop_seconds,
            config.enrichment,
            sources=None if not sources or config.sources else sources,
        )
        read = pipeline | "ReadStreams" >> ReadStreamsSDF(fn)
    else:
        loop = PollLoop(
            sources or [],
            labels,
            config.settings,
            stream,
            config.idle_stop_seconds,
            progress,
            config.progress_seconds,
            enrichment=config.enrichment,
        )
        read = pipeline | "ReadStreams" >> ReadStreams(loop)
    siem = read | "Stages" >> StreamStages(layout, config.settings, stream)
    if config.sinks:  # the SIEM sinks, as in batch; their counts join this run's tally
        sink_dead, sink_counts = siem | "Sinks" >> WriteToSinks(config.sinks, with_counts=True)
        sink_dead | "WriteSinkDeadLetters" >> beam.ParDo(WriteDeadLettersFn(layout))
        sink_counts | "PushSinkCounts" >> beam.ParDo(PushCountsFn(layout.run_id))
    started = time.monotonic()
    with _drain_on_interrupt(loop, progress):
        result = pipeline.run(test_runner_api=False)  # no runner-API round trip: it would replay the loop
        result.wait_until_finish()
    elapsed = time.monotonic() - started
    with _RUN_COUNTS_LOCK:
        counters = dict(_RUN_COUNTS.pop(layout.run_id, Counter()))
    if not local:  # the workers are elsewhere: their Beam counters are the tally
        counters = query_counters(result)
    summary = from_counters(
        counters,
        run_id=layout.run_id,
        runner=f"{runner_text(options) if not local else STREAMING_RUNNER} (streaming)",
        inputs=labels,
        output=config.output,
        files_matched=int(counters.get(DELIVERIES, 0)),
        elapsed_seconds=round(elapsed, 3),
    )
    if loop is not None and loop.error is not None:
        raise RuntimeError(
            f"a stream source failed: {type(loop.error).__name__}: {loop.error} (what had been acknowledged was "
            "written; the rest comes again on the next run)"
        ) from loop.error
    if loop is not None:
        progress(f"done: {loop.stats_text()}")
        unacked = loop.stats.deliveries - loop.stats.acked
        if unacked:
            summary.problems.append(f"{unacked} deliveries were not acknowledged (they will come again)")
    write_summary(layout, summary)
    return summary
