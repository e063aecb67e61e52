"""Store stage: one partition key's spilled events -> deduplicated cold storage + SIEM lines.

``PartitionStore`` does the work without Beam: it reads the key's spill segments in turn, drops events
whose id it has already seen, and for every batch of new events converts it to Arrow (zstd Parquet, the
schema from ``schemas.arrow``), appends the raw records to the gzip archive beside it and hands back the
batch's canonical JSON lines for the SIEM sink. A partition's batches are held until they make a row group
of ``PARQUET_ROW_GROUP_ROWS`` rows or ``PARQUET_ROW_GROUP_BYTES`` of Arrow data, whichever comes first:
Parquet's cost per row group is per column (135 of them), so larger row groups are cheaper to write and
smaller on disk. Memory stays bounded by one row group plus the set of ids in the partition. File names
depend only on the run id and the key, so a retried bundle overwrites its own files instead of adding
copies.

Reruns are idempotent: before writing a key, the ids of the events already in that partition's committed
Parquet files (those an earlier run's manifest lists; see ``pipelines.cleanup``) are read (the ``id``
column only), and an event among them is counted as ``already_stored`` and written nowhere again, so the
same input run twice, or after a crash, leaves each event once in cold storage.

An event the Arrow conversion rejects (a mapper produced something the schema cannot hold) becomes a
dead letter of stage ``sink``, so it is counted, not lost, and it is left out of every sink.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from isal.igzip import IGzipFile

from pipelines import summary as names
from pipelines.cleanup import committed
from pipelines.layout import Key, Layout, PartitionKey
from pipelines.manifest import KIND_PARQUET, KIND_RAW, FileEntry, HashingStream, create_output, relative_path
from pipelines.memory import bound_large_allocations
from pipelines.metrics import Counters
from pipelines.objectstores import share_s3_clients
from pipelines.redact import redact
from pipelines.settings import Settings
from pipelines.spill import Segment, SpilledEvent, canonical_line, read_segment
from schemas.arrow import arrow_schema, table_from_json_lines
from schemas.deadletter import DeadLetter

SIEM = "siem"
DEADLETTERS = "deadletters"
MANIFEST = "manifest"  # manifest entries (JSON bytes) of the files written, reported once closed

PARQUET_COMPRESSION = "zstd"
# The raw archive is plain gzip, written with ISA-L (python-isal): on audit JSON here its level 2
# compresses as well as zlib's level 3 (7.8x) at 1,450 MB/s instead of 270 (zlib 1: 7.1x at 280 MB/s).
RAW_GZIP_LEVEL = 2
# Measured on 20,000 generated events (zstd, CPU per event / size): row groups of 1,000 rows 8.5 us / 3.5 MB,
# 2,000 (the batch size) 5.6 us / 2.9 MB, 5,000 4.0 us / 2.5 MB, 20,000 3.0 us / 2.4 MB.
PARQUET_ROW_GROUP_ROWS = 10_000
PARQUET_ROW_GROUP_BYTES = 32 << 20


class PartitionStore:
    """Deduplicates and writes one key's events at a time; counts what it did in ``counts``."""

    def __init__(self, layout: Layout, settings: Settings) -> None:
        self.layout = layout
        self.settings = settings
        self.counts: Counter[str] = Counter()
        self.files: list[FileEntry] = []  # written and closed, for the manifest
        self._committed: set[str] | None = None  # paths the output's manifests list, read once

    def stored_ids(self, key: PartitionKey) -> set[str]:
        """Ids of this key's events that committed runs wrote already (empty for a new output)."""
        if self._committed is None:
            self._committed = committed(self.layout.root)[1]
        folder = relative_path(self.layout.root, self.layout.partition_dir("events", key)).rstrip("/") + "/"
        shards = self.settings.dedup_shards
        ids: set[str] = set()
        for rel in self._committed:
            if not (rel.startswith(folder) and rel.endswith(".parquet")):
                continue
            path = FileSystems.join(self.layout.root, *rel.split("/"))
            with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                column = pq.read_table(f, columns=["id"]).column("id").to_pylist()
            if shards > 1:
                ids.update(i for i in column if zlib.crc32(i.encode()) % shards == key.shard)
            else:
                ids.update(column)
        return ids

    def store(self, key: PartitionKey, segments: Iterable[Segment]) -> Iterator[tuple[str, bytes]]:
        """Yields (SIEM, JSON lines) and (DEADLETTERS, JSON lines) as it goes; each file, once closed,
        is added to ``files`` for the manifest. A write that fails is abandoned, not committed: an object
        store gets no partial file, and the manifest no entry for it."""
        yield from self.store_events(key, (read_segment(segment) for segment in segments))

    def store_events(self, key: PartitionKey, groups: Iterable[Iterable[SpilledEvent]]) -> Iterator[tuple[str, bytes]]:
        """``store`` over groups of events, wherever they come from: spill segments on the local runners,
        batches from the runner's shuffle elsewhere (pipelines.stages.shuffle)."""
        writer = _PartitionFiles(self.layout, key)
        seen: set[str] = set()
        stored = self.stored_ids(key)
        pending: list[SpilledEvent] = []
        try:
            for group in groups:
                for event in group:
                    if event[0] in seen:
                        self.counts[names.DUPLICATES] += 1
                        continue
                    if event[0] in stored:  # written by an earlier run: once is enough
                        seen.add(event[0])
                        self.counts[names.ALREADY_STORED] += 1
                        continue
                    seen.add(event[0])
                    pending.append(event)
                if len(pending) >= self.settings.batch_size:
                    yield from self._write(key, pending, writer)
                    pending = []
            if pending:
                yield from self._write(key, pending, writer)
        except BaseException:
            writer.abandon()
            raise
        entries = writer.close()
        for entry in entries:
            self.counts[names.PARQUET_FILES if entry.kind == KIND_PARQUET else names.RAW_FILES] += 1
        self.files.extend(entries)

    def _write(
        self, key: PartitionKey, batch: list[SpilledEvent], writer: _PartitionFiles
    ) -> Iterator[tuple[str, bytes]]:
        table, kept, bad = events_table(batch)
        for event, reason in bad:
            self.counts[names.deadletter_counter("sink", "parquet_rejected")] += 1
            line = canonical_line(event[1], event[2])
            letter = DeadLetter("sink", "parquet_rejected", redact(reason), line, _location(line, self.layout, key))
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
    """The Parquet file and the raw archive of one key, opened on first write; hashed as written."""

    def __init__(self, layout: Layout, key: PartitionKey) -> None:
        self.layout = layout
        self.key = key
        self._pq_stream: HashingStream | None = None
        self._pq: pq.ParquetWriter | None = None
        self._pq_rows = 0
        self._pending: list[pa.Table] = []  # batches not yet written: the next row group
        self._pending_rows = self._pending_bytes = 0
        self._raw_stream: HashingStream | None = None
        self._raw: IGzipFile | None = None
        self._raw_lines = 0

    def write(self, table: pa.Table, raws: list[str | None]) -> None:
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self._pending_bytes += table.nbytes
        if self._pending_rows >= PARQUET_ROW_GROUP_ROWS or self._pending_bytes >= PARQUET_ROW_GROUP_BYTES:
            self._write_row_group()
        data = raw_lines(raws)  # nothing when the run keeps no raw records
        if data:
            if self._raw is None:
                self._raw_stream = _create(self.layout.raw_path(self.key))
                self._raw = IGzipFile(
                    filename="", mode="wb", fileobj=self._raw_stream, compresslevel=RAW_GZIP_LEVEL, mtime=0
                )
            self._raw.write(data)
            self._raw_lines += data.count(b"\n")

    def _write_row_group(self) -> None:
        if not self._pending:
            return
        if self._pq is None:
            self._pq_stream = _create(self.layout.parquet_path(self.key))
            self._pq = pq.ParquetWriter(self._pq_stream, arrow_schema(), compression=PARQUET_COMPRESSION)
        table = pa.concat_tables(self._pending)  # no copy: the batches become the chunks of one table
        self._pq.write_table(table, row_group_size=table.num_rows)
        self._pq_rows += table.num_rows
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0

    def close(self) -> list[FileEntry]:
        """Finish both files (on an object store, this commits them) and describe them."""
        self._write_row_group()
        entries = []
        if self._pq is not None and self._pq_stream is not None:
            self._pq.close()
            self._pq_stream.close()
            entries.append(self._entry(KIND_PARQUET, self._pq_stream, self._pq_rows))
        if self._raw is not None and self._raw_stream is not None:
            self._raw.close()
            self._raw_stream.close()
            entries.append(self._entry(KIND_RAW, self._raw_stream, self._raw_lines))
        return entries

    def abandon(self) -> None:
        """After a failure: drop both files without committing them (see manifest.abandon_stream)."""
        self._pending = []
        for stream in (self._pq_stream, self._raw_stream):
            if stream is not None:
                stream.abandon()

    def _entry(self, kind: str, stream: HashingStream, records: int) -> FileEntry:
        rel = relative_path(self.layout.root, stream.path)
        return FileEntry(self.layout.run_id, kind, rel, records, stream.size, stream.sha256.hexdigest())


def _create(path: str) -> HashingStream:
    # Local files: a hidden temporary name, renamed into place once complete; see manifest.create_output.
    return create_output(path)


class StorePartitionFn(beam.DoFn):
    """(key, [Segment]) -> SIEM JSON-lines batches on the main output, dead-letter batches tagged."""

    def __init__(self, layout: Layout, settings: Settings) -> None:
        self._layout = layout
        self._settings = settings

    def setup(self) -> None:
        bound_large_allocations()
        share_s3_clients()  # in worker processes too: one boto3 client, not one per file
        self._store = PartitionStore(self._layout, self._settings)
        self._counters = Counters()

    def start_bundle(self) -> None:
        self._store.counts.clear()

    def process(self, element: tuple[Key, Iterable[Segment]]) -> Iterator[object]:
        key, segments = element
        self._store.files.clear()
        for tag, blob in self._store.store(PartitionKey(*key), segments):
            yield blob if tag == SIEM else beam.pvalue.TaggedOutput(tag, blob)
        for entry in self._store.files:
            yield beam.pvalue.TaggedOutput(MANIFEST, entry.to_json())
        self._counters.push(self._store.counts)


class DedupAndStore(beam.PTransform):
    """(key, Segment) pointers -> cold storage written; returns ``siem`` and ``deadletters`` batches and
    ``manifest`` entries (one per file written)."""

    SIEM = SIEM
    DEADLETTERS = DEADLETTERS
    MANIFEST = MANIFEST

    def __init__(self, layout: Layout, settings: Settings) -> None:
        super().__init__()
        self._layout = layout
        self._settings = settings

    def expand(self, segments: beam.PCollection[Any]) -> beam.pvalue.DoOutputsTuple:
        return (
            segments
            | "GroupByPartition" >> beam.GroupByKey()
            | "DedupAndWrite"
            >> beam.ParDo(StorePartitionFn(self._layout, self._settings)).with_outputs(
                DEADLETTERS, MANIFEST, main=SIEM
            )
        )
