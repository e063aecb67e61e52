"""Sink throughput: events/s into a local Splunk HEC endpoint, into a local ``_bulk`` endpoint, and into
Parquet (``PartitionStore``: dedup + Arrow + Parquet zstd + raw gzip archive + SIEM lines).

    python benchmarks/bench_sinks.py [--events 50000] [--seed 7] [--keep]

Generates the events (bench layout), normalizes them once to canonical JSON lines, then:

- **hec**: ``HecSink.send`` over batches of the pipeline's batch size (2,000), with gzip, without and
  with indexer acknowledgement; the HEC endpoint (tests/sinks/servers.py, the one the tests use) runs in
  a child process so that its JSON parsing does not share this process's GIL;
- **elastic**: ``ElasticSink.send`` likewise, into the local ``_bulk`` endpoint;
- **parquet**: ``PartitionStore.store`` over the same events spilled as one partition key, writing to a
  local folder (what the store stage does per key).

Prints events/s and MiB/s of canonical JSON. The client figures are what one Beam worker thread can send;
a real SIEM's ingest rate is usually the bound.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import describe_setup, generate_data, rate, workdir

BATCH = 2000
TOKEN = "bench-token"


def canonical_lines(root: Path, files: list[str]) -> tuple[list[bytes], list[Any]]:
    """Canonical lines (what sinks get) and spilled events (what the store stage gets), one per id."""
    from connectors.normalize import Normalizer
    from pipelines.spill import encode_event
    from schemas.event import Event

    n = Normalizer()
    seen: set[str] = set()
    lines: list[bytes] = []
    spilled: list[Any] = []
    for rel in files:
        with open(root / rel, "rb") as f:
            for r in n.stream(f, rel):
                if isinstance(r, Event) and r.id not in seen:
                    seen.add(r.id)
                    lines.append(r.model_dump_json().encode())
                    spilled.append(encode_event(r))
    return lines, spilled


def _serve(kind: str, conn: Any) -> None:
    from tests.sinks.servers import BulkServer, HecServer

    # Count-only endpoints (no JSON parsing) measure the client; the ack one parses, as the tests use it.
    if kind == "hec-ack":
        srv: Any = HecServer(TOKEN, ack=True)
    elif kind == "hec":
        srv = HecServer(TOKEN, count_only=True)
    else:
        srv = BulkServer(count_only=True)
    with srv:
        conn.send(srv.url)
        conn.recv()  # until told to stop


def endpoint(kind: str) -> tuple[str, Any, Any]:
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=_serve, args=(kind, child), daemon=True)
    proc.start()
    return parent.recv(), parent, proc


def time_sink(value: str, lines: list[bytes]) -> tuple[float, int, int]:
    from pipelines.sinks import make_sink

    sink = make_sink(value)
    delivered = dead = 0
    t = time.perf_counter()
    for i in range(0, len(lines), BATCH):
        r = sink.send(lines[i : i + BATCH])
        delivered += len(r.delivered_ids)
        dead += len(r.dead)
    took = time.perf_counter() - t
    sink.close()
    return took, delivered, dead


def time_parquet(spilled: list[Any], out: Path) -> tuple[float, int]:
    from pipelines.layout import Layout, PartitionKey
    from pipelines.settings import Settings
    from pipelines.spill import write_spill
    from pipelines.store import PartitionStore

    key = PartitionKey("aws", "2024-05-01", "13", 0)
    layout = Layout(str(out), "bench")
    segments = []
    for i in range(0, len(spilled), BATCH):  # as the read stage spills them, a batch a segment
        segments.extend(seg for _, seg in write_spill(layout.spill_dir, {tuple(key): spilled[i : i + BATCH]}))
    store = PartitionStore(layout, Settings())
    t = time.perf_counter()
    n = sum(1 for _ in store.store(key, segments))
    took = time.perf_counter() - t
    written = sum(v for k, v in store.counts.items() if k.startswith("events_written/"))
    return took, written if n else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--layout", choices=("bench", "real"), default="bench")
    p.add_argument("--workdir", default=None)
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)

    print(f"bench_sinks: {describe_setup()}")
    os.environ["SPLUNK_HEC_TOKEN"] = TOKEN
    os.environ.pop("ELASTIC_API_KEY", None)
    with workdir(args.keep, args.workdir) as wd:
        manifest = generate_data(wd / "in", args.events, args.seed, args.layout)
        t = time.perf_counter()
        lines, spilled = canonical_lines(wd / "in", manifest["files"])
        mib = sum(len(x) for x in lines) / (1 << 20)
        print(f"normalized {len(lines):,} unique events ({mib:,.1f} MiB canonical JSON) in "
              f"{time.perf_counter() - t:.1f}s; batches of {BATCH:,}")
        print()
        print(f"{'sink':<34}{'events/s':>14}{'MiB/s':>10}{'seconds':>10}   delivered / dead")
        runs = [
            ("hec (gzip)", "hec", "hec:{url}?batch_events=2000&batch_bytes=1000000"),
            ("hec (no gzip)", "hec", "hec:{url}?batch_events=2000&gzip=false"),
            ("hec (gzip, indexer ack)", "hec-ack", "hec:{url}?ack=true&ack_poll=0.005"),
            ("elastic _bulk (gzip)", "elastic", "elastic:{url}"),
        ]
        for label, kind, value in runs:
            url, conn, proc = endpoint(kind)
            try:
                took, delivered, dead = time_sink(value.format(url=url), lines)
            finally:
                conn.send("stop")
                proc.join(10)
            print(f"{label:<34}{rate(len(lines), took)}{mib / took:>10.1f}{took:>10.2f}   {delivered:,} / {dead:,}")
        took, written = time_parquet(spilled, wd / "out")
        print(f"{'parquet (PartitionStore, 1 key)':<34}{rate(written, took)}{mib / took:>10.1f}{took:>10.2f}   "
              f"{written:,} written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
