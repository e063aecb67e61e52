"""Read stage: file patterns -> normalized events in spill files (by partition key) + dead letters.

``list_inputs`` decides which matched files are read: a directory input reads only log-like files
(``LOG_LIKE``; ``--include GLOB`` replaces that list), and FIFOs, devices, sockets and dangling links
are never opened (a FIFO would block the run); every file left out is counted by why
(``skipped_inputs/<why>`` in the summary). Files named explicitly, or matched by a glob, are read.

``FileReader`` does the work without Beam: it streams each file through the ``Normalizer`` (memory
bounded by one batch, whatever the file's size), enriches and serializes every event once, buffers
events by partition key and writes a spill file per batch; dead letters are batched as JSON lines.
Events travel from the normalizer to the spill as canonical documents (``schemas.fastpath``: plain
dicts, no model instances), which the enrichers change in place. ``ReadFiles`` is the Beam composite
around it.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes, FileMetadata
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from connectors.errors import NonEvent
from connectors.normalize import Normalizer, Result
from enrichers.context import EnrichmentContext, ReferenceData, context_for, enrich_document
from pipelines import progress
from pipelines import summary as names
from pipelines.layout import Key
from pipelines.memory import bound_large_allocations
from pipelines.metrics import Counters, mark_clock
from pipelines.redact import redact
from pipelines.settings import Settings
from pipelines.spill import SpilledEvent, encode_event, write_spill
from pipelines.stages.lone_start import STARTS, StartCollector
from schemas.deadletter import DeadLetter
from schemas.fastpath import Doc

SEGMENTS = "segments"
DEADLETTERS = "deadletters"

# Past these many bytes a batch is flushed whatever its count (a few records can be megabytes each).
SPILL_FLUSH_BYTES = 64 << 20
DEADLETTER_FLUSH_BYTES = 16 << 20


# What a directory input reads by default: the clouds' delivery and export names (CloudTrail
# ``*_CloudTrail_*.json.gz``, GCP ``*.json``/``*.jsonl`` exports, Azure ``PT1H.json``) and log files.
LOG_LIKE = ("*.json", "*.json.gz", "*.jsonl", "*.jsonl.gz", "*.ndjson", "*.ndjson.gz", "*.gz", "*.log",
            "*.log.gz", "PT1H.json")
SKIP_NOT_LOG_LIKE = "not_log_like"
SKIP_SPECIAL = "special_file"  # FIFO, device, socket
SKIP_DANGLING = "dangling_link"
SKIP_DIR_LINK = "directory_link"  # a link to a folder inside a directory input: not followed


def is_directory_input(pattern: str) -> bool:
    """``options.expand_input`` turns a directory into ``dir/**``."""
    return pattern.endswith(("/**", os.sep + "**"))


def wanted(path: str, include: Sequence[str]) -> bool:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    globs = include or LOG_LIKE
    return any(fnmatch.fnmatch(name, g) or fnmatch.fnmatch(path, g) for g in globs)


def list_inputs(pattern: str, include: Sequence[str] = ()) -> Iterator[tuple[str, FileMetadata | None]]:
    """(``"read"``, metadata) for each file to read, (why, None) for each one left out."""
    folder = pattern[:-3]
    if is_directory_input(pattern) and "://" not in pattern and os.path.isdir(folder):
        for top, dirs, files in os.walk(folder):
            for d in list(dirs):
                if os.path.islink(os.path.join(top, d)):
                    yield SKIP_DIR_LINK, None
            for name in sorted(files):
                yield _local_file(os.path.join(top, name), include)
        return
    directory = is_directory_input(pattern)
    for m in FileSystems.match([pattern])[0].metadata_list:
        if m.path.endswith("/"):
            continue
        if "://" not in m.path:
            why, _ = _local_file(m.path, include if directory else None)
            if why != "read":
                yield why, None
                continue
        if directory and not wanted(m.path, include):
            yield SKIP_NOT_LOG_LIKE, None
            continue
        yield "read", m


def _local_file(path: str, include: Sequence[str] | None) -> tuple[str, FileMetadata | None]:
    try:
        st = os.stat(path)  # follows a link
    except FileNotFoundError:
        return (SKIP_DANGLING if os.path.islink(path) else SKIP_SPECIAL), None
    except OSError:
        return SKIP_SPECIAL, None
    if stat.S_ISDIR(st.st_mode):
        return SKIP_DIR_LINK, None
    if not stat.S_ISREG(st.st_mode):
        return SKIP_SPECIAL, None
    if include is not None and not wanted(path, include):
        return SKIP_NOT_LOG_LIKE, None
    return "read", FileMetadata(path, st.st_size)


class ListInputsFn(beam.DoFn):
    """Pattern -> the FileMetadata of each file to read; what is left out is counted."""

    def __init__(self, include: Sequence[str]) -> None:
        self._include = tuple(include)

    def setup(self) -> None:
        self._counters = Counters()

    def process(self, pattern: str) -> Iterator[FileMetadata]:
        counts: Counter[str] = Counter()
        for why, metadata in list_inputs(pattern, self._include):
            if metadata is not None:
                yield metadata
            else:
                counts[f"{names.SKIPPED}/{why}"] += 1
        self._counters.push(counts)


def partition_key(doc: Doc, shards: int) -> Key:
    """(provider, date, hour, shard) of a canonical event document: Hive partition from the event's UTC
    time, shard from its id."""
    t = doc["when"]["time"]
    if t.utcoffset():
        t = t.astimezone(UTC)
    iso = t.isoformat()  # YYYY-MM-DDTHH:...: one C call instead of three formats
    shard = zlib.crc32(doc["id"].encode()) % shards if shards > 1 else 0
    return (str(doc["where"]["provider"]), iso[:10], iso[11:13], shard)


Output = tuple[str, object]  # (SEGMENTS, (key, Segment)) or (DEADLETTERS, bytes of JSON lines)


class FileReader:
    """Normalizes files into spill segments and dead-letter batches; counts what it saw in ``counts``."""

    def __init__(self, settings: Settings, spill_dir: str) -> None:
        self.settings = settings
        self.spill_dir = spill_dir
        self.normalizer = Normalizer(
            max_record_bytes=settings.max_record_bytes,
            keep_raw=True,  # enrichment may read it; dropped after when the run does not keep it
            registered=settings.connectors,
            documents=True,  # events as canonical documents: validated, never built as models
        )
        self.counts: Counter[str] = Counter()
        # An enrichers.context.EnrichmentContext, set by the DoFn from its side input (None: no enrichment).
        self.enrichment: EnrichmentContext | None = None
        self.starts: StartCollector | None = None  # Settings.lone_starts (pipelines/stages/lone_start.py)
        if settings.lone_starts:
            self.starts = StartCollector(settings.keep_raw)
            self.starts.install(self.normalizer)
        self.reset()

    def reset(self) -> None:
        """Forget what is buffered (a bundle that failed is retried from its start)."""
        self.counts.clear()
        self._events: dict[Key, list[SpilledEvent]] = {}
        self._event_count = 0
        self._event_bytes = 0
        self._dead: list[bytes] = []
        self._dead_bytes = 0
        if self.starts is not None:
            self.starts.reset()

    def read(self, path: str, size: int = 0) -> Iterator[Output]:
        """One file, streamed: plain or gzip (the normalizer tells them apart by magic bytes)."""
        self.counts[names.FILES_READ] += 1
        self.counts[names.BYTES_READ] += size
        try:
            f = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
        except Exception as exc:  # vanished, permission denied, ...: the file is one dead letter
            reason = f"cannot open file: {type(exc).__name__}: {exc}".splitlines()[0]
            yield from self.add(DeadLetter("read", "unreadable_file", reason, b"", path))
            return
        with f:
            for result in self.normalizer.stream(f, path):
                yield from self.add(result)

    def read_blob(self, location: str, data: bytes, error: str | None = None) -> Iterator[Output]:
        """One delivered file or message (a source's blob); ``error`` says it was announced but could not
        be fetched, which makes it one dead letter, like a file that cannot be opened."""
        self.counts[names.FILES_READ] += 1
        self.counts[names.BYTES_READ] += len(data)
        if error is not None:
            reason = " ".join(f"cannot read: {error}".split())[:1000]
            # A message that could not be understood keeps its bytes, so it can be replayed.
            yield from self.add(DeadLetter("read", "unreadable_file", reason, data, location))
            return
        for result in self.normalizer.blob(data, location):
            yield from self.add(result)

    def key_of(self, doc: Doc) -> Key:
        """Where an event is buffered before a flush: its partition key (streaming adds the window)."""
        return partition_key(doc, self.settings.dedup_shards)

    def add(self, result: Result | Doc) -> Iterator[Output]:
        self.counts[names.RECORDS_READ] += 1
        if type(result) is dict:  # an event: the normalizer yields canonical documents
            self.counts[names.EVENTS_NORMALIZED] += 1
            # In place, before the one serialization; never drops an event.
            enrich_document(result, self.enrichment, self.counts, self.settings.keep_raw)
            spilled = encode_event(result)
            key = self.key_of(result)
            self._events.setdefault(key, []).append(spilled)
            self._event_count += 1
            self._event_bytes += len(spilled[1]) + len(spilled[2] or "")
            if self._event_count >= self.settings.batch_size or self._event_bytes >= SPILL_FLUSH_BYTES:
                yield from self.flush_events()
            if self.starts is not None and self.starts.full:
                yield from self.starts.flush(self.counts)
        elif isinstance(result, DeadLetter):
            self.counts[names.deadletter_counter(result.stage, result.code)] += 1
            result.reason, result.location = redact(result.reason), redact(result.location)
            line = result.to_json()
            self._dead.append(line)
            self._dead_bytes += len(line)
            if len(self._dead) >= self.settings.batch_size or self._dead_bytes >= DEADLETTER_FLUSH_BYTES:
                yield from self.flush_deadletters()
        elif isinstance(result, NonEvent):
            if self.starts is not None and self.starts.take(result):  # held until the run's end
                if self.starts.full:
                    yield from self.starts.flush(self.counts)
                return
            self.counts[names.non_event_counter(result.kind)] += 1
        else:
            raise TypeError(f"normalizer gave a {type(result).__name__}")

    def flush(self) -> Iterator[Output]:
        yield from self.flush_events()
        yield from self.flush_deadletters()
        if self.starts is not None:
            yield from self.starts.flush(self.counts)

    def flush_events(self) -> Iterator[Output]:
        if not self._events:
            return
        for key_segment in write_spill(self.spill_dir, self._events):
            yield SEGMENTS, key_segment
        self._events = {}
        self._event_count = self._event_bytes = 0

    def flush_deadletters(self) -> Iterator[Output]:
        if not self._dead:
            return
        blob = b"\n".join(self._dead)
        self._dead = []
        self._dead_bytes = 0
        yield DEADLETTERS, blob


class ReaderFn(beam.DoFn):
    """The read stage's DoFn skeleton: one ``reader_class`` per worker, reset at each bundle's start, given
    the enrichment side input; its outputs are (key, Segment) pointers on the main output and dead-letter
    (or other) batches tagged, and what a bundle leaves buffered is flushed at its end. A subclass says
    what one element is in ``read_element``."""

    reader_class: type[FileReader] = FileReader

    def __init__(self, settings: Settings, spill_dir: str) -> None:
        self._settings = settings
        self._spill_dir = spill_dir

    def setup(self) -> None:
        bound_large_allocations()
        self._reader = self.reader_class(self._settings, self._spill_dir)
        self._counters = Counters()

    def start_bundle(self) -> None:
        self._reader.reset()
        self._clock_marked = False

    def read_element(self, element: Any) -> Iterator[Output]:
        raise NotImplementedError

    def process(self, element: Any, enrichment: ReferenceData | None = None) -> Iterator[object]:
        if enrichment is not None:  # the side input; built once per worker process, cached by its digest
            self._reader.enrichment = context_for(enrichment)
        if not self._clock_marked:  # the run's first read is the earliest of these (the summary's rate)
            mark_clock(names.FIRST_READ)
            self._clock_marked = True
        for tag, value in self.read_element(element):
            yield _tagged(tag, value)
        self._counters.push(self._reader.counts)

    def finish_bundle(self) -> Iterator[WindowedValue]:
        # What is still buffered is flushed once per bundle, so many small elements share spill files.
        for tag, value in self._reader.flush():
            yield _tagged_windowed(tag, value)
        self._counters.push(self._reader.counts)


class ReadFilesFn(ReaderFn):
    """FileMetadata -> (key, Segment) pointers on the main output, dead-letter batches tagged."""

    def read_element(self, element: FileMetadata) -> Iterator[Output]:
        yield from self._reader.read(element.path, element.size_in_bytes)
        # A terminal's progress bar (pipelines/progress.py): a no-op unless the command shows one.
        progress.tick(self._spill_dir, 1, element.size_in_bytes, self._reader.counts[names.RECORDS_READ])


def _tagged(tag: str, value: object) -> object:
    return value if tag == SEGMENTS else beam.pvalue.TaggedOutput(tag, value)


def _tagged_windowed(tag: str, value: object) -> object:
    wv = WindowedValue(value, GlobalWindow().max_timestamp(), [GlobalWindow()])
    return wv if tag == SEGMENTS else beam.pvalue.TaggedOutput(tag, wv)


class ReadStage(beam.PTransform):
    """What the read stage's composites share: their settings, spill folder and enrichment side input, and
    their outputs ``segments`` and ``deadletters``."""

    SEGMENTS = SEGMENTS
    DEADLETTERS = DEADLETTERS
    STARTS = STARTS

    def __init__(
        self, settings: Settings, spill_dir: str, enrichment: beam.pvalue.AsSingleton | None = None
    ) -> None:
        super().__init__()
        self._settings = settings
        self._spill_dir = spill_dir
        self._enrichment = enrichment  # side input of one enrichers.context.ReferenceData, or None

    def enrichment_kwargs(self) -> dict[str, beam.pvalue.AsSingleton]:
        """The keyword side inputs of the ``ReaderFn``'s ParDo (none without enrichment)."""
        return {"enrichment": self._enrichment} if self._enrichment is not None else {}


class ReadFiles(ReadStage):
    """File patterns (paths, globs, Beam filesystem URIs) -> a tuple of PCollections: ``segments``
    ((key, Segment) pointers to spilled events) and ``deadletters`` (bytes, one JSON line per letter)."""

    fn_class: type[ReadFilesFn] = ReadFilesFn  # what reads one file (stages/shuffle.py: into batches)

    def expand(self, patterns: beam.PCollection[str]) -> beam.pvalue.DoOutputsTuple:
        side = self.enrichment_kwargs()
        return (
            patterns
            | "Match" >> beam.ParDo(ListInputsFn(getattr(self._settings, "include", ())))
            | "SpreadFiles" >> beam.Reshuffle()
            | "Normalize"
            >> beam.ParDo(self.fn_class(self._settings, self._spill_dir), **side)
            .with_outputs(DEADLETTERS, STARTS, main=SEGMENTS)
        )

