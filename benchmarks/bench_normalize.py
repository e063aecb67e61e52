"""Normalization throughput on one core: parse + map + validate, against a bare ``orjson.loads`` floor.

    python benchmarks/bench_normalize.py [--events 200000] [--layout bench|real] [--keep]

Generates the events (bench layout: each cloud's main shape in a few large files) in a temporary folder,
then, per cloud and overall:

- floor: read (and gunzip) each file and ``orjson.loads`` every line: what any reader pays;
- normalize: ``Normalizer.stream`` over the same files, every result consumed (events validated);
- serialize: ``Event.model_dump_json`` over a sample of the events, timed on its own.

Prints events/s and us/event. Target: >= 50,000 events/s for parse + map + validate.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import describe_setup, generate_data, rate, us_per, workdir

TARGET = 50_000
SERIALIZE_SAMPLE = 20_000  # events per cloud kept for the serialization timing
STAGE_SAMPLE = 20_000  # records per cloud for the per-stage breakdown


def floor_pass(root: Path, files: list[str]) -> tuple[float, int]:
    import orjson

    t = time.perf_counter()
    docs = 0
    for rel in files:
        data = (root / rel).read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        for line in data.splitlines():
            if line.strip():
                orjson.loads(line)
                docs += 1
    return time.perf_counter() - t, docs


def normalize_pass(root: Path, files: list[str]) -> tuple[float, Counter[str]]:
    """Every result consumed and dropped, as the pipeline does batch by batch. (Keeping them all would
    measure the garbage collector walking an ever larger heap, not the normalizer.)"""
    from connectors.errors import NonEvent
    from connectors.normalize import Normalizer
    from schemas.event import Event

    n = Normalizer()
    kinds: Counter[str] = Counter()
    t = time.perf_counter()
    for rel in files:
        with open(root / rel, "rb") as f:
            for r in n.stream(f, rel):
                if isinstance(r, Event):
                    kinds["event"] += 1
                elif isinstance(r, NonEvent):
                    kinds["non_event"] += 1
                else:
                    kinds[f"dead_letter:{r.code}"] += 1
    return time.perf_counter() - t, kinds


def sample_events(root: Path, files: list[str], keep: int) -> list[Any]:
    from connectors.normalize import Normalizer
    from schemas.event import Event

    n = Normalizer()
    kept: list[Any] = []
    for rel in files:
        with open(root / rel, "rb") as f:
            for r in n.stream(f, rel):
                if isinstance(r, Event):
                    kept.append(r)
                    if len(kept) >= keep:
                        return kept
    return kept


def stage_pass(root: Path, files: list[str], limit: int) -> tuple[int, float, float, float, float]:
    """Where one record's time goes: (records, loads, raw text, map, validate) seconds over up to
    ``limit`` records, each stage timed around each call, nothing retained."""
    from datetime import UTC, datetime

    import orjson

    from connectors.base import MapContext, Unwrapped
    from connectors.registry import connectors
    from schemas.event import Event

    conns = connectors()
    now = datetime.now(UTC)
    clock = time.perf_counter_ns
    n = 0
    t_loads = t_raw = t_map = t_val = 0
    for rel in files:
        data = (root / rel).read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        for line in data.splitlines():
            if not line.strip():
                continue
            a = clock()
            doc = orjson.loads(line)
            t_loads += clock() - a
            items: list[Any] = [doc]
            for c in conns:
                u = c.unwrap(doc)
                if isinstance(u, Unwrapped):
                    items = [orjson.loads(x) if isinstance(x, str | bytes) else x for x in u.items]
                    break
                if u is not None:
                    items = []
                    break
            for rec in items:
                conn = next((c for c in conns if c.claims(rec)), None)
                if conn is None:
                    continue
                a = clock()
                raw = orjson.dumps(rec).decode()
                b = clock()
                out = conn.map(rec, MapContext(rel, raw, None, now))
                d = clock()
                if isinstance(out, dict):
                    Event.model_validate(out)
                e = clock()
                t_raw += b - a
                t_map += d - b
                t_val += e - d
                n += 1
                if n >= limit:
                    return n, t_loads / 1e9, t_raw / 1e9, t_map / 1e9, t_val / 1e9
    return n, t_loads / 1e9, t_raw / 1e9, t_map / 1e9, t_val / 1e9


def serialize_pass(events: list[Any]) -> float:
    t = time.perf_counter()
    for e in events:
        e.model_dump_json()
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=200_000, help="events to generate (default 200000)")
    p.add_argument(
        "--layout", choices=("bench", "real"), default="bench", help="sample layout (default bench)"
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep", action="store_true", help="keep the generated data and print where")
    p.add_argument(
        "--workdir", default=None, help="where to make the temporary folder (default: system temp)"
    )
    p.add_argument("--cpu", type=int, default=None, help="pin to this CPU (default: the first allowed one)")
    a = p.parse_args(argv)

    if hasattr(os, "sched_setaffinity"):
        cpu = a.cpu if a.cpu is not None else min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        pinned = f"pinned to CPU {cpu}"
    else:
        pinned = "not pinned (no sched_setaffinity)"
    print(f"bench_normalize: {describe_setup()}; python {sys.version.split()[0]}; {pinned}")

    with workdir(a.keep, a.workdir) as root:
        m = generate_data(root, a.events, a.seed, a.layout)
        by_cloud: dict[str, list[str]] = {}
        for rel in m["files"]:
            by_cloud.setdefault(rel.split("/", 1)[0], []).append(rel)
        for files in by_cloud.values():  # warm the page cache and the imports, untimed
            floor_pass(root, files[:1])
            normalize_pass(root, files[:1])

        rows = []
        tot_floor = tot_norm = 0.0
        tot_records = 0
        all_kinds: Counter[str] = Counter()
        for cloud, files in sorted(by_cloud.items()):
            records = m["by_cloud"][cloud]
            gc.collect()
            t_floor, docs = floor_pass(root, files)
            gc.collect()
            t_norm, kinds = normalize_pass(root, files)
            all_kinds += kinds
            rows.append((cloud, records, docs, t_floor, t_norm, kinds))
            tot_floor += t_floor
            tot_norm += t_norm
            tot_records += records

        print()
        print(
            f"{'cloud':<8}{'records':>10}  {'floor (orjson.loads)':>26}  {'parse+map+validate':>26}  results"
        )
        for cloud, records, _docs, t_floor, t_norm, kinds in rows:
            res = ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items()))
            print(
                f"{cloud:<8}{records:>10,}  {rate(records, t_floor)} {us_per(records, t_floor)}  "
                f"{rate(records, t_norm)} {us_per(records, t_norm)}  {res}"
            )
        print(
            f"{'all':<8}{tot_records:>10,}  {rate(tot_records, tot_floor)} {us_per(tot_records, tot_floor)}  "
            f"{rate(tot_records, tot_norm)} {us_per(tot_records, tot_norm)}"
        )

        print()
        print(f"where the time goes, per record (up to {STAGE_SAMPLE:,} records per cloud, each call timed):")
        print(f"{'cloud':<8}{'records':>10}  {'loads*':>10} {'raw text':>10} {'map':>10} {'validate':>10}")
        for cloud, files in sorted(by_cloud.items()):
            gc.collect()
            k, t_l, t_r, t_m, t_v = stage_pass(root, files, STAGE_SAMPLE)
            if k:
                print(
                    f"{cloud:<8}{k:>10,}  {us_per(k, t_l)} {us_per(k, t_r)} {us_per(k, t_m)} {us_per(k, t_v)}"
                )
        print(
            "(* loads of a whole Records document is shared by its records; the normalizer also frames, "
            "detects and unwraps)"
        )

        print()
        print(f"{'cloud':<8}{'events':>10}  {'serialize (model_dump_json)':>28}")
        n_all = t_all = 0.0
        for cloud, files in sorted(by_cloud.items()):
            kept = sample_events(root, files, SERIALIZE_SAMPLE)
            if not kept:
                print(f"{cloud:<8}{0:>10}  (no events: connector not in place?)")
                continue
            gc.collect()
            gc.freeze()  # the sample is long-lived: keep the collector from walking it again and again
            t = serialize_pass(kept)
            gc.unfreeze()
            k = len(kept)
            del kept
            n_all += k
            t_all += t
            print(f"{cloud:<8}{k:>10,}  {rate(k, t)} {us_per(k, t)}")
        if n_all:
            print(f"{'all':<8}{int(n_all):>10,}  {rate(n_all, t_all)} {us_per(n_all, t_all)}")

        overall = tot_records / tot_norm if tot_norm else 0.0
        dead = sum(v for k, v in all_kinds.items() if k.startswith("dead_letter"))
        print()
        print(
            f"parse+map+validate: {overall:,.0f} events/s on one core (target >= {TARGET:,}: "
            f"{'met' if overall >= TARGET else 'NOT met'}); floor {tot_records / tot_floor:,.0f}/s; "
            f"normalize costs {tot_norm / tot_floor:.1f}x the floor"
        )
        if dead:
            print(
                f"note: {dead:,} dead letters ({', '.join(k for k in all_kinds if k.startswith('dead'))}): "
                "figures are not representative until every connector is in place"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
