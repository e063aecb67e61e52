"""Cold storage for streaming panes: Hive-partitioned Parquet (the event schema, zstd) and the raw archive
(gzip JSON lines) per partition, the pane's SIEM file, its id index (read back at restart for
deduplication) and its manifest. The batch side of this stage is ``pipelines.store.DedupAndStore``;
both write with ``pipelines.store``'s format constants and ``events_table``.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.utils.timestamp import Timestamp

from pipelines import summary as names
from pipelines.layout import Layout, PartitionKey
from pipelines.manifest import (
    KIND_PARQUET,
    KIND_RAW,
    KIND_SIEM,
    FileEntry,
    HashingStream,
    relative_path,
    write_manifest,
)
from pipelines.read import DEADLETTERS
from pipelines.settings import Settings, StreamSettings
from pipelines.spill import SpilledEvent, canonical_line
from pipelines.stages.normalize import WindowKey
from pipelines.store import (
    PARQUET_COMPRESSION,
    RAW_GZIP_LEVEL,
    DedupAndStore,
    events_table,
    outcome_counts,
    raw_lines,
)
from schemas.arrow import arrow_schema
from schemas.deadletter import DeadLetter

__all__ = ["DedupAndStore", "PaneFiles", "PaneStore", "write_listed"]


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



class PaneStore:
    """Writes streaming panes; counts what it wrote in ``counts`` (taken by the caller)."""

    def __init__(self, layout: Layout, settings: Settings, stream: StreamSettings) -> None:
        self._layout = layout
        self._settings = settings
        self._stream = stream
        self.counts: Counter[str] = Counter()

    def write_pane(
        self, shard: int, window: int, pane: int, groups: dict[WindowKey, list[SpilledEvent]]
    ) -> Iterator[Any]:
        """One pane of one window of one shard: a Parquet file and a raw archive per partition, the id
        index, the pane's SIEM file and its manifest. Yields the SIEM JSON-lines batch (untagged) and
        dead-letter batches (tagged)."""
        files = PaneFiles(self._layout, window, pane)
        siem: list[bytes] = []
        listed: list[FileEntry] = []
        end = window + self._stream.window_us
        for key, events in sorted(groups.items()):
            part = PartitionKey(key[0], key[1], key[2], key[3])
            writer = PaneWriter(self._layout, files.parquet_path(part), files.raw_path(part))
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
            self.counts[names.PARQUET_FILES] += sum(e.kind == KIND_PARQUET for e in written)
            self.counts[names.RAW_FILES] += sum(e.kind == KIND_RAW for e in written)
            # After the data: a crash in between repeats these events on restart, never loses them.
            _write_bytes(files.ids_path(part), "".join(f"{e[0]}\t{end}\n" for e in events).encode())
        if siem:
            blob = b"\n".join(siem)
            listed.append(write_listed(self._layout, KIND_SIEM, files.siem_path(shard), blob + b"\n"))
            yield blob
        if listed:  # the pane's own manifest (cloudaudit verify): written last, named like the pane's files
            write_manifest(self._layout.root, f"{files.suffix}-s{shard:03d}", listed)

    def _write_batch(
        self, writer: PaneWriter, part: PartitionKey, batch: list[SpilledEvent]
    ) -> tuple[list[bytes], list[bytes]]:
        table, kept, bad = events_table(batch)
        dead = []
        for event, reason in bad:
            self.counts[names.deadletter_counter("sink", "parquet_rejected")] += 1
            line = canonical_line(event[1], event[2])
            dead.append(DeadLetter("sink", "parquet_rejected", reason, line, location_of(line)).to_json())
        if not kept:
            return [], dead
        writer.write(table, [raw for _, _, raw in kept])
        for outcome, n in outcome_counts(table).items():
            self.counts[names.written_counter(part.provider, outcome)] += n
        return [canonical_line(j, raw) for _, j, raw in kept], dead


class PaneWriter:
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


def write_listed(layout: Layout, kind: str, path: str, data: bytes) -> FileEntry:
    """A JSON-lines file written whole, and its manifest entry."""
    _write_bytes(path, data)
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    rel = relative_path(layout.root, path)
    return FileEntry(layout.run_id, kind, rel, lines, len(data), hashlib.sha256(data).hexdigest())


def _write_bytes(path: str, data: bytes) -> None:
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        f.write(data)


def location_of(line: bytes) -> str:
    try:
        return str(orjson.loads(line)["source"]["location"] or "")
    except Exception:
        return ""
