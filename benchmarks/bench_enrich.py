"""Enrichment's cost per event next to mapping's, on one core.

    python benchmarks/bench_enrich.py [--events 100000] [--seed 7] [--keep]

Generates sample events (bench layout), then per cloud and overall:

- mapping: ``Normalizer.stream`` over the files (parse + map + validate), every result consumed; events
  as canonical documents (``Normalizer(documents=True)``), the form the pipeline's read stage carries;
- enrichment: the full chain (identity, account, resource tags, network, catalog) over the same events
  (documents, changed in place, as in the pipeline), kept in memory, timed on its own; and each enricher
  alone, for the breakdown.

The reference data is sized like a real deployment's: a directory holding most of the principals the
sample data uses (some are left out, so misses are measured too) plus filler entries, an inventory of
every account seen, cloud range files in the real shapes with thousands of prefixes, internal networks,
a few thousand indicators, and MaxMind City/ASN databases built with mmdb-writer.

The issue's target: enrichment adds no more than half the mapping cost. Prints; never asserts.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import describe_setup, generate_data, rate, us_per, workdir

TARGET_RATIO = 0.5


def normalize(root: Path, files: list[str]) -> tuple[float, list[Any]]:
    """(mapping seconds, the events). Timed on a pass that drops each result, as the pipeline does batch
    by batch (keeping them all would time the garbage collector walking a growing heap); a second,
    untimed pass keeps the events for the enrichment timing."""
    from connectors.normalize import Normalizer

    n = Normalizer(documents=True)
    t = time.perf_counter()
    for rel in files:
        with open(root / rel, "rb") as f:
            for _ in n.stream(f, rel):
                pass
    took = time.perf_counter() - t
    kept: list[Any] = []
    for rel in files:
        with open(root / rel, "rb") as f:
            kept.extend(r for r in n.stream(f, rel) if type(r) is dict)
    return took, kept


def reference_files(out: Path, events: list[Any], seed: int) -> Any:
    """Write reference data for these events; return its EnrichmentConfig."""
    import orjson
    import yaml

    from enrichers.config import EnrichmentConfig
    from enrichers.testdata.mmdb import write_db

    rng = random.Random(seed)
    actors: dict[str, dict[str, Any]] = {}
    accounts: dict[str, str] = {}
    ips: set[str] = set()
    for e in events:
        a = e["who"]["actor"]
        where = e["where"]
        # One entry per person: the same e-mail seen as a GCP principal and an Azure UPN is one person.
        key = (a["email"] or a["id"] or "").lower()
        if key and a["type"] not in ("cloud_service", "anonymous"):
            ident = actors.setdefault(key, {"email": a["email"]} if a["email"] else {})
            ids = ident.setdefault("identifiers", [])
            if a["id"] and a["id"] not in ids:
                ids.append(a["id"])
        if where["account"]:
            accounts[where["account"]] = where["provider"]
        if where["source"]["ip"]:
            ips.add(where["source"]["ip"])
    identities = []
    for n, ident in enumerate(actors.values()):
        if rng.random() < 0.85:  # some principals stay unknown: misses cost too
            identities.append({"id": f"P-{n:05d}", "name": f"Person {n}", "department": "Engineering",
                               "status": "active", "privileged": n % 7 == 0, **ident})
    emails = {i.get("email") for i in identities}
    for n in range(5000):  # filler: a directory is larger than the principals of one sample
        email = f"filler{n}@example.org"
        if email not in emails:
            identities.append({"id": f"F-{n:05d}", "email": email, "azure_object_ids": [f"{n:08x}-0000-4000-8000-000000000000"]})
    (out / "directory.yaml").write_text(yaml.safe_dump({"identities": identities}))
    envs = ["prod", "staging", "dev", "sandbox"]
    inv = {"accounts": [{"id": a, "provider": p, "environment": envs[i % 4], "owner": f"team-{i % 9}",
                         "criticality": "high"} for i, (a, p) in enumerate(sorted(accounts.items()))]}
    (out / "inventory.yaml").write_text(yaml.safe_dump(inv))

    def prefixes(n: int, first: int) -> list[str]:
        return [str(ipaddress.ip_network(((first << 24) + i * 256, 24))) for i in range(n)]

    aws = {"syncToken": "1", "createDate": "2024-11-25-00-00-00",
           "prefixes": [{"ip_prefix": p, "region": "us-east-1", "service": s, "network_border_group": "us-east-1"}
                        for p in prefixes(4000, 52) for s in ("AMAZON", "EC2")],
           "ipv6_prefixes": [{"ipv6_prefix": "2600:1f00::/24", "region": "us-east-1", "service": "AMAZON",
                              "network_border_group": "us-east-1"}]}
    gcp = {"syncToken": "1", "creationTime": "2024-11-25T00:00:00",
           "prefixes": [{"ipv4Prefix": p, "service": "Google Cloud", "scope": "us-central1"} for p in prefixes(800, 34)]}
    azure = {"changeNumber": 1, "cloud": "Public", "values": [
        {"name": f"AzureCloud.region{r}", "id": f"AzureCloud.region{r}", "properties": {
            "changeNumber": 1, "region": f"region{r}", "regionId": r, "platform": "Azure", "systemService": "",
            "addressPrefixes": prefixes(500, 20)[r * 100:(r + 1) * 100]}} for r in range(5)]}
    for name, doc in (("aws.json", aws), ("gcp.json", gcp), ("azure.json", azure)):
        (out / name).write_bytes(orjson.dumps(doc))
    some_ips = sorted(ips)[: max(1, len(ips) // 20)]
    lines = [f"{ip} watchlist" for ip in some_ips]
    lines += [f"{ipaddress.ip_address((185 << 24) + i)} tor_exit" for i in range(3000)]
    (out / "indicators.txt").write_text("\n".join(lines) + "\n")
    records = {f"{ip}/32" if ":" not in ip else f"{ip}/128": {
        "country": {"iso_code": "DE"}, "city": {"names": {"en": "Berlin"}},
        "location": {"latitude": 52.5, "longitude": 13.4}} for ip in sorted(ips)[:2000]}
    asn = {k: {"autonomous_system_number": 64500 + i % 50, "autonomous_system_organization": f"AS {i % 50}"}
           for i, k in enumerate(records)}
    write_db(out / "city.mmdb", records, "GeoIP2-City")
    write_db(out / "asn.mmdb", asn, "GeoLite2-ASN")
    return EnrichmentConfig(
        directory=str(out / "directory.yaml"), inventory=str(out / "inventory.yaml"),
        geoip_db=str(out / "city.mmdb"), asn_db=str(out / "asn.mmdb"),
        cloud_ranges=(str(out / "aws.json"), str(out / "gcp.json"), str(out / "azure.json")),
        internal_networks=("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"),
        indicators=str(out / "indicators.txt"),
    )


def enrich_pass(chain: Any, events: list[Any]) -> tuple[float, Counter[str]]:
    counts: Counter[str] = Counter()
    apply = chain.apply
    t = time.perf_counter()
    for e in events:
        apply(e, counts)
    return time.perf_counter() - t, counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=100_000, help="events to generate (default 100000)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep", action="store_true", help="keep the generated data and print where")
    p.add_argument("--cpu", type=int, default=None, help="pin to this CPU (default: the first allowed one)")
    a = p.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        cpu = a.cpu if a.cpu is not None else min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
    print(f"bench_enrich: {describe_setup()}; python {sys.version.split()[0]}")

    from enrichers.chain import Chain
    from enrichers.context import build_context, load_reference

    with workdir(a.keep) as root:
        m = generate_data(root / "data", a.events, a.seed, "bench")
        by_cloud: dict[str, list[str]] = {}
        for rel in m["files"]:
            by_cloud.setdefault(rel.split("/", 1)[0], []).append(f"data/{rel}")
        normalize(root, next(iter(by_cloud.values()))[:1])  # warm imports, untimed

        # Reference data sized for these events (an untimed pass collects their principals and accounts).
        (root / "ref").mkdir()
        t = time.perf_counter()
        seen = [e for files in by_cloud.values() for e in normalize(root, files)[1]]
        config = reference_files(root / "ref", seen, a.seed)
        del seen
        ctx = build_context(load_reference(config))
        print(f"reference data written and loaded in {time.perf_counter() - t:.1f}s: "
              f"{len(ctx.directory.index) if ctx.directory else 0:,} directory keys, "
              f"{len(ctx.inventory.accounts) if ctx.inventory else 0} accounts, "
              f"{len(ctx.network.clouds) if ctx.network and ctx.network.clouds else 0:,} cloud range intervals; "
              f"chain: {', '.join(ctx.chain.names)}")

        # File by file, mapping then enrichment of the same events, so that both see the same machine
        # load (other processes on a shared machine move both figures; their ratio stays put).
        print()
        print(f"{'cloud':<8}{'events':>10}  {'mapping (parse+map+validate)':>30}  {'enrichment (full chain)':>28}  ratio")
        tot_map = tot_enr = 0.0
        tot_n = 0
        counts_all: Counter[str] = Counter()
        sample: list[Any] = []
        for cloud, files in sorted(by_cloud.items()):
            c_map = c_enr = 0.0
            n = 0
            for rel in files:
                gc.collect()
                t_map, events = normalize(root, [rel])
                gc.freeze()
                t_enr, counts = enrich_pass(ctx.chain, events)
                gc.unfreeze()
                counts_all += counts
                c_map += t_map
                c_enr += t_enr
                n += len(events)
                if len(sample) < 30_000:
                    sample.extend(events[: 30_000 - len(sample)])
                del events
            tot_map += c_map
            tot_enr += c_enr
            tot_n += n
            print(f"{cloud:<8}{n:>10,}  {rate(n, c_map)} {us_per(n, c_map)}     {rate(n, c_enr)} {us_per(n, c_enr)}"
                  f"  {c_enr / c_map:.2f}")
        ratio = tot_enr / tot_map if tot_map else 0.0
        print(f"{'all':<8}{tot_n:>10,}  {rate(tot_n, tot_map)} {us_per(tot_n, tot_map)}     "
              f"{rate(tot_n, tot_enr)} {us_per(tot_n, tot_enr)}  {ratio:.2f}")
        all_events = sample
        print()
        print(f"each enricher alone, over {len(all_events):,} of the events (caches warm, as on a worker):")
        gc.freeze()
        for enricher in ctx.chain.enrichers:
            t_one, _ = enrich_pass(Chain([enricher]), all_events)
            print(f"  {enricher.name:<14} {us_per(len(all_events), t_one)}")
        gc.unfreeze()
        print()
        outcomes: dict[str, list[str]] = {}
        for key, v in sorted(counts_all.items()):
            _, name, outcome = key.split("/", 2)
            outcomes.setdefault(name, []).append(f"{outcome} {v:,}")
        for name, parts in outcomes.items():
            print(f"  {name:<14} {', '.join(parts)}")
        print()
        print(f"enrichment: {tot_enr / tot_n * 1e6:.2f} us/event, mapping {tot_map / tot_n * 1e6:.2f} us/event: "
              f"{ratio:.2f}x (target <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
