"""Streaming on the local runner only: Beam's Python ``BundleBasedDirectRunner`` runs state, timers and
watermarks, but its splittable-DoFn support cannot run an unbounded poll loop (no watermark estimator,
no self-checkpointing). So ``ReadStreams`` drives the sources through the runner's TestStream machinery
with a lazily produced event list (a TestStream subclass, patched to stay lazy): each poll round is one
bundle of elements followed by a watermark advance, and the round's deliveries are acknowledged when the
runner asks for the next event, that is after the round's elements were committed to the pipeline.

Also here: Ctrl-C handling (a first one drains), and the run's counts tallied in this process (the local
streaming runner reports a step's Beam counters from its first bundle only). On every other runner the
stages read with ``pipelines.stages.streams.PollSourcesFn`` and count with Beam ``Metrics``; nothing in
this module is used or put into their graph.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
from apache_beam import coders
from apache_beam.testing.test_stream import ElementEvent, TestStream, WatermarkEvent
from apache_beam.utils.timestamp import Timestamp

from connectors.sources import Delivery, StreamSource
from enrichers.config import EnrichmentConfig
from pipelines.metrics import PushCountsFn
from pipelines.settings import Settings, StreamSettings
from pipelines.stages.streams import SourceRounds

log = logging.getLogger(__name__)

STREAMING_RUNNER = "BundleBasedDirectRunner"


class PollLoop(SourceRounds):
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
        super().__init__(sources, names_, settings, stream, max_items=max_items, enrichment=enrichment)
        self.idle_stop = idle_stop
        self.progress = progress
        self.progress_seconds = progress_seconds
        self.error: BaseException | None = None
        self.stop_requested = False  # set by a first Ctrl-C: end after this round, and drain

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


# Counts of the streaming runs in this process, by run id. The local streaming runner reports a step's
# Beam counters from its first bundle only, so the summary is added up here as well (the local streaming
# pipeline runs in this process).
_RUN_COUNTS: dict[str, Counter[str]] = {}
_RUN_COUNTS_LOCK = threading.Lock()


class TallyCountsFn(PushCountsFn):
    """Counts -> Beam counters and this process's tally of the run, for the summary (local runner)."""

    def __init__(self, run_id: str) -> None:
        self._run_id = run_id

    def process(self, counts: dict[str, int]) -> None:
        with _RUN_COUNTS_LOCK:
            _RUN_COUNTS.setdefault(self._run_id, Counter()).update(counts)
        super().process(counts)


def take_counts(run_id: str) -> dict[str, int]:
    with _RUN_COUNTS_LOCK:
        return dict(_RUN_COUNTS.pop(run_id, Counter()))


@contextlib.contextmanager
def drain_on_interrupt(loop: PollLoop | None, progress: Callable[[str], None]) -> Iterator[None]:
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
