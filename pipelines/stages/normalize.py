"""Normalize and enrich, the streaming side: blobs (or deliveries) -> event batches keyed by where
they belong (provider, date, hour, shard, window), dead letters and counts, as tagged elements.

The batch side of this stage is ``pipelines.read.ReadFiles`` / ``pipelines.sources.ReadBlobs`` (the same
``FileReader`` underneath): both apply the connector mapping and the enrichment chain to every record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from enrichers.config import EnrichmentConfig
from enrichers.context import EnrichmentContext, load_context
from pipelines import summary as names
from pipelines.metrics import mark_clock
from pipelines.read import FileReader, partition_key
from pipelines.settings import MICROS, Settings, StreamSettings
from pipelines.sources import blob_parts
from schemas.fastpath import Doc

log = logging.getLogger(__name__)

EVENTS = "events"
COUNTS = "counts"
# Counters only the streaming run has (the summary's invariant does not use them).
DELIVERIES = "stream/deliveries"
ROUNDS = "stream/poll_rounds"

# (provider, date, hour, shard, window start in microseconds): where a batch of events belongs.
WindowKey = tuple[str, str, str, int, int]


def _micros(doc: Doc) -> int:
    t = doc["when"]["time"]
    return int(t.timestamp()) * MICROS + t.microsecond


class StreamReader(FileReader):
    """``FileReader`` that keeps events in memory grouped by window key instead of spilling them, and
    remembers the newest event time it saw (for the watermark)."""

    def __init__(self, settings: Settings, stream: StreamSettings) -> None:
        super().__init__(settings, spill_dir="")
        self.stream = stream
        self.newest_us: int | None = None

    def key_of(self, doc: Doc) -> Any:
        provider, date, hour, shard = partition_key(doc, self.settings.dedup_shards)
        t = _micros(doc)
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
        mark_clock(names.FIRST_READ)
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
