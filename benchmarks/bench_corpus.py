"""Normalization cost on real, varied records: the shared corpus repeated to N records per cloud.

    python benchmarks/bench_corpus.py [--records 200000] [--corpus ../shared/corpus]

Generated data flatters the normalizer (every record has the same shape). This benchmark takes the shared
corpus (``../shared/corpus``: rule-test events from public repositories), repeats each cloud's records to
``--records`` with a unique native id per copy, writes them as JSON lines and measures, in one process on the
same bytes:

- floor: ``orjson.loads`` of every line (what any reader pays);
- normalize: ``Normalizer.stream`` over the file, every result consumed (parse + dispatch + map + validate);
- with serialization: the same, plus ``model_dump_json`` of every event;
- the same two with ``Normalizer(documents=True)``: the fast path (``schemas.fastpath``: the event schema
  validated on plain dicts, no models), serialized with orjson (the same bytes);
- the per-stage split over a sample: parse, dispatch (connector detection), map, validate, serialize, and
  the fast path's check and orjson serialization of the same events.

Every figure is printed as a ratio to the floor measured in the same run (machines here are shared and noisy).
Records that the corpus itself cannot map (placeholders, fragments) stay in: they cost what they cost.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, workdir

CLOUDS = ("aws", "gcp", "azure")
# Where each cloud keeps what the event id is derived from: a suffix per copy keeps ids unique. The first
# field is added when a record has none of them (rule-test fragments often lack the native id).
ID_FIELDS = {
    "aws": ("eventID",),
    "gcp": ("insertId",),
    "azure": ("correlationId", "eventDataId", "EventDataId", "CorrelationId"),
}
STAGE_SAMPLE = 20_000


def corpus_records(corpus: Path, cloud: str) -> list[dict[str, Any]]:
    """Every JSON object record of one cloud's corpus folder (JSON lines, and JSON documents flattened)."""
    import orjson

    out: list[dict[str, Any]] = []
    for p in sorted((corpus / cloud).rglob("*")):
        if not p.is_file() or p.suffix not in (".json", ".jsonl"):
            continue
        data = p.read_bytes()
        docs: list[Any]
        if p.suffix == ".jsonl":
            docs = [orjson.loads(line) for line in data.splitlines() if line.strip()]
        else:
            docs = [orjson.loads(data)]
        stack = list(docs)
        while stack:
            d = stack.pop(0)
            if isinstance(d, list):
                stack[:0] = d
            elif isinstance(d, dict):
                inner = d.get("records") or d.get("Records") or d.get("entries")
                if isinstance(inner, list) and len(d) <= 2:
                    stack[:0] = inner
                else:
                    out.append(d)
    return out


def write_repeated(records: list[dict[str, Any]], cloud: str, n: int, path: Path) -> int:
    """``n`` lines cycling through ``records``, each copy's native id made unique; returns bytes written."""
    import orjson

    fields = ID_FIELDS[cloud]
    size = 0
    with open(path, "wb") as f:
        for i in range(n):
            rec = dict(records[i % len(records)])
            copy = i // len(records)
            present = [k for k in fields if isinstance(rec.get(k), str)]
            for k in present:
                rec[k] = f"{rec[k]}-{copy}"
            if not present:
                rec[fields[0]] = f"bench-{i}"
            line = orjson.dumps(rec) + b"\n"
            size += len(line)
            f.write(line)
    return size


def floor_pass(path: Path) -> float:
    import orjson

    data = path.read_bytes()
    t = time.process_time()
    for line in data.splitlines():
        orjson.loads(line)
    return time.process_time() - t


def normalize_pass(path: Path, serialize: bool, documents: bool = False) -> tuple[float, dict[str, int]]:
    """One pass of ``Normalizer.stream``: Event models (``model_dump_json`` to serialize), or with
    ``documents`` the fast path's canonical documents (``schemas.fastpath.dumps`` to serialize)."""
    from connectors.errors import NonEvent
    from connectors.normalize import Normalizer
    from schemas.event import Event
    from schemas.fastpath import dumps

    n = Normalizer(documents=documents)
    kinds = {"event": 0, "non_event": 0, "dead_letter": 0}
    ids: set[str] = set()
    gc.collect()
    t = time.process_time()
    with open(path, "rb") as f:
        for r in n.stream(f, path.name):
            if isinstance(r, Event):
                kinds["event"] += 1
                if serialize:
                    r.model_dump_json()
                elif len(ids) < STAGE_SAMPLE:
                    ids.add(r.id)
            elif isinstance(r, dict):
                kinds["event"] += 1
                if serialize:
                    dumps(r)
                elif len(ids) < STAGE_SAMPLE:
                    ids.add(r["id"])
            elif isinstance(r, NonEvent):
                kinds["non_event"] += 1
            else:
                kinds["dead_letter"] += 1
    elapsed = time.process_time() - t
    if not serialize:
        kinds["distinct_ids_in_first"] = len(ids)
    return elapsed, kinds


def stage_pass(path: Path, limit: int) -> dict[str, float]:
    """Seconds per stage over up to ``limit`` records (each stage timed around each call)."""
    import orjson

    from connectors.base import MapContext
    from connectors.errors import NonEvent
    from connectors.normalize import Normalizer
    from schemas.event import Event
    from schemas.fastpath import dumps, event_validator

    norm = Normalizer()
    check = event_validator().validate_python
    now = datetime.now(UTC)
    clock = time.perf_counter_ns
    acc = dict.fromkeys(("parse", "dispatch", "map", "validate", "serialize", "fast check", "orjson"), 0)
    n = 0
    with open(path, "rb") as f:
        for line in f:
            if n >= limit:
                break
            a = clock()
            rec = orjson.loads(line)
            b = clock()
            conn = norm.detect(rec)
            c = clock()
            acc["parse"] += b - a
            acc["dispatch"] += c - b
            if conn is None:
                continue
            try:
                out = conn.map(rec, MapContext(f"{path.name}#{n}", line.decode(), None, now))
            except Exception:
                continue
            d = clock()
            acc["map"] += d - c
            if isinstance(out, NonEvent):
                continue
            try:
                ev = Event.model_validate(out)
            except Exception:
                continue
            e = clock()
            ev.model_dump_json()
            g = clock()
            doc = check(out)
            h = clock()
            dumps(doc)
            i = clock()
            acc["validate"] += e - d
            acc["serialize"] += g - e
            acc["fast check"] += h - g
            acc["orjson"] += i - h
            n += 1
    return {k: v / 1e9 / max(n, 1) for k, v in acc.items()} | {"records": float(n)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=200_000, help="records per cloud (default 200000)")
    p.add_argument(
        "--corpus",
        default=os.environ.get("CLOUDAUDIT_CORPUS", str(ROOT.parent / "shared" / "corpus")),
        help="the shared corpus folder (default ../shared/corpus)",
    )
    p.add_argument("--keep", action="store_true", help="keep the generated files and print where")
    args = p.parse_args(argv)
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"sample corpus not found at {corpus}: nothing to measure (give --corpus)")
        return 2

    print(f"corpus mode: {corpus}, {args.records} records per cloud, one process, CPU time")
    print("  models: Normalizer() -> Event, model_dump_json; documents: Normalizer(documents=True) -> the fast")
    print("  path's canonical documents, orjson (the same bytes); ratios are to the orjson.loads floor")
    print(
        f"{'cloud':6} {'floor/s':>10} {'models':>7} {'+ser':>6} {'docs':>6} {'+ser':>6}  results"
    )
    with workdir(args.keep) as tmp:
        totals = {"floor": 0.0, "norm": 0.0, "ser": 0.0, "dnorm": 0.0, "dser": 0.0}
        for cloud in CLOUDS:
            recs = corpus_records(corpus, cloud)
            if not recs:
                print(f"{cloud:6} no records in {corpus / cloud}")
                continue
            path = tmp / f"{cloud}.jsonl"
            write_repeated(recs, cloud, args.records, path)
            floor = floor_pass(path)
            norm, kinds = normalize_pass(path, serialize=False)
            ser, _ = normalize_pass(path, serialize=True)
            dnorm, dkinds = normalize_pass(path, serialize=False, documents=True)
            dser, _ = normalize_pass(path, serialize=True, documents=True)
            if dkinds != kinds:
                print(f"{cloud}: the two paths disagree: {kinds} != {dkinds}")
                return 1
            totals["floor"] += floor
            totals["norm"] += norm
            totals["ser"] += ser
            totals["dnorm"] += dnorm
            totals["dser"] += dser
            n = args.records
            print(
                f"{cloud:6} {n / floor:>10,.0f} {floor / norm:>7.3f} {floor / ser:>6.3f} {floor / dnorm:>6.3f} "
                f"{floor / dser:>6.3f}  {kinds}"
            )
            st = stage_pass(path, STAGE_SAMPLE)
            parts = ", ".join(f"{k} {v * 1e6:.1f} us" for k, v in st.items() if k != "records")
            print(f"       per-stage over {int(st['records'])} events: {parts}")
        if totals["norm"]:
            t = totals
            print(
                f"{'all':6} parse+map+validate ratio to floor: models {t['floor'] / t['norm']:.3f}, documents "
                f"{t['floor'] / t['dnorm']:.3f} (target >= 0.25); with serialization: models "
                f"{t['floor'] / t['ser']:.3f}, documents {t['floor'] / t['dser']:.3f} (target >= 0.2)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
