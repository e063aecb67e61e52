"""The manifest: every file a run wrote, with its record count, byte size and SHA-256, so that an auditor
can prove later that nothing in the cold storage was altered, lost or slipped in.

```
OUT/cold/_manifests/<run_id>.jsonl     one JSON object a line, one line per written file:
  {"manifest_version": 1, "run_id": "...", "kind": "parquet", "path": "cold/events/provider=aws/...",
   "records": 1234, "bytes": 56789, "sha256": "..."}
```

Paths are relative to OUT, so a lake that is copied elsewhere (another bucket, a local download) still
verifies. The hash is computed while the file is written (``HashingStream`` wraps the output stream):
reading a Parquet file back from an object store only to hash it would double the I/O. The SIEM and
dead-letter files, which Beam's text sink writes and renames, are hashed by reading them back once
(they are the smaller outputs).

Only files whose write finished are reported: the store stage reports a file after closing it, and a
runner drops the outputs of a failed bundle, so a partial file from a failed attempt is never listed;
``verify`` then reports it as an extra file.

``verify`` re-reads every listed file and reports missing, altered (size or hash) and extra files and
record-count mismatches; the ``cloudaudit verify`` command exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO

import apache_beam as beam
import orjson
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

MANIFEST_VERSION = 1
MANIFEST_DIR = ("cold", "_manifests")
# What ``verify`` looks through for files no manifest lists.
COLD_DIRS = (("cold", "events"), ("cold", "raw"))
READ_CHUNK = 4 << 20

KIND_PARQUET = "parquet"
KIND_RAW = "raw"
KIND_SIEM = "siem"
KIND_DEADLETTERS = "deadletters"


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One written file, as the manifest lists it."""

    run_id: str
    kind: str  # parquet | raw | siem | deadletters
    path: str  # relative to the output root, '/'-separated
    records: int
    bytes: int
    sha256: str

    def to_json(self) -> bytes:
        return orjson.dumps({"manifest_version": MANIFEST_VERSION, **asdict(self)})

    @classmethod
    def from_json(cls, line: bytes | str) -> FileEntry:
        d = orjson.loads(line)
        return cls(
            run_id=str(d["run_id"]),
            kind=str(d["kind"]),
            path=str(d["path"]),
            records=int(d["records"]),
            bytes=int(d["bytes"]),
            sha256=str(d["sha256"]),
        )


class HashingStream(io.RawIOBase):
    """A write-only stream that hashes and counts what goes through it into ``target``.

    ``close`` closes the target (which, on an object store, is what commits the upload); ``abandon``
    gives the target up without committing it, for a write that failed halfway.
    """

    def __init__(self, target: BinaryIO, path: str, final_path: str | None = None) -> None:
        super().__init__()
        self.target = target
        self.path = path
        self.final_path = final_path  # a local file is written as ``path`` and renamed to this on close
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.abandoned = False

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        view = memoryview(b)
        if self.abandoned:  # a Parquet or gzip writer finishing at garbage collection: drop it
            return view.nbytes
        self.target.write(view)
        self.sha256.update(view)
        self.size += view.nbytes
        return view.nbytes

    def flush(self) -> None:
        # Arrow and gzip flush often; the target buffers (object-store uploads flush on close).
        pass

    def close(self) -> None:
        if not self.closed and not self.abandoned:
            try:
                self.target.close()
                if self.final_path is not None:  # the commit: one atomic rename into the final name
                    os.replace(self.path, self.final_path)
                    self.path, self.final_path = self.final_path, None
            finally:
                super().close()

    def abandon(self) -> None:
        if not self.abandoned:
            self.abandoned = True
            abandon_stream(self.target, self.path)


def abandon_stream(stream: Any, path: str) -> None:
    """Give up a half-written file without committing it.

    Closing a Beam object-store stream commits it (S3 completes the multipart upload, Azure uploads the
    staged file, GCS finalizes the resumable upload), and so does garbage collection, which closes it
    too. So: GCS's writer is told to cancel its upload; Beam's ``UploaderStream`` (S3, Azure) is marked
    closed without finishing, so nothing is committed, and S3's multipart upload is aborted; a local file is closed and deleted (Beam writes
    local files in place).
    """
    layers: list[Any] = []
    s = stream
    while s is not None and s not in layers:
        layers.append(s)
        s = getattr(s, "raw", None) or getattr(s, "_file", None)
    for layer in layers:
        if hasattr(layer, "terminate"):  # google.cloud.storage.fileio.BlobWriter
            with contextlib.suppress(Exception):
                layer.terminate()
        elif type(layer).__name__ == "UploaderStream":
            io.RawIOBase.close(layer)
            _abort_s3_upload(getattr(layer, "_uploader", None))
    with contextlib.suppress(Exception):
        stream.close()  # a local file; elsewhere every committing layer is closed already
    if "://" not in path:
        with contextlib.suppress(OSError):
            os.remove(path)


def _abort_s3_upload(uploader: Any) -> None:
    """Beam's S3 uploader has started a multipart upload: abort it, so no parts are left billed
    (a bucket lifecycle rule AbortIncompleteMultipartUpload is the backstop)."""
    upload_id = getattr(uploader, "upload_id", None)
    boto = getattr(getattr(uploader, "_client", None), "client", None)
    if upload_id and boto is not None:
        with contextlib.suppress(Exception):
            boto.abort_multipart_upload(Bucket=uploader._bucket, Key=uploader._name, UploadId=upload_id)


TEMP_SUFFIX = ".inprogress"


def temp_name(path: str) -> str:
    """Where a local output file is written before its rename: hidden, and with a suffix no reader's
    glob (``*.parquet``, ``*.jsonl*``) matches, in the same folder so the rename is atomic."""
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.{os.getpid()}{TEMP_SUFFIX}")


def create_output(path: str) -> HashingStream:
    """A new output file, hashed as written, that no reader sees before it is complete.

    Local: written under ``temp_name(path)`` and renamed into place by ``close`` (a crash leaves only a
    hidden temporary file, which ``cloudaudit cleanup`` and the next run remove). Object stores: an
    object appears only when its upload completes, so the stream writes the final name directly; what
    makes it part of the lake is the run's manifest (see ``pipelines.cleanup``). The file's mode comes
    from the process umask, which a run sets (0600 by default).
    """
    if "://" in path:
        return HashingStream(FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED), path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = temp_name(path)
    return HashingStream(open(tmp, "wb"), tmp, final_path=path)


def write_atomically(path: str, blob: bytes) -> None:
    """One small file, all or nothing (local: temporary name and rename; object stores: one upload)."""
    stream = create_output(path)
    try:
        stream.write(blob)
    except BaseException:
        stream.abandon()
        raise
    stream.close()


def relative_path(root: str, path: str) -> str:
    """``path`` relative to the output root, '/'-separated (a local root may use the OS separator)."""
    root = root.rstrip("/\\")
    if path.startswith(root):
        rest = path[len(root):].lstrip("/\\")
        return rest.replace("\\", "/")
    return path


def manifest_path(root: str, run_id: str) -> str:
    return FileSystems.join(root, *MANIFEST_DIR, f"{run_id}.jsonl")


def write_manifest(root: str, run_id: str, entries: Iterable[FileEntry]) -> str:
    """All of a run's entries in one file, sorted by path so two manifests of one run compare equal.
    A run that wrote no file writes no manifest (S3 cannot take an empty object through Beam)."""
    path = manifest_path(root, run_id)
    blob = b"".join(e.to_json() + b"\n" for e in sorted(entries, key=lambda e: e.path))
    if not blob:
        return ""
    write_atomically(path, blob)  # the run's commit point: there, complete, or not there at all
    return path


def hash_text_file(root: str, run_id: str, kind: str, path: str) -> FileEntry:
    """A finished JSON-lines file: hash, size and line count, read back in chunks."""
    size, digest, lines = scan_file(path, kind)
    return FileEntry(run_id, kind, relative_path(root, path), lines, size, digest)


# --- Beam ---------------------------------------------------------------------------------------


class _HashTextFiles(beam.DoFn):
    def __init__(self, root: str, run_id: str, kind: str) -> None:
        self._root = root
        self._run_id = run_id
        self._kind = kind

    def process(self, path: str) -> Iterator[bytes]:
        yield hash_text_file(self._root, self._run_id, self._kind, path).to_json()


class HashTextFiles(beam.PTransform):
    """Final file names from ``WriteToText`` -> manifest entries (JSON bytes)."""

    def __init__(self, root: str, run_id: str, kind: str) -> None:
        super().__init__()
        self._fn = _HashTextFiles(root, run_id, kind)

    def expand(self, paths: beam.PCollection[str]) -> beam.PCollection[bytes]:
        # The file names come from one finalizing bundle; spread, each worker hashes some of them (two
        # workers, 1M events: 2 x 1.7 GB of SIEM files re-read by one worker, ~5 s at the run's end).
        return paths | "Spread" >> beam.Reshuffle() | "Hash" >> beam.ParDo(self._fn)


def _write_all(entries: list[bytes], root: str, run_id: str) -> str:
    from pipelines.metrics import mark_clock
    from pipelines.summary import LAST_WRITE

    path = write_manifest(root, run_id, (FileEntry.from_json(e) for e in entries))
    mark_clock(LAST_WRITE)  # a batch run's last write: every other output is written before it
    return path


class WriteManifest(beam.PTransform):
    """Manifest entries (JSON bytes, one per file) -> the run's manifest file, written once at the end
    (entries are few and small: one per file, so gathering them in one list is cheap)."""

    def __init__(self, root: str, run_id: str) -> None:
        super().__init__()
        self._root = root
        self._run_id = run_id

    def expand(self, entries: beam.PCollection[bytes]) -> beam.PCollection[str]:
        return (
            entries
            | "Gather" >> beam.combiners.ToList()
            | "Write" >> beam.Map(_write_all, self._root, self._run_id)
        )


def add_manifest(
    root: str,
    run_id: str,
    store_entries: beam.PCollection[bytes],
    siem_files: beam.PCollection[str] | None = None,
    deadletter_files: beam.PCollection[str] | None = None,
    label: str = "Manifest",
) -> beam.PCollection[str]:
    """Wire a run's manifest: the store stage's entries plus the hashed SIEM and dead-letter files."""
    parts = [store_entries]
    if siem_files is not None:
        parts.append(siem_files | f"{label}HashSiem" >> HashTextFiles(root, run_id, KIND_SIEM))
    if deadletter_files is not None:
        parts.append(deadletter_files | f"{label}HashDeadLetters" >> HashTextFiles(root, run_id, KIND_DEADLETTERS))
    return tuple(parts) | f"{label}Entries" >> beam.Flatten() | f"{label}Write" >> WriteManifest(root, run_id)


def leftover_remote_temp(folders: Iterable[str], run_id: str, prefixes: tuple[str, ...]) -> list[str]:
    """On an object store, this run's temporary "folders" (name prefixes) that are still there."""
    found: dict[str, int] = {}
    for folder in folders:
        try:
            (match,) = FileSystems.match([FileSystems.join(folder, f"*{run_id}*/**")])
        except Exception:
            continue
        base = folder.rstrip("/") + "/"
        for m in match.metadata_list:
            name = m.path[len(base):].split("/", 1)[0] if m.path.startswith(base) else ""
            if name.startswith(prefixes):
                found[base + name] = found.get(base + name, 0) + 1
    return [f"temporary folder left behind: {path} ({n} files)" for path, n in sorted(found.items())]


# --- verify -------------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    manifests: list[str] = field(default_factory=list)
    checked: int = 0
    records: int = 0
    missing: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    count_mismatch: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    unreadable_manifests: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.altered or self.count_mismatch or self.extra or self.unreadable_manifests)

    def text(self) -> str:
        lines = [
            f"verified {self.checked} files ({self.records} records) listed in {len(self.manifests)} manifests"
        ]
        for title, items in (
            ("MISSING", self.missing),
            ("ALTERED", self.altered),
            ("COUNT MISMATCH", self.count_mismatch),
            ("EXTRA, UNCOMMITTED (in no manifest: left by an interrupted run, 'cloudaudit cleanup' removes it)",
             self.extra),
            ("UNREADABLE MANIFEST", self.unreadable_manifests),
        ):
            lines.extend(f"  {title}: {item}" for item in items)
        lines.append("  all files match their manifests" if self.ok else "  verification FAILED")
        return "\n".join(lines)


def find_manifests(target: str) -> tuple[str, list[str]]:
    """``target`` is an output root or one manifest file -> (output root, manifest paths)."""
    norm = target.rstrip("/\\")
    if norm.endswith(".jsonl"):
        parent = norm.replace("\\", "/").rsplit("/", 3)
        if len(parent) == 4 and parent[1:3] == list(MANIFEST_DIR):
            return parent[0], [norm]
        raise ValueError(f"{target!r} is not inside a cold/_manifests/ folder of an output")
    pattern = FileSystems.join(norm, *MANIFEST_DIR, "*.jsonl")
    (match,) = FileSystems.match([pattern])
    return norm, sorted(m.path for m in match.metadata_list)


def verify(target: str) -> VerifyReport:
    """Re-read every file the manifests list; with an output root, also look for files none lists."""
    root, manifests = find_manifests(target)
    report = VerifyReport(manifests=manifests)
    listed: set[str] = set()
    for mpath in manifests:
        try:
            with FileSystems.open(mpath, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                entries = [FileEntry.from_json(line) for line in f.read().splitlines() if line.strip()]
        except Exception as exc:
            report.unreadable_manifests.append(f"{mpath}: {type(exc).__name__}: {exc}".splitlines()[0])
            continue
        for entry in entries:
            listed.add(entry.path)
            _check(root, entry, report)
    if not target.rstrip("/\\").endswith(".jsonl"):
        for parts in COLD_DIRS:
            for path in _list(FileSystems.join(root, *parts)):
                rel = relative_path(root, path)
                if rel not in listed:
                    report.extra.append(rel)
    return report


def _list(folder: str) -> list[str]:
    try:
        (match,) = FileSystems.match([FileSystems.join(folder, "**")])
    except Exception:
        return []
    return sorted(m.path for m in match.metadata_list if not m.path.endswith("/"))


def _check(root: str, entry: FileEntry, report: VerifyReport) -> None:
    path = FileSystems.join(root, *entry.path.split("/"))
    try:
        exists = FileSystems.exists(path)
    except Exception:
        exists = False
    if not exists:
        report.missing.append(entry.path)
        return
    report.checked += 1
    try:
        size, digest, records = scan_file(path, entry.kind)
    except Exception as exc:
        report.altered.append(f"{entry.path} (cannot be read as {entry.kind}: {type(exc).__name__}: {exc})"[:400])
        return
    if size != entry.bytes or digest != entry.sha256:
        report.altered.append(f"{entry.path} ({size} bytes, {entry.bytes} listed; sha256 differs)")
        return
    report.records += records
    if records != entry.records:
        report.count_mismatch.append(f"{entry.path} ({records} records, {entry.records} listed)")


def scan_file(path: str, kind: str) -> tuple[int, str, int]:
    """(bytes, SHA-256, records), streamed in chunks: Parquet rows come from the footer, JSON lines are
    counted as they go by (through gunzip for the raw archive)."""
    sha = hashlib.sha256()
    size = lines = 0
    last = b"\n"
    inflate = zlib.decompressobj(31) if kind == KIND_RAW else None
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        while chunk := f.read(READ_CHUNK):
            sha.update(chunk)
            size += len(chunk)
            if kind == KIND_PARQUET:
                continue
            text = chunk
            if inflate is not None:
                text = b""
                while chunk:
                    text += inflate.decompress(chunk)
                    chunk = inflate.unused_data  # the next gzip member, if any
                    if chunk:
                        inflate = zlib.decompressobj(31)
            if text:
                lines += text.count(b"\n")
                last = text[-1:]
    if kind == KIND_PARQUET:
        import pyarrow.parquet as pq

        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            return size, sha.hexdigest(), int(pq.ParquetFile(f).metadata.num_rows)
    return size, sha.hexdigest(), lines + (0 if last == b"\n" else 1)


# --- command line -------------------------------------------------------------------------------

def _cmd_verify(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from pipelines.errors import UsageError
    from pipelines.options import pipeline_options, use_filesystems

    use_filesystems(pipeline_options(list(extra)))
    try:
        report = verify(args.target)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"cannot read {args.target!r}: {first}") from None
    if not report.manifests and not report.unreadable_manifests and not report.extra:
        raise UsageError(f"no manifest found under {args.target!r} (looked in cold/_manifests/)")
    print(report.text(), flush=True)
    return 0 if report.ok else 1
