"""Rule tests as data: ``<rule>/tests/match/*`` must raise an alert, ``<rule>/tests/nomatch/*`` must not.

Each file holds raw records in a cloud's native delivery format (a CloudTrail ``{"Records": [...]}``
file, GCP LogEntry lines, an Azure ``{"records": [...]}`` blob, ...). They go through the real
``Normalizer`` and the enrichment chain with the test reference data before the rule sees them, so a
mapping or catalog change that breaks a rule fails here. The whole file is one test: a threshold
rule's case is the burst in one file.

The pack fails when a rule has no must-match or no must-not-match case for one of the clouds its
metadata names, when its metadata is incomplete, or when two rules share an id (loader.py).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from connectors.errors import NonEvent
from connectors.normalize import Normalizer
from detections.engine import Engine
from detections.loader import Pack, load_pack
from detections.rule import Rule
from enrichers.config import EnrichmentConfig
from enrichers.context import EnrichmentContext, enriched_event, load_context
from schemas.deadletter import DeadLetter
from schemas.event import Event

if TYPE_CHECKING:
    from schemas.fastpath import Doc

TEST_REFERENCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference", "enrichment.yaml")
KINDS = ("match", "nomatch")


@dataclass
class CaseResult:
    rule: str
    kind: str  # match | nomatch
    path: str
    providers: tuple[str, ...]
    ok: bool
    message: str = ""


@dataclass
class Report:
    pack: Pack
    cases: list[CaseResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # pack problems and missing cases

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.ok for c in self.cases)


def enrichment_context(reference: str | None = None) -> EnrichmentContext:
    return load_context(EnrichmentConfig.from_file(reference or TEST_REFERENCE))


def events_of_file(path: str, ctx: EnrichmentContext | None, normalizer: Normalizer | None = None) -> tuple[
        list[Event], list[str]]:
    """Normalize and enrich one file; the second value lists records that did not become events.

    A normalizer given must yield documents (``Normalizer(documents=True)``): each event is validated once.
    """
    normalizer = normalizer or Normalizer(documents=True)
    with open(path, "rb") as f:
        data = f.read()
    events: list[Event] = []
    bad: list[str] = []
    counts: Counter[str] = Counter()
    for r in normalizer.blob(data, path):
        if isinstance(r, DeadLetter):
            bad.append(f"dead letter {r.stage}/{r.code}: {r.reason}")
        elif isinstance(r, NonEvent):
            bad.append(f"not an event: {r.kind}")
        else:
            events.append(enriched_event(cast("Doc", r), ctx, counts))
    return events, bad


def case_files(rule: Rule, kind: str) -> list[str]:
    folder = os.path.join(rule.path, "tests", kind)
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if not n.startswith("."))


def run_rule_tests(rule: Rule, ctx: EnrichmentContext, normalizer: Normalizer | None = None) -> tuple[
        list[CaseResult], list[str]]:
    engine = Engine([rule], include_disabled=True)  # a disabled rule is still tested
    results: list[CaseResult] = []
    problems: list[str] = []
    clouds: dict[str, set[str]] = {k: set() for k in KINDS}
    for kind in KINDS:
        files = case_files(rule, kind)
        if not files:
            problems.append(f"{rule.id}: no must-{'not-' if kind == 'nomatch' else ''}match case (tests/{kind}/)")
        for path in files:
            events, bad = events_of_file(path, ctx, normalizer)
            providers = tuple(sorted({e.where.provider for e in events}))
            clouds[kind].update(providers)
            rel = os.path.relpath(path, rule.path)
            if bad or not events:
                msg = "; ".join(bad[:3]) if bad else "no events in the file"
                results.append(CaseResult(rule.id, kind, rel, providers, False, msg))
                continue
            alerts = engine.detect(events)
            if kind == "match":
                ok = bool(alerts)
                msg = "" if ok else f"no alert from {len(events)} events (actions: " + ", ".join(
                    sorted({e.what.action for e in events})[:4]) + f"; tags: {sorted({t for e in events for t in e.what.risk_tags})})"
            else:
                ok = not alerts
                msg = "" if ok else f"{len(alerts)} unexpected alert(s) on events " + ", ".join(
                    sorted({i for a in alerts for i in a["event_ids"]})[:3])
            results.append(CaseResult(rule.id, kind, rel, providers, ok, msg))
    for cloud in rule.meta.clouds:
        for kind in KINDS:
            if cloud not in clouds[kind] and case_files(rule, kind):
                problems.append(f"{rule.id}: no must-{'not-' if kind == 'nomatch' else ''}match case for {cloud}"
                                " (the metadata says the cloud has the concept)")
    return results, problems


def run_tests(root: str | None = None, reference: str | None = None) -> Report:
    pack = load_pack(root)
    report = Report(pack, problems=list(pack.problems))
    ctx = enrichment_context(reference)
    normalizer = Normalizer(documents=True)
    for r in pack.rules:
        results, problems = run_rule_tests(r, ctx, normalizer)
        report.cases.extend(results)
        report.problems.extend(problems)
    return report


def format_report(report: Report, verbose: bool = False) -> str:
    lines = []
    by_rule: dict[str, list[CaseResult]] = {}
    for c in report.cases:
        by_rule.setdefault(c.rule, []).append(c)
    for r in report.pack.rules:
        cases = by_rule.get(r.id, [])
        failed = [c for c in cases if not c.ok]
        clouds = ",".join(sorted({p for c in cases for p in c.providers}))
        lines.append(f"{'FAIL' if failed else 'ok  '} {r.id:<40} {len(cases):>3} cases  [{clouds}]")
        for c in failed if not verbose else cases:
            lines.append(f"     {'ok  ' if c.ok else 'FAIL'} {c.kind:<7} {c.path}" + (f": {c.message}" if c.message else ""))
    for p in report.problems:
        lines.append(f"PROBLEM {p}")
    n_ok = sum(c.ok for c in report.cases)
    lines.append(
        f"{len(report.pack.rules)} rules, {len(report.cases)} cases, {n_ok} passed, "
        f"{len(report.cases) - n_ok} failed, {len(report.problems)} problems: {'OK' if report.ok else 'FAILED'}"
    )
    return "\n".join(lines)
