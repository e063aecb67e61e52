"""Command-line options for enrichment (``cloudaudit run``) and the ``cloudaudit enrich`` command.

``pipelines/cli.py`` calls ``add_run_arguments`` and ``add_enrich_command`` once each and passes
``enrichment_config(args)`` to the run; everything about enrichment options lives here.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any

from connectors.usage import no_extra

ENRICH_EXAMPLES = """\
examples:
  cloudaudit enrich --explain --enrich-config ref/enrichment.yaml event.json
  cloudaudit enrich --directory ref/directory.yaml --inventory ref/inventory.yaml cloudtrail.json.gz
  cloudaudit enrich --explain --format json --geoip-db GeoLite2-City.mmdb out/siem/*.jsonl

Reads canonical event JSON (one event, a list, or JSON lines) or raw audit records of any supported
shape (normalized first). Without --explain, writes the enriched events as JSON lines to stdout; with
--explain, shows for each event every field enrichment set, its value and the reference data it came
from. Exit status 0; 1 when some input record was a dead letter; 2 for a missing or broken reference
file or input.
"""

RUN_HELP = """reference data for enrichment (docs/enrichment.md); a missing or broken file stops the run
before it starts"""


def _add_reference_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("enrichment", RUN_HELP)
    g.add_argument("--enrich-config", metavar="FILE",
                   help="YAML/JSON file naming the reference files (options below override it)")
    g.add_argument("--directory", metavar="FILE", help="people and service identities (CSV, JSON or YAML)")
    g.add_argument("--inventory", metavar="FILE", help="accounts/projects/subscriptions and resource tags")
    g.add_argument("--geoip-db", metavar="MMDB", help="MaxMind City/Country database (GeoLite2-City.mmdb)")
    g.add_argument("--asn-db", metavar="MMDB", help="MaxMind ASN database (GeoLite2-ASN.mmdb)")
    g.add_argument("--cloud-ranges", action="append", default=[], metavar="JSON",
                   help="AWS ip-ranges.json, GCP cloud.json or Azure Service Tags JSON; repeat for more")
    g.add_argument("--internal-networks", action="append", default=[], metavar="CIDRS_OR_FILE",
                   help="internal networks: CIDRs separated by commas, or a file of CIDRs; repeatable")
    g.add_argument("--indicators", metavar="FILE", help="threat indicators: IP, CIDR or domain, optional tags")
    g.add_argument("--catalog", metavar="FILE", help="action catalog (default: the bundled one)")
    g.add_argument("--no-catalog", action="store_true", help="do not classify actions")


def add_run_arguments(run: argparse.ArgumentParser) -> None:
    """The enrichment options of ``cloudaudit run``."""
    _add_reference_options(run)


def enrichment_config(args: argparse.Namespace) -> Any:
    """An ``EnrichmentConfig`` from the options (config file first, options on top); None when nothing
    was asked for (the run then uses the bundled action catalog only)."""
    from enrichers.config import EnrichmentConfig

    internal: list[str] = []
    for value in getattr(args, "internal_networks", []) or []:
        internal.extend(v.strip() for v in value.split(",") if v.strip())
    overrides = {
        "directory": args.directory, "inventory": args.inventory, "geoip_db": args.geoip_db,
        "asn_db": args.asn_db, "cloud_ranges": args.cloud_ranges, "internal_networks": internal,
        "indicators": args.indicators, "catalog": args.catalog,
    }
    if args.enrich_config:
        base = EnrichmentConfig.from_file(args.enrich_config)
    elif not any(overrides.values()) and not args.no_catalog:
        return None
    else:
        base = EnrichmentConfig()
    config = base.merged(**overrides)
    return replace(config, use_catalog=False) if args.no_catalog else config


def add_enrich_command(sub: Any, formatter_class: type[argparse.HelpFormatter]) -> None:
    """``cloudaudit enrich [--explain] FILE...``"""
    p = sub.add_parser(
        "enrich", help="enrich events (or raw records) and explain where each added field came from",
        epilog=ENRICH_EXAMPLES, formatter_class=formatter_class, allow_abbrev=False,
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="event JSON or raw audit records ('-' for stdin)")
    p.add_argument("--explain", action="store_true", help="show each added field's value and source")
    p.add_argument("--format", choices=("text", "json"), default="text", help="--explain output (default: text)")
    p.add_argument("--no-raw", action="store_true", help="leave event.raw out of the output")
    _add_reference_options(p)
    p.set_defaults(func=cmd_enrich)


def cmd_enrich(args: argparse.Namespace, extra: list[str]) -> int:
    from collections import Counter

    from connectors.errors import NonEvent
    from connectors.normalize import Normalizer
    from enrichers._files import read_bytes
    from enrichers.config import EnrichmentConfig
    from enrichers.context import enrich_document, load_context
    from enrichers.explain import explain, format_json, format_text, read_events
    from schemas.deadletter import DeadLetter
    from schemas.fastpath import dumps

    no_extra(extra)
    config = enrichment_config(args) or EnrichmentConfig()
    context = load_context(config)  # every reference file checked before any input is read
    inputs = []
    for path in args.files:  # every input is read before any output, so a typo costs nothing
        data = sys.stdin.buffer.read() if path == "-" else read_bytes(path, "input")
        inputs.append(("<stdin>" if path == "-" else path, data))
    normalizer = Normalizer(documents=True)  # with raw: the catalog may read it (dropped after, --no-raw)
    out = sys.stdout.buffer
    counts: Counter[str] = Counter()
    dead = 0
    for location, data in inputs:
        for result in read_events(data, location, normalizer):
            if isinstance(result, DeadLetter):
                dead += 1
                out.flush()
                print(f"cloudaudit: dead letter: {result.location}: {result.stage}/{result.code}: "
                      f"{' '.join(result.reason.split())}", file=sys.stderr, flush=True)
                continue
            if isinstance(result, NonEvent):
                out.flush()
                print(f"cloudaudit: not an event: {result.location}: {result.kind}", file=sys.stderr, flush=True)
                continue
            if args.explain:
                trace = explain(result, context)
                if args.no_raw:
                    result["raw"] = None
                if args.format == "json":
                    out.write(format_json(result, trace) + b"\n")
                else:
                    out.write(format_text(result, trace).encode() + b"\n\n")
            else:
                out.write(dumps(enrich_document(result, context, counts, keep_raw=not args.no_raw)) + b"\n")
    out.flush()
    return 1 if dead else 0
