"""Streaming on the local runner only: Beam's Python ``BundleBasedDirectRunner`` runs state, timers and
watermarks, but its splittable-DoFn support cannot run an unbounded poll loop (no watermark estimator,
no self-checkpointing). So ``ReadStreams`` drives the sources through the runner's TestStream machinery
with a lazily produced event list (a TestStream subclass, patched to stay lazy): each poll round is one
bundle of elements followed by a watermark advance. A round's deliveries are acknowledged only after
every event they carried is durable in cold storage, in the dead letters, or known as a duplicate of a
committed event (``pipelines.local.acks``), so a kill -9 at any moment loses nothing.

Also here: Ctrl-C handling (a first one drains), and the run's counts tallied in this process (the local
streaming runner reports a step's Beam counters from its first bundle only). On every other runner the
stages read with ``pipelines.stages.streams.PollSourcesFn`` and count with Beam ``Metrics``; nothing in
this module is used or put into their graph.
"""

from __future__ import annotations

import contextlib
import dataclasses
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
from pipelines.interrupt import Interrupted
from pipelines.local.acks import AckLedger, blob_token, close_ledger, event_token, open_ledger
from pipelines.metrics import PushCountsFn
from pipelines.read import DEADLETTERS
from pipelines.settings import Settings, StreamSettings
from pipelines.stages.normalize import EVENTS
from pipelines.stages.streams import SourceRounds

log = logging.getLogger(__name__)

STREAMING_RUNNER = "BundleBasedDirectRunner"


class PollLoop(SourceRounds):
    """Polls the sources round after round and produces TestStream events: one ``ElementEvent`` per round
    with deliveries, then a ``WatermarkEvent`` when the watermark moved. A round's deliveries are
    acknowledged only once every event and dead letter they carried is durable (``pipelines.local.acks``:
    the ledger of run ``run_id``); meanwhile the sources keep extending their leases. Ends after
    ``idle_stop`` seconds without deliveries, or on a first Ctrl-C, by draining: the watermark moves past
    every window, and the loop waits (at most ``drain_seconds``) until what it read is durable and
    acknowledged. Never ends when ``idle_stop`` is None."""

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
        run_id: str = "",
        drain_seconds: float = 600.0,
    ) -> None:
        super().__init__(sources, names_, settings, stream, max_items=max_items, enrichment=enrichment)
        self.idle_stop = idle_stop
        self.progress = progress
        self.progress_seconds = progress_seconds
        self.error: BaseException | None = None
        self.stop_requested = False  # set by a first Ctrl-C: end after this round, and drain
        self.drain_seconds = drain_seconds
        self.run_id = run_id
        self.ledger: AckLedger | None = open_ledger(run_id) if run_id else None
        self._held: dict[int, list[tuple[int, Delivery]]] = {}  # round -> deliveries not yet acknowledged
        self._ledger_free: list[int] = []

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
                    source.close()  # gives back what was not acknowledged (it comes again)
                except Exception as exc:  # closing is best effort
                    log.warning("closing a stream source failed: %s", type(exc).__name__)
            if self.run_id:
                close_ledger(self.run_id)

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
                self._hold(polled, elements)
                yield ElementEvent(elements)
                watermark = self.watermark()
                if watermark is not None and (
                    self.stats.watermark_us is None or watermark > self.stats.watermark_us
                ):
                    self.stats.watermark_us = watermark
                    yield WatermarkEvent(Timestamp(micros=watermark))
            self._acknowledge_durable()
            if self.stop_requested:
                self.progress(f"stop requested: draining ({self.stats_text()})")
                yield from self._drain()
                return
            if not polled:
                if self.idle_stop is not None and time.monotonic() - last_delivery >= self.idle_stop:
                    self.progress(f"no delivery for {self.idle_stop:g}s: stopping ({self.stats_text()})")
                    yield from self._drain()
                    return
                if time.monotonic() - started < 0.05:
                    time.sleep(0.2)  # a source that does not wait: do not spin
            if time.monotonic() - last_progress >= self.progress_seconds:
                last_progress = time.monotonic()
                self.progress(self.stats_text())

    def _hold(self, polled: list[tuple[int, Delivery]], elements: list[Any]) -> None:
        """Keep the round's deliveries until every event and dead letter it carried is durable."""
        if self.ledger is None:  # no ledger (a test driving the loop alone): acknowledge on the next ask
            self._held[self.stats.rounds] = polled
            self._ledger_free.append(self.stats.rounds)
            return
        tokens: list[str] = []
        for element in elements:
            tag, value = element.value
            if tag == EVENTS:
                tokens.extend(event_token(e[0]) for e in value[1])
            elif tag == DEADLETTERS and value:
                tokens.append(blob_token(value))
        # Held without their data: only the acknowledgement is needed now (the events are in the pipeline).
        self._held[self.stats.rounds] = [(i, dataclasses.replace(d, data=b"")) for i, d in polled]
        self.ledger.register(self.stats.rounds, tokens)

    def _acknowledge_durable(self) -> None:
        done = self.ledger.take_done() if self.ledger is not None else []
        done += self._ledger_free
        self._ledger_free = []
        for round_ in sorted(done):
            polled = self._held.pop(round_, None)
            if polled:
                self.acknowledge(polled)

    def _drain(self) -> Iterator[Any]:
        """The end of the stream: move the watermark past every window (the stages write every pane),
        then wait until what was read is durable and acknowledge it, before the stream ends."""
        if not self._held:
            return
        yield WatermarkEvent(Timestamp(micros=_END_OF_TIME_US))
        deadline = time.monotonic() + self.drain_seconds
        while self._held and time.monotonic() < deadline:
            self._acknowledge_durable()
            if not self._held:
                break
            for source in self.sources:
                extend = getattr(source, "extend_leases", None)
                if extend is not None:
                    extend()
            time.sleep(0.05)
        self._acknowledge_durable()
        if self._held:
            log.warning(
                "%d poll rounds were not durable after %.0fs: not acknowledged (they will come again)",
                len(self._held),
                self.drain_seconds,
            )


# Far beyond any window (year 9999), below Beam's MAX_TIMESTAMP (which ends the stream).
_END_OF_TIME_US = 253_402_300_799 * 1_000_000


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
    """A first Ctrl-C (SIGINT) or SIGTERM ends the poll loop after its current round, and the pipeline
    drains: every window is written, and what was read is acknowledged once durable. A second one
    interrupts at once (``Interrupted``: nothing unwritten was acknowledged, so it comes again on the next
    run; see docs/streaming.md)."""
    if loop is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if loop.stop_requested:
            raise Interrupted(signum)
        loop.stop_requested = True
        progress(
            f"{signal.Signals(signum).name}: finishing the current poll round and writing every window "
            "(interrupt again to abort)"
        )

    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
