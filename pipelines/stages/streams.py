"""Reading stream sources (SQS, Pub/Sub pull, Event Hubs, ...) on any runner with full splittable-DoFn
support (Dataflow, Beam's portable runners): ``PollSourcesFn`` polls every source once per call, emits
the round's normalized outputs, estimates the watermark and checkpoints; it acknowledges the round's
deliveries in a bundle finalizer, which the runner calls only after it has durably committed the
bundle's outputs. At least once end to end; the dedup stage and idempotent sinks make it effectively
once. ``SourceRounds`` is the runner-free part (normalize a round, acknowledge, watermark), shared with
the local poll loop (``pipelines.local.streaming.PollLoop``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
from apache_beam.io.iobase import RestrictionProgress, RestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms.core import RestrictionProvider, WatermarkEstimatorProvider
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import MAX_TIMESTAMP, MIN_TIMESTAMP, Duration, Timestamp

from connectors.sources import Delivery, SourceError, SourceSpec, StreamSource, resolve
from enrichers.config import EnrichmentConfig
from pipelines import summary as names
from pipelines.errors import UsageError
from pipelines.metrics import mark_clock
from pipelines.settings import MICROS, Settings, StreamSettings
from pipelines.sources import describe
from pipelines.stages.normalize import (
    COUNTS,
    DELIVERIES,
    ROUNDS,
    EnrichmentRefresh,
    StreamReader,
    timestamped,
)

log = logging.getLogger(__name__)


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
    first_read: float | None = None  # when the first delivery was read (wall clock, for the summary's rate)


class SourceRounds:
    """The stream sources and what a poll round does with them, whatever drives the rounds: normalize
    the round's deliveries (``normalize_round``), acknowledge them once their outputs are committed
    (``acknowledge``), and estimate the watermark (``watermark``)."""

    def __init__(
        self,
        sources: Sequence[StreamSource],
        names_: Sequence[str],
        settings: Settings,
        stream: StreamSettings,
        max_items: int = 100,
        enrichment: EnrichmentConfig | None = None,
    ) -> None:
        self.sources = list(sources)
        self.names = list(names_)
        self.reader = StreamReader(settings, stream)
        self.enrichment = EnrichmentRefresh(enrichment)
        self.max_items = max_items
        self.stats = LoopStats()
        self._newest: dict[int, int] = {}  # source index -> newest event time delivered (us)
        self._last_seen: dict[int, float] = {}  # source index -> when it last delivered an event (monotonic)
        self._pending_parts: dict[Any, list[Delivery]] = {}

    def normalize_round(self, polled: list[tuple[int, Delivery]]) -> list[TimestampedValue]:
        if polled:  # the run's first read is the earliest of these (the summary's rate)
            mark_clock(names.FIRST_READ)
            if self.stats.first_read is None:
                self.stats.first_read = time.time()
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
        self._loop = SourceRounds(
            sources,
            [describe(s) for s in self._specs],
            self._settings,
            self._stream,
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
        loop: SourceRounds | None = getattr(self, "_loop", None)
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
