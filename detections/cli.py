"""Commands: ``cloudaudit detect test [DIR]``, ``cloudaudit detect coverage [DIR]``, ``cloudaudit hunt``.

pipelines/cli.py registers them with one line (``add_detect_commands``); the work is in testing.py,
coverage.py and hunt.py.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pipelines.errors import UsageError, no_extra

DETECT_EXAMPLES = """\
examples:
  cloudaudit detect test                          # the bundled pack (detections/rules)
  cloudaudit detect test my-rules/ --verbose      # every case of your own pack
  cloudaudit detect coverage                      # rules x clouds x ATT&CK, sources that feed no rule
"""

HUNT_EXAMPLES = """\
examples:
  cloudaudit hunt out/cold/events --since 2026-02-01 --until 2026-03-01 --report
  cloudaudit hunt --rules my-rules/ --rule logging_disabled out/cold/events > alerts.jsonl
  cloudaudit hunt --enrich-config ref/enrichment.yaml trail/*.json.gz gcp/*.jsonl

INPUT is a cold-storage events folder (Hive-partitioned Parquet, local or gs://, s3://, azfs://) or raw
audit files (normalized and enriched first). Alerts go to stdout as JSON lines; --report prints, per
rule, alerts per day and the top keys instead (the backtest to read before a rule goes from monitor to
alert).
"""


def add_detect_commands(sub: Any, formatter_class: type[argparse.HelpFormatter]) -> None:
    detect = sub.add_parser("detect", help="test the detection rules, or show their coverage",
                            epilog=DETECT_EXAMPLES, formatter_class=formatter_class, allow_abbrev=False)
    dsub = detect.add_subparsers(dest="detect_command", metavar="ACTION", required=True)
    test = dsub.add_parser("test", help="run every rule's must-match and must-not-match cases", allow_abbrev=False)
    test.add_argument("rules", nargs="?", default=None, metavar="DIR",
                      help="rule pack folder (default: the bundled pack)")
    test.add_argument("--reference", metavar="FILE", default=None,
                      help="enrichment config of the test reference data (default: the pack's test data)")
    test.add_argument("--verbose", "-v", action="store_true", help="list every case, not only failures")
    test.set_defaults(func=cmd_detect_test)
    cov = dsub.add_parser("coverage", help="rules x clouds x ATT&CK; sources and categories that feed no rule",
                          allow_abbrev=False)
    cov.add_argument("rules", nargs="?", default=None, metavar="DIR")
    cov.add_argument("--json", action="store_true", help="the tables as one JSON document")
    cov.set_defaults(func=cmd_detect_coverage)


def add_hunt_command(sub: Any, formatter_class: type[argparse.HelpFormatter]) -> None:
    from enrichers.cli import add_run_arguments

    hunt = sub.add_parser("hunt", help="run the rules over cold storage or raw audit files",
                          epilog=HUNT_EXAMPLES, formatter_class=formatter_class, allow_abbrev=False)
    hunt.add_argument("inputs", nargs="+", metavar="INPUT")
    hunt.add_argument("--rules", metavar="DIR", default=None, help="rule pack (default: the bundled pack)")
    hunt.add_argument("--rule", action="append", default=[], metavar="ID", help="only these rules (repeat)")
    hunt.add_argument("--since", metavar="DATE", default=None, help="first day (YYYY-MM-DD), prunes partitions")
    hunt.add_argument("--until", metavar="DATE", default=None, help="day after the last (YYYY-MM-DD)")
    hunt.add_argument("--include-disabled", action="store_true", help="also run rules in mode disabled")
    hunt.add_argument("--report", action="store_true", help="per rule: alerts per day and top keys")
    hunt.add_argument("--stats", action="store_true", help="print pruning figures to stderr")
    add_run_arguments(hunt)  # --enrich-config etc., for raw inputs
    hunt.set_defaults(func=cmd_hunt)


def cmd_detect_test(args: argparse.Namespace, extra: list[str]) -> int:
    from detections.testing import format_report, run_tests

    no_extra(extra)
    report = run_tests(args.rules, args.reference)
    print(format_report(report, verbose=args.verbose))
    return 0 if report.ok else 1


def cmd_detect_coverage(args: argparse.Namespace, extra: list[str]) -> int:
    import orjson

    from detections.coverage import coverage, format_coverage

    no_extra(extra)
    cov = coverage(args.rules)
    if args.json:
        sys.stdout.write(orjson.dumps(cov, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(format_coverage(cov))
    return 0


def load_rules_or_fail(root: str | None, include_disabled: bool = False, only: list[str] | None = None) -> list[Any]:
    from detections.loader import load_pack

    pack = load_pack(root)
    if pack.problems:
        raise UsageError(f"rule pack {pack.root}: " + "; ".join(pack.problems[:5]))
    rules = [r for r in pack.rules if include_disabled or r.meta.mode != "disabled"]
    if only:
        unknown = sorted(set(only) - {r.id for r in pack.rules})
        if unknown:
            raise UsageError(f"unknown rule id(s): {', '.join(unknown)}")
        rules = [r for r in rules if r.id in only]
    return rules


def cmd_hunt(args: argparse.Namespace, extra: list[str]) -> int:
    import orjson

    from detections.hunt import hunt, report_text
    from enrichers.cli import enrichment_config

    no_extra(extra)
    rules = load_rules_or_fail(args.rules, args.include_disabled, args.rule)
    result = hunt(args.inputs, rules, since=args.since, until=args.until, enrichment=enrichment_config(args))
    if args.stats or args.report:
        print("cloudaudit: hunt: " + result.stats_text(), file=sys.stderr)
    out = sys.stdout.buffer
    if args.report:
        out.write(report_text(result.alerts).encode())
    else:
        for a in result.alerts:
            out.write(orjson.dumps(a) + b"\n")
    out.flush()
    return 0
