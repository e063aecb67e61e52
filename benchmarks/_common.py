"""What the benchmark scripts share: finding the project, sample data in a temporary folder, running the
pipeline as a child process (wall time and peak RSS), and printing figures.

Benchmarks print; they never assert a time. Run them from anywhere: ``python benchmarks/bench_x.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def connectors_in_place() -> dict[str, bool]:
    """Which connectors are real (a placeholder claims nothing and is named so)."""
    from connectors.registry import connectors

    return {c.name: type(c).__name__ != "_Placeholder" for c in connectors()}


def pipeline_in_place() -> bool:
    import importlib.util

    return (
        importlib.util.find_spec("pipelines.cli") is not None
        and importlib.util.find_spec("pipelines.batch") is not None
    )


def describe_setup() -> str:
    cs = ", ".join(f"{k} {'yes' if v else 'PLACEHOLDER'}" for k, v in connectors_in_place().items())
    return f"connectors: {cs}; pipeline: {'yes' if pipeline_in_place() else 'NOT PRESENT'}"


@contextmanager
def workdir(keep: bool, base: str | None = None, name: str = "cloudaudit-bench-") -> Iterator[Path]:
    """A temporary folder, removed afterwards unless ``keep``."""
    path = Path(tempfile.mkdtemp(prefix=name, dir=base))
    try:
        yield path
    finally:
        if keep:
            print(f"kept: {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def generate_data(out: Path, events: int, seed: int, layout: str) -> dict[str, Any]:
    from sampledata import generate

    t = time.perf_counter()
    m = generate(str(out), events, seed, layout=layout)
    took = time.perf_counter() - t
    mib = m["bytes"] / (1 << 20)
    print(
        f"generated {m['records']:,} records ({events:,} events asked, layout {layout}, seed {seed}) in "
        f"{len(m['files'])} files, {mib:,.1f} MiB, in {took:.1f}s ({events / max(took, 1e-9):,.0f} events/s)"
    )
    return m


@dataclass
class ChildRun:
    returncode: int
    wall_seconds: float
    max_rss_bytes: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0  # user + system of the child and the worker processes it waited for


def run_child(argv: Sequence[str], cwd: Path = ROOT) -> ChildRun:
    """Run a command, return its exit status, wall time and peak resident set size (``wait4``'s rusage:
    this child and the descendants it waited for, nothing of this process)."""
    reset_peak_rss()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen(list(argv), cwd=cwd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        # ru_maxrss is in KiB on Linux (bytes on macOS).
        rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        return ChildRun(
            p.returncode,
            wall,
            rss,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            usage.ru_utime + usage.ru_stime,
        )


def reset_peak_rss() -> None:
    """Lower this process's peak RSS to its current RSS, before starting a child to measure.

    Linux gives a child that calls exec the peak RSS of the memory it was forked from: its ``ru_maxrss``
    is at least this process's own peak, whatever the child uses. Generating 1,000,000 events here peaks
    near 600 MiB, which the pipeline's child then reported as its own (measured: a child running ``pass``
    reports 811 MiB after its parent touched 800 MiB, 11 MiB after this reset). Writing 5 to
    ``/proc/self/clear_refs`` (Linux 4.0+) resets the peak; elsewhere this is a no-op.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def pipeline_argv(inputs: Path, output: Path, extra: Sequence[str] = ()) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pipelines.cli",
        "run",
        "--input",
        str(inputs),
        "--output",
        str(output),
        *extra,
    ]


def read_summary(output: Path) -> dict[str, Any] | None:
    import orjson

    p = output / "_summary.json"
    return orjson.loads(p.read_bytes()) if p.is_file() else None


def check_against_manifest(summary: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """Where the run summary differs from what the generator says a correct run reports. A batch run
    makes the Start row of an operation cut short an event (the generator's ``lone_starts``); the
    manifest's ``expected`` counts it as the normalizer does, as a non-event."""
    exp = manifest["expected"]
    lone = manifest.get("lone_starts", 0)
    got = {
        "records read": (summary.get("records_read"), manifest["records"]),
        "events written": (summary.get("events_written_total"), exp["events"] + lone),
        "duplicates dropped": (summary.get("duplicates_dropped"), exp["duplicates"]),
        "non-events": (summary.get("non_events_total"), exp["non_events"] - lone),
        "dead letters": (summary.get("deadletters_total"), exp["dead_letters"]),
    }
    return [f"{k}: run {a}, expected {b}" for k, (a, b) in got.items() if a != b]


def clear_project_caches() -> int:
    """Empty every ``functools.lru_cache`` of the project's packages (the mappers' caches, enrichment
    lookups), so that a second measurement in this process does not start warm; returns how many."""
    import functools
    import gc

    cleared = 0
    for obj in gc.get_objects():
        if isinstance(obj, functools._lru_cache_wrapper) and str(getattr(obj, "__module__", "")).startswith(
            ("connectors.", "enrichers.", "schemas.", "pipelines.")
        ):
            obj.cache_clear()
            cleared += 1
    return cleared


def rate(n: float, seconds: float) -> str:
    return f"{n / seconds:>12,.0f}/s" if seconds > 0 else f"{'-':>14}"


def us_per(n: float, seconds: float) -> str:
    return f"{seconds * 1e6 / n:>8.2f} us" if n else f"{'-':>11}"


def mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB"
