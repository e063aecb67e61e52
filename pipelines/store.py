"""Store stage: one partition key's spilled events -> deduplicated cold storage + SIEM lines.

``PartitionStore`` does the work without Beam: it reads the key's spill segments in turn, drops events
whose id it has already seen, and for every batch of new events writes a Parquet row group (zstd, the
schema from ``schemas.arrow``), appends the raw records to the gzip archive beside it and hands back the
batch's canonical JSON lines for the SIEM sink. Memory stays bounded by one batch plus the set of ids in
the partition. File names depend only on the run id and the key, so a retried bundle overwrites its own
files instead of adding copies.

An event the Arrow conversion rejects (a mapper produced something the schema cannot hold) becomes a
dead letter of stage ``sink``, so it is counted, not lost, and it is left out of every sink.
"""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import apache_beam as beam
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipelines import summary as names
from pipelines.layout import Key, Layout, PartitionKey
from pipelines.memory import bound_large_allocations
from pipelines.metrics import Counters
from pipelines.settings import Settings
from pipelines.spill import Segment, SpilledEvent, canonical_line, read_segment
from schemas.arrow import arrow_schema, table_from_json_lines
from schemas.deadletter import DeadLetter

SIEM = "siem"
DEADLETTERS = "deadletters"

PARQUET_COMPRESSION = "zstd"
RAW_GZIP_LEVEL = 3  # levels 1-3 compress audit JSON equally fast (~300 MB/s here), 6 at half the speed


class PartitionStore:
    """Deduplicates and writes one key's events at a time; counts what it did in ``counts``."""

    def __init__(self, layout: Layout, settings: Settings) -> None:
        self.layout = layout
        self.settings = settings
        self.counts: Counter[str] = Counter()

    def store(self, key: PartitionKey, segments: Iterable[Segment]) -> Iterator[tuple[str, bytes]]:
        """Yields (SIEM, JSON lines) and (DEADLETTERS, JSON lines) as it goes."""
        writer = _PartitionFiles(self.layout, key)
        seen: set[str] = set()
        pending: list[SpilledEvent] = []
        try:
            for segment in segments:
                for event in read_segment(segment):
                    if event[0] in seen:
                        self.counts[names.DUPLICATES] += 1
                        continue
                    seen.add(event[0])
                    pending.append(event)
                if len(pending) >= self.settings.batch_size:
                    yield from self._write(key, pending, writer)
                    pending = []
            if pending:
                yield from self._write(key, pending, writer)
        finally:
            written = writer.close()
        self.counts[names.PARQUET_FILES] += written.get("parquet", 0)
        self.counts[names.RAW_FILES] += written.get("raw", 0)

    def _write(
        self, key: PartitionKey, batch: list[SpilledEvent], writer: _PartitionFiles
    ) -> Iterator[tuple[str, bytes]]:
        table, kept, bad = events_table(batch)
        for event, reason in bad:
            self.counts[names.deadletter_counter("sink", "parquet_rejected")] += 1
            line = canonical_line(event[1], event[2])
            letter = DeadLetter("sink", "parquet_rejected", reason, line, _location(line, self.layout, key))
            yield DEADLETTERS, letter.to_json()
        if not kept:
            return
        raws = [raw for _, _, raw in kept]
        writer.write(table, raws)
        for outcome, n in outcome_counts(table).items():
            self.counts[names.written_counter(key.provider, outcome)] += n
        yield SIEM, b"\n".join([canonical_line(j, raw) for _, j, raw in kept])


def events_table(
    batch: list[SpilledEvent],
) -> tuple[pa.Table, list[SpilledEvent], list[tuple[SpilledEvent, str]]]:
    """Spilled events -> (their Parquet table, the events in it, rejected (event, reason)).

    Arrow's JSON reader takes the whole batch at once; only if it refuses does each event go alone, to
    find the ones to reject. ``raw`` joins the table as a column, as it is.
    """
    try:
        table, kept, bad = _json_table(b"\n".join([j for _, j, _ in batch])), batch, []
    except _ARROW_REFUSALS:
        table, kept, bad = _one_by_one(batch)
    raw_at = table.schema.get_field_index("raw")
    raws = pa.array([raw for _, _, raw in kept], pa.string())
    return table.set_column(raw_at, table.schema.field(raw_at), raws), kept, bad


_ARROW_REFUSALS = (pa.ArrowException, ValueError, TypeError)


def _one_by_one(batch: list[SpilledEvent]) -> tuple[pa.Table, list[SpilledEvent], list[tuple[SpilledEvent, str]]]:
    tables: list[pa.Table] = []
    kept: list[SpilledEvent] = []
    bad: list[tuple[SpilledEvent, str]] = []
    for event in batch:
        try:
            tables.append(_json_table(event[1]))
            kept.append(event)
        except _ARROW_REFUSALS as exc:
            bad.append((event, f"event does not fit the Parquet schema: {type(exc).__name__}: {exc}"[:1000]))
    return (pa.concat_tables(tables) if tables else arrow_schema().empty_table()), kept, bad


def _json_table(blob: bytes) -> pa.Table:
    # table_from_json_lines refuses a null where the schema has none: that event is dead-lettered.
    return table_from_json_lines(blob)


def outcome_counts(table: pa.Table) -> dict[str, int]:
    outcomes = pc.struct_field(table.column("what"), "outcome")
    counts = pc.value_counts(outcomes)
    return {str(v["values"]): int(v["counts"]) for v in counts.to_pylist()}


def raw_lines(raws: list[str | None]) -> bytes:
    kept = [r for r in raws if r is not None]
    return ("\n".join(kept) + "\n").encode("utf-8") if kept else b""


def _location(line: bytes, layout: Layout, key: PartitionKey) -> str:
    """Where the event was read, if its JSON says; else the file it could not go into."""
    try:
        location = orjson.loads(line)["source"]["location"]
    except Exception:
        location = None
    return str(location) if location else layout.parquet_path(key)


class _PartitionFiles:
    """The Parquet file and the raw archive of one key, opened on first write."""

    def __init__(self, layout: Layout, key: PartitionKey) -> None:
        self.layout = layout
        self.key = key
        self._pq_stream: BinaryIO | None = None
        self._pq: pq.ParquetWriter | None = None
        self._raw_stream: BinaryIO | None = None
        self._raw: gzip.GzipFile | None = None

    def write(self, table: pa.Table, raws: list[str | None]) -> None:
        if self._pq is None:
            self._pq_stream = _create(self.layout.parquet_path(self.key))
            self._pq = pq.ParquetWriter(self._pq_stream, arrow_schema(), compression=PARQUET_COMPRESSION)
        self._pq.write_table(table)
        data = raw_lines(raws)  # nothing when the run keeps no raw records
        if data:
            if self._raw is None:
                self._raw_stream = _create(self.layout.raw_path(self.key))
                self._raw = gzip.GzipFile(
                    filename="", mode="wb", fileobj=self._raw_stream, compresslevel=RAW_GZIP_LEVEL, mtime=0
                )
            self._raw.write(data)

    def close(self) -> dict[str, int]:
        written: dict[str, int] = {}
        if self._pq is not None:
            self._pq.close()
            written["parquet"] = 1
        if self._raw is not None:
            self._raw.close()
            written["raw"] = 1
        for stream in (self._pq_stream, self._raw_stream):
            if stream is not None:
                stream.close()
        return written


def _create(path: str) -> BinaryIO:
    # FileSystems.create makes missing local folders itself; object stores have none to make.
    return FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED)


class StorePartitionFn(beam.DoFn):
    """(key, [Segment]) -> SIEM JSON-lines batches on the main output, dead-letter batches tagged."""

    def __init__(self, layout: Layout, settings: Settings) -> None:
        self._layout = layout
        self._settings = settings

    def setup(self) -> None:
        bound_large_allocations()
        self._store = PartitionStore(self._layout, self._settings)
        self._counters = Counters()

    def start_bundle(self) -> None:
        self._store.counts.clear()

    def process(self, element: tuple[Key, Iterable[Segment]]) -> Iterator[object]:
        key, segments = element
        for tag, blob in self._store.store(PartitionKey(*key), segments):
            yield blob if tag == SIEM else beam.pvalue.TaggedOutput(tag, blob)
        self._counters.push(self._store.counts)


class DedupAndStore(beam.PTransform):
    """(key, Segment) pointers -> cold storage written; returns ``siem`` and ``deadletters`` batches."""

    SIEM = SIEM
    DEADLETTERS = DEADLETTERS

    def __init__(self, layout: Layout, settings: Settings) -> None:
        super().__init__()
        self._layout = layout
        self._settings = settings

    def expand(self, segments: beam.PCollection[Any]) -> beam.pvalue.DoOutputsTuple:
        return (
            segments
            | "GroupByPartition" >> beam.GroupByKey()
            | "DedupAndWrite"
            >> beam.ParDo(StorePartitionFn(self._layout, self._settings)).with_outputs(DEADLETTERS, main=SIEM)
        )
