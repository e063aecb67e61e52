"""Peak memory of the pipeline against input size: does it stay flat?

    python benchmarks/bench_memory.py [--events 200000,1000000] [--layout bench|real] [--keep]

For each size: generate the events in a temporary folder, run ``cloudaudit run`` in a child process and
read the child's peak resident set size from ``wait4`` (the kernel's own account, the same figure
``/usr/bin/time -v`` prints as "Maximum resident set size"). Sizes run one after another; each one's data
and output are removed before the next (unless ``--keep``). Target: 1,000,000 events under 1 GiB RSS,
and no growth with input size beyond noise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    check_against_manifest,
    describe_setup,
    generate_data,
    mib,
    pipeline_argv,
    pipeline_in_place,
    read_summary,
    run_child,
    workdir,
)

TARGET_BYTES = 1 << 30


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args:
        i = args.index("--")
        args, extra = args[:i], args[i + 1 :]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--events", default="200000,1000000", help="comma-separated sizes (default 200000,1000000)"
    )
    p.add_argument(
        "--layout", choices=("bench", "real"), default="bench", help="sample layout (default bench)"
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep", action="store_true", help="keep the generated data and outputs")
    p.add_argument(
        "--workdir", default=None, help="where to make the temporary folders (default: system temp)"
    )
    a = p.parse_args(args)
    sizes = [int(x.replace("_", "")) for x in a.events.split(",") if x.strip()]

    print(f"bench_memory: {describe_setup()}")
    if not pipeline_in_place():
        print(
            "the pipeline (pipelines/cli.py, pipelines/batch.py) is not in this checkout yet: nothing to run"
        )
        return 0

    rows = []
    for n in sizes:
        with workdir(a.keep, a.workdir) as root:
            m = generate_data(root / "data", n, a.seed, a.layout)
            run = run_child(pipeline_argv(root / "data", root / "out", extra))
            summary = read_summary(root / "out")
            if run.returncode != 0 or summary is None:
                print(f"{n:,} events: the pipeline exited with status {run.returncode}")
                print(run.stderr.strip()[-3000:])
                rows.append((n, m["bytes"], run, None, ["failed"]))
                continue
            problems = check_against_manifest(summary, m)
            rows.append((n, m["bytes"], run, summary, problems))
            print(
                f"{n:,} events: peak RSS {mib(run.max_rss_bytes)}, wall {run.wall_seconds:.1f}s, "
                f"{summary['records_read'] / run.wall_seconds:,.0f} events/s, invariant "
                f"{'holds' if summary['invariant']['holds'] else 'VIOLATED'}"
            )

    print()
    print(f"{'events':>12}  {'input':>10}  {'peak RSS':>10}  {'wall':>8}  {'events/s':>10}  books")
    for n, size, run, summary, problems in rows:
        eps = f"{summary['records_read'] / run.wall_seconds:,.0f}" if summary else "-"
        books = "match" if not problems else "; ".join(problems)
        print(
            f"{n:>12,}  {mib(size):>10}  {mib(run.max_rss_bytes):>10}  {run.wall_seconds:>7.1f}s  {eps:>10}  {books}"
        )
    ok = [r for r in rows if r[3] is not None]
    if len(ok) >= 2:
        small, big = ok[0], ok[-1]
        growth = big[2].max_rss_bytes / small[2].max_rss_bytes
        per_event = (big[2].max_rss_bytes - small[2].max_rss_bytes) / (big[0] - small[0])
        print(
            f"\nRSS ratio {big[0]:,} / {small[0]:,} events: {growth:.2f}x for {big[0] / small[0]:.0f}x the input "
            f"({'flat' if growth < 1.5 else 'GROWS with input'}); {per_event:,.0f} bytes more per additional "
            "event (state that grows with the number of distinct events, such as a dedup set, shows here)"
        )
    for n, _size, run, _summary, _p in ok:
        if n >= 1_000_000:
            verdict = "met" if run.max_rss_bytes < TARGET_BYTES else "NOT met"
            print(f"target {n:,} events < 1 GiB RSS: {verdict} ({mib(run.max_rss_bytes)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
