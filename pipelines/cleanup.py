"""Crash safety of an output folder: the manifest as commit point, the run lock, and the cleanup of what
an interrupted run left behind.

A run's files become part of the lake only when its manifest (``cold/_manifests/<run>.jsonl``) lists
them: the manifest is written last, in one piece (a local file is renamed into place, an object is one
upload). Local files are also written under hidden temporary names and renamed when complete, so no
reader ever opens half a file; on object stores an object appears only when its upload completes, but a
killed run can leave complete objects that no manifest lists. Readers and ``verify`` trust only listed
files, and ``cleanup`` removes the rest:

- cold-storage, SIEM and dead-letter files named after a run (``part-<run>-...``) that no manifest lists;
- hidden ``*.inprogress`` files (a local write that never finished);
- the temporary folders of runs that did not finish (``_tmp-<run>/`` spill files, Beam's
  ``beam-temp-*``/``.temp*`` folders).

Every batch run does this at its start, after taking the output's lock, and its summary lists what it
removed; ``cloudaudit cleanup OUTPUT`` does it on demand.

Concurrent runs: one run at a time per output. A run holds ``OUTPUT/_run.lock`` (run id, host, pid,
start) from start to end; a second run refuses to start with a message naming the holder. A lock whose
process is gone (same host, pid no longer alive: a kill -9) is stale and taken over. On an object store
the lock is advisory (Beam's filesystems have no create-if-absent): two runs started within the same
moment can both take it; ``cloudaudit cleanup OUTPUT --break-lock`` removes a lock whose run is known
to be dead.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipelines.errors import UsageError
from pipelines.manifest import MANIFEST_DIR, TEMP_SUFFIX, FileEntry, relative_path

LOCK_NAME = "_run.lock"
RUN_ID = r"\d{8}T\d{6}Z-[0-9a-f]{6}"
# Files a run writes, by folder under OUTPUT: only names that carry a run id are ever removed.
OUTPUT_FILES = (
    (("cold", "events"), re.compile(rf"part-{RUN_ID}.*\.parquet$")),
    (("cold", "raw"), re.compile(rf"part-{RUN_ID}.*\.jsonl\.gz$")),
    (("siem",), re.compile(rf"events-{RUN_ID}.*\.jsonl$")),
    (("deadletters",), re.compile(rf"deadletters-{RUN_ID}.*\.jsonl$")),
)
TEMP_FOLDERS = re.compile(rf"^(_tmp-{RUN_ID}|beam-temp-.*|\.temp.*)$")
TEMP_FOLDER_PARENTS = ((), ("siem",), ("deadletters",))


# --- what is committed -----------------------------------------------------------------------------


def committed(root: str) -> tuple[set[str], set[str]]:
    """(run ids with a manifest, paths relative to ``root`` listed in any manifest)."""
    runs: set[str] = set()
    paths: set[str] = set()
    for mpath in _match(FileSystems.join(root, *MANIFEST_DIR, "*.jsonl")):
        try:
            with FileSystems.open(mpath, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                for line in f.read().splitlines():
                    if line.strip():
                        entry = FileEntry.from_json(line)
                        runs.add(entry.run_id)
                        paths.add(entry.path)
        except Exception:  # an unreadable manifest is verify's to report; its files stay
            continue
    return runs, paths


def committed_files(root: str, folder: Sequence[str]) -> list[str]:
    """Full paths of the committed files under ``root/folder`` (e.g. one Hive partition)."""
    prefix = "/".join(folder).rstrip("/") + "/"
    _, paths = committed(root)
    return sorted(FileSystems.join(root, *p.split("/")) for p in paths if p.startswith(prefix))


# --- cleanup ---------------------------------------------------------------------------------------


def cleanup(root: str, only_run: str | None = None) -> list[str]:
    """Remove what interrupted runs left under ``root`` (only ``only_run``'s files, if given) and say
    what, one line per file or folder. Never touches a file a manifest lists, or a name no run writes."""
    if "://" not in root and not os.path.isdir(root):
        return []
    _, listed = committed(root)
    removed: list[str] = []
    for folder, pattern in OUTPUT_FILES:
        for path in _match(FileSystems.join(root, *folder, "**")):
            rel = relative_path(root, path)
            name = rel.rsplit("/", 1)[-1]
            if rel in listed or (only_run and only_run not in name):
                continue
            temp = name.startswith(".") and name.endswith(TEMP_SUFFIX)
            if (pattern.match(name) or temp) and _delete(path):
                removed.append(f"uncommitted file {rel}")
    if not only_run:  # the writability probe of a run killed in its first second
        for path in _match(FileSystems.join(root, ".cloudaudit-probe-*")):
            if _delete(path):
                removed.append(f"probe file {relative_path(root, path)}")
    for parent in TEMP_FOLDER_PARENTS:
        for name, path in _children(FileSystems.join(root, *parent) if parent else root):
            if TEMP_FOLDERS.match(name) and (not only_run or only_run in name):
                n = _delete_tree(path)
                if n:
                    removed.append(f"temporary folder {relative_path(root, path)} ({n} files)")
    return removed


def _match(pattern: str) -> list[str]:
    try:
        (m,) = FileSystems.match([pattern])
    except Exception:
        return []
    return sorted(x.path for x in m.metadata_list if not x.path.endswith("/"))


def _children(folder: str) -> Iterator[tuple[str, str]]:
    if "://" not in folder:
        with contextlib.suppress(OSError), os.scandir(folder) as it:
            for entry in list(it):
                if entry.is_dir(follow_symlinks=False):
                    yield entry.name, entry.path
        return
    base = folder.rstrip("/") + "/"
    seen: set[str] = set()
    for path in _match(base + "**"):
        head = path[len(base):].split("/", 1)
        if len(head) == 2 and head[0] not in seen:
            seen.add(head[0])
            yield head[0], base + head[0]


def _delete(path: str) -> bool:
    try:
        FileSystems.delete([path])
        return True
    except Exception:
        return False


def _delete_tree(path: str) -> int:
    if "://" not in path:
        n = sum(len(files) for _, _, files in os.walk(path))
        shutil.rmtree(path, ignore_errors=True)
        return max(n, 1)
    files = _match(path.rstrip("/") + "/**")
    if files:
        with contextlib.suppress(Exception):
            FileSystems.delete(files)
    return len(files)


# --- the run lock ----------------------------------------------------------------------------------


@dataclass
class Lock:
    root: str
    run_id: str
    path: str = ""
    taken_over: list[str] = field(default_factory=list)

    def acquire(self) -> None:
        self.path = FileSystems.join(self.root, LOCK_NAME)
        me = orjson.dumps(
            {"run_id": self.run_id, "host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}
        )
        for _ in range(2):
            holder = _read_lock(self.path)
            if holder is not None:
                if not _stale(holder):
                    raise UsageError(
                        f"output {self.root!r} is in use by run {holder.get('run_id')} (pid {holder.get('pid')} "
                        f"on {holder.get('host')}); one run at a time per output. If that run is gone, "
                        f"'cloudaudit cleanup {self.root} --break-lock' removes its lock"
                    )
                self.taken_over.append(f"stale lock of run {holder.get('run_id')} (pid {holder.get('pid')} is gone)")
                _delete(self.path)
            if "://" in self.path:
                with FileSystems.create(self.path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                    f.write(me)
                return
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                continue  # another run took it between our look and our create: look again
            with os.fdopen(fd, "wb") as f:
                f.write(me)
            return
        raise UsageError(f"output {self.root!r} is in use by another run (its lock {self.path} keeps coming back)")

    def release(self) -> None:
        holder = _read_lock(self.path) if self.path else None
        if holder is not None and holder.get("run_id") == self.run_id:
            _delete(self.path)


def _read_lock(path: str) -> dict[str, Any] | None:
    try:
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            data = orjson.loads(f.read() or b"{}")
    except Exception:
        try:
            exists = FileSystems.exists(path)
        except Exception:
            exists = False
        return {"run_id": "?", "host": "?", "pid": "?"} if exists else None
    return data if isinstance(data, dict) else {}


def _stale(holder: dict[str, Any]) -> bool:
    """A lock of this host whose process is gone (or an empty lock: a run killed while taking it)."""
    if not holder:
        return True
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def break_lock(root: str) -> str | None:
    path = FileSystems.join(root, LOCK_NAME)
    holder = _read_lock(path)
    if holder is None:
        return None
    _delete(path)
    return f"lock of run {holder.get('run_id')} (pid {holder.get('pid')} on {holder.get('host')})"


# --- command line ----------------------------------------------------------------------------------

def _cmd_cleanup(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from pipelines.options import pipeline_options, use_filesystems
    from pipelines.redact import redact

    use_filesystems(pipeline_options(list(extra)))
    if args.break_lock:
        broken = break_lock(args.output)
        if broken:
            print(f"removed the {broken}")
    lock = Lock(args.output, "cleanup")
    lock.acquire()
    try:
        removed = cleanup(args.output)
    finally:
        lock.release()
    for line in removed:
        print(redact(f"removed {line}"))
    print(f"{len(removed)} leftovers removed from {args.output}")
    return 0
