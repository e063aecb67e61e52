"""The rules' cost next to parse + map + validate, and hunting over a million events of cold storage.

    python benchmarks/bench_detect.py [--events 50000] [--hunt-events 1000000] [--seed 7] [--keep]

1. Generates sample events (bench layout), times ``Normalizer.stream`` over the files (parse + map +
   validate), enriches them with examples/reference (untimed), then times the detection stage's per-event
   work on the canonical lines, as the pipeline does it: ``keyed`` (JSON parse, person key, prefilters,
   light records), grouping by person, ``detect_person`` (models for the candidates, every bundled rule,
   alert documents with related activity). Beam's shuffle is not in either figure.
2. Writes cold storage of ``--hunt-events`` events (the enriched events copied onto consecutive days with
   new ids, Hive-partitioned by provider/date/hour, zstd, 2000-row row groups like the pipeline) and times
   ``hunt`` with the bundled pack over all of it, over one week of it (date pruning), and, for the saving,
   the same hunt with every prefilter removed over one day's copy (scaled to the whole).

Between the two, ``hunt`` over the generated raw files themselves (normalize, enrich with examples/reference,
deduplicate, detect per person on canonical lines), as a multiple of parse + map + validate.

The issue's targets: rules <= 15% of parse + map + validate per event; hunt over 1M events < 60 s.
Prints; never asserts. The ratio is of process CPU time (``time.process_time``): both stages run in this
one process, and on a shared machine wall time swings with the neighbours' load far more than the
ratio does (wall-clock figures are printed beside it).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, describe_setup, generate_data, rate, us_per, workdir

TARGET_RATIO = 0.15
TARGET_HUNT_SECONDS = 60.0
BATCH = 2000


def normalize(root: Path, files: list[str]) -> tuple[float, int]:
    from connectors.normalize import Normalizer

    n = Normalizer()
    count = 0
    t = time.process_time()
    for rel in files:
        with open(root / rel, "rb") as f:
            for _ in n.stream(f, rel):
                count += 1
    return time.process_time() - t, count


def enriched_events(root: Path, files: list[str]) -> list[Any]:
    from connectors.normalize import Normalizer
    from enrichers.config import EnrichmentConfig
    from enrichers.context import enriched_event, load_context

    ctx = load_context(EnrichmentConfig.from_file(str(ROOT / "examples" / "reference" / "enrichment.yaml")))
    counts: Counter[str] = Counter()
    seen: dict[str, Any] = {}
    n = Normalizer(documents=True)
    for rel in files:
        with open(root / rel, "rb") as f:
            for r in n.stream(f, rel):
                if type(r) is dict and r["id"] not in seen:  # an event, as its canonical document
                    seen[r["id"]] = enriched_event(r, ctx, counts)
    return list(seen.values())


def detect_stage(lines: list[bytes], rules: list[Any]) -> tuple[float, int, int]:
    """(CPU seconds, alerts, candidate events) for the pipeline's per-event detection work."""
    from detections.engine import Engine
    from detections.fastkeys import RuleIndex
    from detections.lines import detect_person, keyed

    engine = Engine(rules)
    prefilters = RuleIndex([r.prefilter for r in engine.rules])
    t = time.process_time()
    groups: dict[str, list[bytes]] = {}
    for i in range(0, len(lines), BATCH):
        for key, item in keyed(b"\n".join(lines[i : i + BATCH]), prefilters):
            groups.setdefault(key, []).append(item)
    alerts = 0
    for items in groups.values():
        alerts += len(detect_person(items, engine))
    took = time.process_time() - t
    candidates = sum(1 for items in groups.values() for x in items if x[:1] == b"F")
    return took, alerts, candidates


def key_parse(lines: list[bytes]) -> float:
    """Best of three (CPU): reading the detection fields alone (part of the detection stage's time)."""
    from detections.fastkeys import fields

    best = float("inf")
    for _ in range(3):
        t = time.process_time()
        for x in lines:
            fields(x)
        best = min(best, time.process_time() - t)
    return best


def write_cold(events: list[Any], out: Path, total: int) -> tuple[int, int]:
    """Copies of the events on consecutive days until ``total`` rows; (rows, days)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from schemas.arrow import table_from_json_lines

    # The pipeline's own path from canonical lines to a table (Arrow's JSON reader with the schema).
    base = table_from_json_lines(b"\n".join(e.model_dump_json().encode() for e in events))
    days = max(1, -(-total // base.num_rows))
    written = 0
    part = ds.partitioning(pa.schema([("provider", pa.string()), ("date", pa.string()), ("hour", pa.string())]),
                           flavor="hive")
    fmt = ds.ParquetFileFormat()
    for k in range(days):
        t = base.slice(0, min(base.num_rows, total - written))
        when = t.column("when").combine_chunks()
        names = [when.type.field(i).name for i in range(when.type.num_fields)]
        arrays = [when.field(i) for i in range(when.type.num_fields)]
        ti = names.index("time")
        arrays[ti] = pc.add(arrays[ti], pa.scalar(timedelta(days=k)))
        t = t.set_column(t.schema.get_field_index("when"), "when", pa.StructArray.from_arrays(arrays, names=names))
        t = t.set_column(t.schema.get_field_index("id"), "id",
                         pc.binary_join_element_wise(t.column("id"), pa.scalar(f"-{k:03d}"), ""))
        time_col = arrays[ti]
        t = t.append_column("provider", t.column("where").combine_chunks().field("provider"))
        t = t.append_column("date", pc.strftime(time_col, format="%Y-%m-%d"))
        t = t.append_column("hour", pc.strftime(time_col, format="%H"))
        ds.write_dataset(
            t, str(out), format=fmt, partitioning=part, basename_template=f"part-bench{k:03d}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore", max_rows_per_group=BATCH, min_rows_per_group=BATCH,
            file_options=fmt.make_write_options(compression="zstd"),
        )
        written += t.num_rows
    return written, days


def hunt_raw_files(root: Path) -> tuple[float, dict[str, Any]]:
    """``hunt`` over the generated files with the example reference data, in CPU seconds."""
    from detections.hunt import hunt_raw
    from detections.loader import load_pack
    from enrichers.config import EnrichmentConfig

    rules = load_pack().rules
    config = EnrichmentConfig.from_file(str(ROOT / "examples" / "reference" / "enrichment.yaml"))
    t = time.process_time()
    result = hunt_raw([str(root)], rules, config)
    return time.process_time() - t, result.stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--hunt-events", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    print(describe_setup())

    from detections.hunt import hunt_cold
    from detections.loader import load_pack

    rules = [r for r in load_pack().rules if r.meta.mode != "disabled"]
    with workdir(args.keep) as tmp:
        m = generate_data(tmp / "in", args.events, args.seed, "bench")
        files = [f if isinstance(f, str) else f["path"] for f in m["files"]]
        events = enriched_events(tmp / "in", files)
        lines = [e.model_dump_json().encode() for e in events]
        # The machine may be shared: alternate the two, three rounds, and keep each one's best.
        map_s = det_s = float("inf")
        for _ in range(3):
            m_s, records = normalize(tmp / "in", files)
            d_s, alerts, candidates = detect_stage(lines, rules)
            map_s, det_s = min(map_s, m_s), min(det_s, d_s)
        n = len(events)
        ratio = (det_s / n) / (map_s / records)
        parse_s = key_parse(lines)
        print(f"\n{len(rules)} rules over {n:,} enriched events ({candidates:,} passed a prefilter, {alerts} alerts)")
        print(f"  parse+map+validate  {us_per(records, map_s)}  {rate(records, map_s)}  (CPU)")
        print(f"  detection stage     {us_per(n, det_s)}  {rate(n, det_s)}  (CPU)")
        print(f"  ratio               {ratio:.1%} of parse+map+validate per event "
              f"(target <= {TARGET_RATIO:.0%}: {'met' if ratio <= TARGET_RATIO else 'NOT met'})")
        rest = (det_s - parse_s) / n / (map_s / records)
        print(f"  of which key fields {us_per(n, parse_s)}  (detections.fastkeys); the rest: {rest:.1%}")
        raw_s, raw = hunt_raw_files(tmp / "in")
        print(f"  hunt over the raw files (normalize, enrich, deduplicate, detect: all of it)  "
              f"{us_per(records, raw_s)}  {rate(records, raw_s)}  (CPU) = {raw_s / map_s:.2f}x parse+map+validate; "
              f"{raw['alerts']:,} alerts")

        if args.hunt_events <= 0:
            return 0
        cold = tmp / "cold" / "events"
        t = time.perf_counter()
        rows, days = write_cold(events, cold, args.hunt_events)
        print(f"\ncold storage: {rows:,} events over {days} days written in {time.perf_counter() - t:.1f}s")
        full = hunt_cold([str(cold)], rules)
        s = full.stats
        print(f"  hunt, all days      {s['seconds']:.1f}s  rows {s['rows_total']:,}, candidates "
              f"{s['rows_candidate']:,} ({s['rows_candidate'] / max(s['rows_total'], 1):.1%}), related "
              f"{s.get('rows_related', 0):,}, alerts {s['alerts']:,} "
              f"(target < {TARGET_HUNT_SECONDS:.0f}s: {'met' if s['seconds'] < TARGET_HUNT_SECONDS else 'NOT met'})")
        first_day = min(e.when.time for e in events).date()
        week = hunt_cold([str(cold)], rules, since=str(first_day), until=str(first_day + timedelta(days=7)))
        w = week.stats
        print(f"  hunt, one week      {w['seconds']:.1f}s  rows in range {w['rows_total']:,} "
              f"(date pruning skips {1 - w['rows_total'] / max(s['rows_total'], 1):.0%} of the rows)")
        day = {"since": str(first_day), "until": str(first_day + timedelta(days=1))}
        pushed = hunt_cold([str(cold)], rules, **day)
        bare = hunt_cold([str(cold)], rules, pushdown=False, **day)
        p, o = pushed.stats, bare.stats
        same = sorted(a["id"] for a in pushed.alerts) == sorted(a["id"] for a in bare.alerts)
        print(f"  one day, pushdown   {p['seconds']:.1f}s; without the prefilters in the scan {o['seconds']:.1f}s "
              f"({o['rows_candidate']:,} rows into Python instead of {p['rows_candidate']:,}): the pushdown saves "
              f"{1 - p['seconds'] / max(o['seconds'], 1e-9):.0%}; same alerts: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
