"""The local Beam pipeline end to end: ``cloudaudit run --input DIR --output OUT`` on generated data.

    python benchmarks/bench_pipeline.py [--events 200000] [--layout bench|real] [--keep] [-- BEAM_ARGS...]

Generates the events in a temporary folder, runs the pipeline's command line in a child process (so the
figure includes what a user waits for: start-up, reading, normalizing, deduplicating, writing SIEM
lines, Parquet and the raw archive), and prints events/s over the wall time, the pipeline's own
elapsed time, the child's peak RSS, and the run summary, checked against the generator's books.
Target: >= 25,000 events/s end to end. Arguments after ``--`` go to ``cloudaudit run`` as they are.

    python benchmarks/bench_pipeline.py --events 200000 --compare

``--compare`` measures, on the same generated files in one run: the in-process rate (``Normalizer.stream``
over every file in this process, CPU time: parse + map + validate), the pipeline on one worker process and
on two (``--direct_num_workers``, multi-processing), and prints the ratios the throughput issue asks for:
the pipeline's rate per CPU-second against the in-process rate (target >= 0.7; per CPU-second so that a
busy neighbour does not count against either side), and the two-worker wall rate against the one-worker
wall rate (target >= 1.7, only meaningful when the machine's second core is free).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    check_against_manifest,
    clear_project_caches,
    describe_setup,
    generate_data,
    mib,
    pipeline_argv,
    pipeline_in_place,
    read_summary,
    run_child,
    workdir,
)

TARGET = 25_000


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args:
        i = args.index("--")
        args, extra = args[:i], args[i + 1 :]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=200_000, help="events to generate (default 200000)")
    p.add_argument(
        "--layout", choices=("bench", "real"), default="bench", help="sample layout (default bench)"
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep", action="store_true", help="keep the generated data and the output")
    p.add_argument(
        "--workdir", default=None, help="where to make the temporary folder (default: system temp)"
    )
    p.add_argument(
        "--compare", action="store_true",
        help="also measure the in-process rate and one against two worker processes on the same files",
    )
    a = p.parse_args(args)

    print(f"bench_pipeline: {describe_setup()}")
    if not pipeline_in_place():
        print(
            "the pipeline (pipelines/cli.py, pipelines/batch.py) is not in this checkout yet: nothing to run"
        )
        return 0

    with workdir(a.keep, a.workdir) as root:
        data = root / "data"
        out = root / "out"
        m = generate_data(data, a.events, a.seed, a.layout)
        if a.compare:
            return compare(data, root, extra)
        argv_run = pipeline_argv(data, out, extra)
        print("running:", " ".join(argv_run[1:]))
        run = run_child(argv_run)
        summary = read_summary(out)
        print(run.stdout.rstrip())
        if run.returncode != 0 or summary is None:
            print(f"the pipeline exited with status {run.returncode}")
            print(run.stderr.strip()[-3000:])
            return 1
        records = summary["records_read"]
        inner = summary.get("elapsed_seconds") or 0.0
        print()
        print(
            f"end to end (wall, child process): {records:,} records in {run.wall_seconds:.1f}s = "
            f"{records / run.wall_seconds:,.0f} events/s (target >= {TARGET:,}: "
            f"{'met' if records / run.wall_seconds >= TARGET else 'NOT met'})"
        )
        if inner:
            print(
                f"pipeline only (its own elapsed):   {records:,} records in {inner:.1f}s = {records / inner:,.0f} events/s"
            )
        print(f"peak RSS of the run: {mib(run.max_rss_bytes)}")
        problems = check_against_manifest(summary, m)
        print("summary vs generator books: " + ("match" if not problems else "; ".join(problems)))
        if summary.get("deadletters_total"):
            print(f"note: {summary['deadletters_total']:,} dead letters: {summary.get('deadletters')}")
    return 0


def in_process_rate(data: Path) -> tuple[int, float]:
    """Records and CPU seconds of ``Normalizer.stream`` over every file under ``data``, in this process."""
    import time

    from connectors.normalize import Normalizer

    n = Normalizer()
    records = 0
    t = time.process_time()
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        with open(path, "rb") as f:
            for _ in n.stream(f, str(path)):
                records += 1
    return records, time.process_time() - t


def stage_seconds(data: Path, root: Path) -> tuple[int, float, float]:
    """Records and CPU seconds of the pipeline's own read stage (``FileReader``: normalize, enrich with the
    default reference data, serialize, spill) and store stage (``PartitionStore``: dedup, Parquet, raw
    archive, SIEM lines) over every file under ``data``, as plain Python in this process: what the
    pipeline's work costs without Beam, so that its ratio splits into the work and the runner."""
    import time

    from enrichers.beam import prepare
    from enrichers.context import context_for
    from pipelines import summary as names
    from pipelines.layout import Layout, PartitionKey
    from pipelines.read import SEGMENTS, FileReader
    from pipelines.settings import Settings
    from pipelines.store import PartitionStore

    settings = Settings(lone_starts=True)
    reader = FileReader(settings, str(root / "stages-spill"))
    reference = prepare(None)
    reader.enrichment = context_for(reference) if reference is not None else None
    segments: dict[Any, list[Any]] = {}
    t = time.process_time()
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        for tag, value in reader.read(str(path), path.stat().st_size):
            if tag == SEGMENTS:
                segments.setdefault(value[0], []).append(value[1])  # type: ignore[index]
    for tag, value in reader.flush():
        if tag == SEGMENTS:
            segments.setdefault(value[0], []).append(value[1])  # type: ignore[index]
    read = time.process_time() - t
    store = PartitionStore(Layout(str(root / "stages-out"), "stages"), settings)
    t = time.process_time()
    for key, parts in segments.items():
        for _ in store.store(PartitionKey(*key), parts):
            pass
    return reader.counts[names.RECORDS_READ], read, time.process_time() - t


def compare(data: Path, root: Path, extra: list[str]) -> int:
    records, cpu = in_process_rate(data)
    base = records / cpu
    print(f"in process (parse + map + validate, CPU time): {records:,} records, {base:,.0f} records/CPU-s")
    clear_project_caches()  # the stages start as cold as the pipeline's own worker does
    n, read, store = stage_seconds(data, root)
    print(
        f"the pipeline's stages without Beam (read {read:.1f}s + store {store:.1f}s CPU): "
        f"{n / (read + store):,.0f} records/CPU-s = {n / (read + store) / base:.2f} of in process "
        f"(read stage alone {n / read / base:.2f})"
    )
    walls: dict[int, float] = {}
    for workers in (1, 2):
        out = root / f"out-{workers}"
        argv = pipeline_argv(data, out, [*extra, "--direct_num_workers", str(workers),
                                         "--direct_running_mode", "multi_processing" if workers > 1 else "in_memory"])
        run = run_child(argv)
        summary = read_summary(out)
        if run.returncode != 0 or summary is None:
            print(f"the pipeline ({workers} workers) exited with status {run.returncode}")
            print(run.stderr.strip()[-3000:])
            return 1
        n = summary["records_read"]
        walls[workers] = n / run.wall_seconds
        per_cpu = n / run.cpu_seconds if run.cpu_seconds else 0.0
        print(
            f"pipeline, {workers} worker(s): {n:,} records, wall {run.wall_seconds:.1f}s = {walls[workers]:,.0f}/s, "
            f"CPU {run.cpu_seconds:.1f}s = {per_cpu:,.0f} records/CPU-s = {per_cpu / base:.2f} of in process "
            f"(target >= 0.7), peak RSS {mib(run.max_rss_bytes)}"
        )
    print(f"scaling, 2 workers / 1 worker (wall): {walls[2] / walls[1]:.2f}x (target >= 1.7)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
