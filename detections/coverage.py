"""What the rule pack covers: rules x clouds x ATT&CK, and for each source and event category the rules
it feeds ("forensics only" where none).

The clouds a rule covers are the ones its must-match cases prove (not what its metadata claims), and a
source/category feeds a rule when one of the rule's must-match events has that source format and
category: both come from running the tests' raw records through the normalizer and enrichment.
"""

from __future__ import annotations

from typing import Any

from connectors.normalize import Normalizer
from connectors.registry import connectors
from detections.loader import load_pack
from detections.testing import case_files, enrichment_context, events_of_file
from schemas.event import Category, words
from schemas.event import CategoryName as _Categories


def coverage(root: str | None = None, reference: str | None = None) -> dict[str, Any]:
    pack = load_pack(root)
    ctx = enrichment_context(reference)
    normalizer = Normalizer(documents=True)
    rules: list[dict[str, Any]] = []
    feeds: dict[tuple[str, str], set[str]] = {}
    for r in pack.rules:
        proven: set[str] = set()
        for path in case_files(r, "match"):
            events, _ = events_of_file(path, ctx, normalizer)
            for e in events:
                if r.matches(e):
                    proven.add(e.where.provider)
                    feeds.setdefault((e.source.format, e.what.category), set()).add(r.id)
        rules.append({
            "id": r.id, "mode": r.meta.mode, "severity": r.meta.severity, "clouds": sorted(proven),
            "declared_clouds": list(r.meta.clouds), "tactics": list(r.meta.tactics),
            "techniques": list(r.meta.techniques),
        })
    formats = sorted({c.format for c in connectors()})
    sources = []
    for fmt in formats:
        for cat in words(_Categories):
            ids = sorted(feeds.get((fmt, cat), set()))
            sources.append({"source": fmt, "category": cat, "rules": ids, "forensics_only": not ids})
    techniques: dict[str, list[str]] = {}
    for row in rules:
        for t in row["techniques"]:
            techniques.setdefault(t, []).append(row["id"])
    return {
        "rules": rules,
        "techniques": {k: sorted(v) for k, v in sorted(techniques.items())},
        "sources": sources,
        "problems": pack.problems,
    }


def format_coverage(cov: dict[str, Any]) -> str:
    clouds = ("aws", "gcp", "azure")
    lines = [f"{'rule':<38} {'mode':<8} " + " ".join(f"{c:<5}" for c in clouds) + " ATT&CK"]
    for r in cov["rules"]:
        marks = " ".join(f"{('yes' if c in r['clouds'] else ('-' if c not in r['declared_clouds'] else 'NO')):<5}"
                         for c in clouds)
        lines.append(f"{r['id']:<38} {r['mode']:<8} {marks} {', '.join(r['techniques'])}")
    lines.append("")
    lines.append(f"{len(cov['techniques'])} ATT&CK techniques: " + ", ".join(cov["techniques"]))
    lines.append("")
    lines.append(f"{'source':<16} {'category':<15} rules fed")
    for s in cov["sources"]:
        fed = ", ".join(s["rules"]) if s["rules"] else "forensics only"
        lines.append(f"{s['source']:<16} {s['category']:<15} {fed}")
    for p in cov["problems"]:
        lines.append(f"PROBLEM {p}")
    return "\n".join(lines)


__all__ = ["Category", "coverage", "format_coverage"]
