"""A progress bar for a long local batch run: files and bytes done, events/s and ETA, on a terminal only.

The read stage runs in worker processes that the command cannot see into while the pipeline runs, so
each worker process writes its running totals to a small file in the run's private spill folder
(``_progress/<pid>.json``, replaced atomically, at most every ``WRITE_EVERY`` seconds); the command
sums them and draws the bar with tqdm. Nothing is shown, and nothing written, when stderr is not a
terminal, or when the spill folder is not local (a remote runner has its own monitoring).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson

FOLDER = "_progress"
WRITE_EVERY = 0.5
DRAW_EVERY = 0.5
ENV = "CLOUDAUDIT_PROGRESS"  # set by the command for its worker processes: "1" when a bar is shown

_totals: dict[str, int] = {"files": 0, "bytes": 0, "records": 0}
_last_write = 0.0


def enabled() -> bool:
    return os.environ.get(ENV) == "1"


def tick(spill_dir: str, files: int = 0, size: int = 0, records: int = 0) -> None:
    """A worker's progress (called by the read stage after each file); cheap when no bar is shown."""
    global _last_write
    if not enabled() or "://" in spill_dir:
        return
    _totals["files"] += files
    _totals["bytes"] += size
    _totals["records"] += records
    now = time.monotonic()
    if now - _last_write < WRITE_EVERY:
        return
    _last_write = now
    folder = os.path.join(spill_dir, FOLDER)
    with contextlib.suppress(OSError):
        os.makedirs(folder, mode=0o700, exist_ok=True)
        tmp = os.path.join(folder, f".{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(orjson.dumps(_totals))
        os.replace(tmp, os.path.join(folder, f"{os.getpid()}.json"))


def read_totals(spill_dir: str) -> dict[str, int]:
    out = {"files": 0, "bytes": 0, "records": 0}
    folder = os.path.join(spill_dir, FOLDER)
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            if name.endswith(".json"):
                with contextlib.suppress(OSError, ValueError):
                    with open(os.path.join(folder, name), "rb") as f:
                        d = orjson.loads(f.read())
                    for k in out:
                        out[k] += int(d.get(k, 0))
    return out


@contextlib.contextmanager
def display(spill_dir: str, total_files: int, total_bytes: int, stream: Any = None) -> Iterator[None]:
    """Draw the bar while inside, if ``stream`` (stderr) is a terminal and the spill folder is local."""
    stream = stream if stream is not None else sys.stderr
    if "://" in spill_dir or not total_bytes or not getattr(stream, "isatty", lambda: False)():
        yield
        return
    from tqdm import tqdm

    old = os.environ.get(ENV)
    os.environ[ENV] = "1"  # worker processes started from here inherit it
    stop = threading.Event()
    bar = tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024, file=stream,
               desc="reading", dynamic_ncols=True, leave=False)
    started = time.monotonic()

    def draw() -> None:
        while not stop.wait(DRAW_EVERY):
            t = read_totals(spill_dir)
            bar.n = min(t["bytes"], total_bytes)
            rate = t["records"] / max(time.monotonic() - started, 1e-6)
            bar.set_postfix_str(f"files {t['files']}/{total_files}, {rate:,.0f} records/s", refresh=False)
            bar.refresh()

    thread = threading.Thread(target=draw, name="cloudaudit-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=2)
        bar.close()
        if old is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = old
