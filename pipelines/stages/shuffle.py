"""Batch on runners with their own shuffle (Dataflow, Flink, ...): event batches travel through the
runner's GroupByKey as values, plain Beam, instead of through spill files.

On Beam's local runners the batch pipeline keeps event batches in spill files and shuffles only pointers
to them (``pipelines.spill``): there it is several times faster and bounded in memory. A distributed
runner's shuffle is made for exactly this traffic, so there the read stage hands over
``(partition key, [event, ...])`` batches and the store stage takes them from the shuffle. Everything
else (normalize, enrich, dedup per partition, the Parquet + raw-archive writer, dead letters) is the same
code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam

from pipelines.layout import Key, PartitionKey
from pipelines.read import DEADLETTERS, SEGMENTS, FileReader, Output, ReadFiles, ReadFilesFn
from pipelines.sources import ReadBlobs, ReadBlobsFn
from pipelines.spill import SpilledEvent
from pipelines.store import MANIFEST, SIEM, DedupAndStore, StorePartitionFn

# The local runners: spill files there; every other runner shuffles the events themselves.
LOCAL_RUNNERS = frozenset(
    {"FnApiRunner", "DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner", "PrismRunner"}
)


def shuffles_events(runner: object) -> bool:
    """True when the batch pipeline should hand events to the runner's shuffle (not a local runner)."""
    return str(runner).rsplit(".", 1)[-1] not in LOCAL_RUNNERS


class ShuffleReader(FileReader):
    """``FileReader`` whose event batches leave as ``(key, events)`` values instead of spill pointers."""

    def flush_events(self) -> Iterator[Output]:
        if not self._events:
            return
        for key, events in self._events.items():
            yield SEGMENTS, (key, events)
        self._events = {}
        self._event_count = self._event_bytes = 0


class ShuffleReadFilesFn(ReadFilesFn):
    reader_class = ShuffleReader


class ShuffleReadBlobsFn(ReadBlobsFn):
    reader_class = ShuffleReader


class ShuffleReadFiles(ReadFiles):
    """``ReadFiles`` with ``(key, events)`` batches on its ``segments`` output (the same listing, so the
    same input filters)."""

    fn_class = ShuffleReadFilesFn


class ShuffleReadBlobs(ReadBlobs):
    """``ReadBlobs`` with ``(key, events)`` batches on its ``segments`` output."""

    fn_class = ShuffleReadBlobsFn


class StoreBatchesFn(StorePartitionFn):
    """(key, [events batch]) -> the same outputs as ``StorePartitionFn``."""

    # The element carries event batches from the runner's shuffle, not spill-file segments.
    def process(self, element: tuple[Key, Iterable[list[SpilledEvent]]]) -> Iterator[object]:  # type: ignore[override]
        key, batches = element
        store = self._store
        store.files.clear()
        for tag, blob in store.store_events(PartitionKey(*key), batches):
            yield blob if tag == SIEM else beam.pvalue.TaggedOutput(tag, blob)
        for entry in store.files:
            yield beam.pvalue.TaggedOutput(MANIFEST, entry.to_json())
        self._counters.push(store.counts)


class ShuffleDedupAndStore(DedupAndStore):
    """``DedupAndStore`` taking ``(key, events)`` batches: the runner's GroupByKey, then the store."""

    def expand(self, batches: beam.PCollection[Any]) -> beam.pvalue.DoOutputsTuple:
        return (
            batches
            | "GroupByPartition" >> beam.GroupByKey()
            | "DedupAndWrite"
            >> beam.ParDo(StoreBatchesFn(self._layout, self._settings)).with_outputs(
                DEADLETTERS, MANIFEST, main=SIEM
            )
        )
