"""Cold storage for streaming panes: Hive-partitioned Parquet (the event schema, zstd) and the raw archive
(gzip JSON lines) per partition, the pane's SIEM file, its id index (read back at restart for
deduplication) and its manifest. The batch side of this stage is ``pipelines.store.DedupAndStore``;
both write through the same partition writer (``pipelines.store``: Parquet + raw archive, hashed for the
manifest, abandoned rather than committed on failure) and ``events_table``; a pane is a partition whose
file names carry the window and pane (``Layout.pane``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import apache_beam as beam
import orjson
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.utils.timestamp import Timestamp

from pipelines import summary as names
from pipelines.layout import Layout, PartitionKey
from pipelines.local import acks
from pipelines.manifest import (
    KIND_PARQUET,
    KIND_RAW,
    KIND_SIEM,
    FileEntry,
    relative_path,
    write_manifest,
)
from pipelines.metrics import mark_clock
from pipelines.read import DEADLETTERS
from pipelines.settings import Settings, StreamSettings
from pipelines.spill import SpilledEvent, canonical_line
from pipelines.stages.normalize import WindowKey
from pipelines.store import (
    DedupAndStore,
    events_table,
    outcome_counts,
)
from pipelines.store import _PartitionFiles as PartitionFiles  # the one partition writer
from schemas.deadletter import DeadLetter

__all__ = ["DedupAndStore", "PaneFiles", "PaneStore", "PartitionFiles", "write_listed"]


def _stamp(window_us: int) -> str:
    return Timestamp(micros=window_us).to_utc_datetime().strftime("%Y%m%dT%H%M%S")


class PaneFiles:
    """File names of one pane of one window, per partition: unique per run, window, pane and shard."""

    def __init__(self, layout: Layout, window_us: int, pane: int) -> None:
        # The pane's layout: the batch store's Parquet and raw-archive paths, named after the pane.
        self.layout = replace(layout, pane=f"-w{_stamp(window_us)}-p{pane:03d}")
        self.suffix = self.layout.stem

    def _name(self, key: PartitionKey, ext: str) -> str:
        return f"part-{self.suffix}-s{key.shard:03d}.{ext}"

    def parquet_path(self, key: PartitionKey) -> str:
        return self.layout.parquet_path(key)

    def raw_path(self, key: PartitionKey) -> str:
        return self.layout.raw_path(key)

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
        run_id = self._layout.run_id
        siem: list[bytes] = []
        listed: list[FileEntry] = []
        end = window + self._stream.window_us
        for key, events in sorted(groups.items()):
            part = PartitionKey(key[0], key[1], key[2], key[3])
            # The batch store's writer (pipelines.store): one Parquet + raw-archive format and commit.
            writer = PartitionFiles(files.layout, part)
            try:
                for start in range(0, len(events), self._settings.batch_size):
                    batch = events[start : start + self._settings.batch_size]
                    siem_lines, dead, dead_ids = self._write_batch(writer, part, batch)
                    siem.extend(siem_lines)
                    if dead:
                        blob = b"\n".join(dead)
                        acks.transfer(run_id, [acks.event_token(i) for i in dead_ids], acks.blob_token(blob))
                        yield beam.pvalue.TaggedOutput(DEADLETTERS, blob)
            except BaseException:
                writer.abandon()  # nothing partial is committed; the pane is written again on retry
                raise
            written = writer.close()
            listed.extend(written)
            self.counts[names.PARQUET_FILES] += sum(e.kind == KIND_PARQUET for e in written)
            self.counts[names.RAW_FILES] += sum(e.kind == KIND_RAW for e in written)
            # After the data: a crash in between repeats these events on restart, never loses them.
            _write_bytes(files.ids_path(part), "".join(f"{e[0]}\t{end}\n" for e in events).encode())
        if siem:
            blob = b"\n".join(siem)
            listed.append(write_listed(self._layout, KIND_SIEM, files.siem_path(shard), blob + b"\n"))
            if self._stream.security_lake:  # the OCSF copy: one file per class, region, account and day
                from pipelines.securitylake import write_security_lake

                write_security_lake(siem, self._stream.security_lake, self._stream.security_lake_prefix)
            yield blob
        if listed:  # the pane's own manifest (cloudaudit verify): written last, named like the pane's files
            write_manifest(self._layout.root, pane_manifest_name(files.suffix, shard), listed)
        mark_clock(names.LAST_WRITE)
        # Committed: the deliveries that carried these events may be acknowledged (local runner).
        acks.durable(run_id, [acks.event_token(e[0]) for events in groups.values() for e in events])

    def _write_batch(
        self, writer: PartitionFiles, part: PartitionKey, batch: list[SpilledEvent]
    ) -> tuple[list[bytes], list[bytes], list[str]]:
        table, kept, bad = events_table(batch)
        dead = []
        dead_ids = [event[0] for event, _ in bad]
        for event, reason in bad:
            self.counts[names.deadletter_counter("sink", "parquet_rejected")] += 1
            line = canonical_line(event[1], event[2])
            dead.append(DeadLetter("sink", "parquet_rejected", reason, line, location_of(line)).to_json())
        if not kept:
            return [], dead, dead_ids
        writer.write(table, [raw for _, _, raw in kept])
        for outcome, n in outcome_counts(table).items():
            self.counts[names.written_counter(part.provider, outcome)] += n
        return [canonical_line(j, raw) for _, j, raw in kept], dead, dead_ids


def pane_manifest_name(suffix: str, shard: int) -> str:
    """The manifest of one pane of one shard; its id index files are ``part-<name>.ids``."""
    return f"{suffix}-s{shard:03d}"


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
