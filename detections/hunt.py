"""Hunting: the same rules over history, from cold storage (Parquet, with DuckDB) or from raw audit files.

Cold storage is read in two queries:

1. candidates: the rows some rule's prefilter lets through (``prefilter_sql``), with ``--since``/``--until``
   on the ``date`` partition column so DuckDB skips whole partitions, and the row filters pushed into the
   Parquet scan (row groups whose statistics rule them out are skipped);
2. related: for the people the alerts are about, their other events in the surrounding hour.

Raw files are normalized, enriched (``--enrich-config``) and deduplicated by id in this process first.
Either way ``Engine.detect`` makes the alerts, the same function the pipeline calls, so a hunt and a run
agree on the same events.
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from detections.engine import RELATED_SPAN, Brief, Engine
from detections.rule import Rule
from pipelines.errors import UsageError
from schemas.event import Event

if TYPE_CHECKING:
    from schemas.fastpath import Doc

HIVE_COLUMNS = ("provider", "date", "hour")
PERSON_KEY_SQL = (
    "coalesce(nullif(who.person.id, ''), nullif(who.actor.id, ''), nullif(who.actor.email, ''), "
    "nullif(who.actor.name, ''), 'unknown')"
)


@dataclass
class HuntResult:
    alerts: list[dict[str, Any]]
    stats: dict[str, Any] = field(default_factory=dict)

    def stats_text(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.stats.items())


# --- SQL from prefilters ----------------------------------------------------------------------------


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_quote(v) for v in values) + "]"


def rule_sql(rule: Rule) -> str:
    """One rule's prefilter as a DuckDB condition over the event columns (TRUE when it has none)."""
    p = rule.meta.prefilter
    conds = []
    if p.providers:
        conds.append(f"provider IN ({', '.join(_quote(x) for x in p.providers)})")
    which = []
    exact = sorted({a.lower() for a in p.actions if not a.endswith("*")})
    if exact:
        which.append(f"lower(what.action) IN ({', '.join(_quote(a) for a in exact)})")
    which.extend(f"starts_with(lower(what.action), {_quote(a[:-1].lower())})" for a in p.actions if a.endswith("*"))
    if p.risk_tags:
        which.append(f"list_has_any(what.risk_tags, {_list(p.risk_tags)})")
    if p.actor_types:
        which.append(f"who.actor.type IN ({', '.join(_quote(x) for x in p.actor_types)})")
    for prefix in p.principals:
        which.extend(f"starts_with(lower(who.actor.{f}), {_quote(prefix.lower())})" for f in ("name", "email"))
    if which:
        conds.append("(" + " OR ".join(which) + ")")
    if p.outcomes:
        conds.append(f"what.outcome IN ({', '.join(_quote(x) for x in p.outcomes)})")
    return "(" + " AND ".join(conds) + ")" if conds else "TRUE"


def prefilter_sql(rules: Sequence[Rule]) -> str:
    parts = [rule_sql(r) for r in rules]
    if not parts:
        return "FALSE"
    if "TRUE" in parts:
        return "TRUE"
    return "(" + " OR ".join(parts) + ")"


def _date_sql(since: str | None, until: str | None) -> list[str]:
    out = []
    for value, op in ((since, ">="), (until, "<")):
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise UsageError(f"not a date (YYYY-MM-DD): {value!r}") from None
            out.append(f"date {op} DATE {_quote(value)}")
    return out


# --- inputs -----------------------------------------------------------------------------------------


def _parquet_root(path: str) -> str | None:
    """The events folder of a cold-storage input (OUT, OUT/cold or OUT/cold/events), or None."""
    for candidate in (os.path.join(path, "cold", "events"), os.path.join(path, "events"), path):
        if os.path.isdir(candidate) and any(
            n.endswith(".parquet") for _, _, files in os.walk(candidate) for n in files
        ):
            return candidate
    return None


def _connect() -> Any:
    try:
        import duckdb
    except ImportError:
        raise UsageError("hunting over cold storage needs DuckDB: pip install 'cloudaudit[hunt]'") from None
    return duckdb.connect()


def _arrow(relation: Any) -> Any:
    """A DuckDB relation's rows as an Arrow table (DuckDB 2 names it to_arrow_table, 1.x arrow)."""
    to_table = getattr(relation, "to_arrow_table", None)
    return to_table() if to_table is not None else relation.arrow()


def _events_from_table(table: Any) -> list[Event]:
    table = table.drop_columns([c for c in HIVE_COLUMNS if c in table.column_names])
    return [Event.model_validate(row) for row in table.to_pylist()]


def _scan(root: str) -> str:
    glob = os.path.join(root, "**", "*.parquet")
    return (f"read_parquet({_quote(glob)}, hive_partitioning = true, "
            "hive_types = {'provider': VARCHAR, 'date': DATE, 'hour': INTEGER})")


def _columns(con: Any, scan: str) -> str:
    names = [r[0] for r in con.sql(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    return ", ".join(f'"{n}"' for n in names if n != "raw")  # alerts never carry raw; it is the bulk of the bytes


def hunt_cold(roots: Sequence[str], rules: Sequence[Rule], since: str | None = None,
              until: str | None = None, pushdown: bool = True) -> HuntResult:
    """``pushdown=False`` reads every row in the date range and leaves the prefilters to the engine (the
    same alerts, slower: benchmarks/bench_detect.py measures what the pushdown saves)."""
    engine = Engine(rules, include_disabled=True)  # the caller chose the rules
    con = _connect()
    stats: Counter[str] = Counter()
    started = time.monotonic()
    candidates: list[Event] = []
    dates = _date_sql(since, until)
    where = " AND ".join([prefilter_sql(engine.rules) if pushdown else "TRUE", *dates])
    scans = [_scan(root) for root in roots]
    for n, scan in enumerate(scans):
        cols = _columns(con, scan)
        stats["rows_total"] += con.sql(
            f"SELECT count(*) FROM {scan}" + (f" WHERE {' AND '.join(dates)}" if dates else "")
        ).fetchall()[0][0]
        if not pushdown:
            table = _arrow(con.sql(f"SELECT {cols} FROM {scan} WHERE {where}"))
            stats["rows_candidate"] += table.num_rows
            candidates.extend(_events_from_table(table))
            continue
        table, total = _needed(con, scan, cols, where, engine.rules, f"cand{n}")
        stats["rows_candidate"] += total
        stats["rows_built"] += table.num_rows
        candidates.extend(_events_from_table(table))
    windows = engine.windows(candidates)  # the alerts' people and spans, before building any alert
    alerts: list[dict[str, Any]] = []
    if windows:
        context: list[Event | Brief] = list(candidates)
        context.extend(_related_events(con, scans, windows, stats))
        alerts = engine.detect(candidates, context=context)
    stats["alerts"] = len(alerts)
    out: dict[str, Any] = dict(stats)
    out["seconds"] = round(time.monotonic() - started, 3)
    return HuntResult(alerts, out)


def _needed(con: Any, scan: str, cols: str, where: str, rules: Sequence[Rule], name: str) -> tuple[Any, int]:
    """The candidate rows the rules need as models, and how many candidates there were: rows a
    single-event rule's prefilter passes, and rows a threshold rule's prefilter passes for a person who
    has more than its count of such rows within its window (a SQL window over the candidates; without
    that the threshold cannot fire, so those rows stay in Parquet). The rest of the candidates are not
    lost: they are the related activity, which ``_related_events`` reads for the alerts' people."""
    flags = ", ".join(f"{rule_sql(r)} AS __r{i}" for i, r in enumerate(rules))
    # The candidates' light columns first: the nested columns (what, who, ...) are most of the reading
    # time, so they are read only for the rows needed.
    con.sql(f"""CREATE OR REPLACE TEMP TABLE {name} AS
        SELECT id, {PERSON_KEY_SQL} AS __k, "when".time AS __t, {flags} FROM {scan} WHERE {where}""")
    total = con.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0]
    keep = []
    for i, r in enumerate(rules):
        th = r.meta.threshold
        if th is None:
            keep.append(f"__r{i}")
            continue
        us = int(th.window.total_seconds() * 1_000_000)
        keep.append(f"""(__r{i} AND __k IN (SELECT __k FROM (
            SELECT __k, count(*) OVER (PARTITION BY __k ORDER BY __t
                RANGE BETWEEN INTERVAL '{us} microseconds' PRECEDING AND CURRENT ROW) AS __n
            FROM {name} WHERE __r{i}) WHERE __n > {th.more_than}))""")
    con.sql(f"CREATE OR REPLACE TEMP TABLE {name}_need AS SELECT DISTINCT id FROM {name} "
            f"WHERE {' OR '.join(keep) or 'FALSE'}")
    table = _arrow(con.sql(f"SELECT {cols} FROM {scan} WHERE {where} AND id IN (SELECT id FROM {name}_need)"))
    con.sql(f"DROP TABLE {name}")
    con.sql(f"DROP TABLE {name}_need")
    return table, total


def _related_events(con: Any, scans: list[str], windows: list[tuple[str, datetime, datetime]],
                    stats: Counter[str]) -> list[Brief]:
    """Briefs of every event of the alerts' people within the surrounding hour of each alert: a join of
    the scan with the alerts' (key, window) table, pruned to the windows' dates."""
    import pyarrow as pa

    keys, los, his = [], [], []
    for key, first, last in windows:
        keys.append(key)
        los.append(first - RELATED_SPAN)
        his.append(last + RELATED_SPAN)
    windows = pa.table({"k": keys, "lo": pa.array(los, pa.timestamp("us", tz="UTC")),
                        "hi": pa.array(his, pa.timestamp("us", tz="UTC"))})
    con.register("alert_windows", windows)
    lo, hi = min(los), max(his)
    dates = f"date BETWEEN DATE {_quote(lo.date().isoformat())} AND DATE {_quote(hi.date().isoformat())}"
    out: list[Brief] = []
    for scan in scans:
        query = f"""
            WITH e AS (
                SELECT id, "when".time AS t, {PERSON_KEY_SQL} AS k, "where".provider AS provider,
                       "where".account AS account, what.action AS action, what.outcome AS outcome,
                       what.risk_tags AS risk_tags
                FROM {scan} WHERE {dates})
            SELECT DISTINCT e.id, e.t, e.k, e.provider, e.account, e.action, e.outcome, e.risk_tags
            FROM e JOIN alert_windows w ON e.k = w.k AND e.t BETWEEN w.lo AND w.hi"""
        table = _arrow(con.sql(query))
        stats["rows_related"] += table.num_rows
        cols = [table.column(i).to_pylist() for i in range(table.num_columns)]
        out.extend(Brief(i, t, k, p, a, act, o or "unknown", tags or [])
                   for i, t, k, p, a, act, o, tags in zip(*cols, strict=True))
    con.unregister("alert_windows")
    return out


def hunt_raw(paths: Sequence[str], rules: Sequence[Rule], enrichment: Any = None) -> HuntResult:
    """Raw audit files: normalize, enrich, deduplicate by id, detect, the way the pipeline's detection stage
    does (``detections.lines``): each event becomes its canonical line once, and only the events some
    rule's prefilter lets through are built as models; the rest is carried as ``related`` context."""
    from connectors.errors import NonEvent
    from connectors.normalize import Normalizer
    from detections.fastkeys import RuleIndex
    from detections.lines import detect_person, keyed
    from enrichers.context import context_for, enrich_document, prepare
    from schemas.deadletter import DeadLetter
    from schemas.fastpath import dumps

    started = time.monotonic()
    reference = prepare(enrichment)
    ctx = context_for(reference) if reference is not None else None
    engine = Engine(rules, include_disabled=True)
    index = RuleIndex([r.prefilter for r in engine.rules])
    normalizer = Normalizer(documents=True)  # with raw: the catalog may read it; dropped before detection
    counts: Counter[str] = Counter()
    stats: Counter[str] = Counter()
    seen: set[str] = set()
    people: defaultdict[str, list[bytes]] = defaultdict(list)
    for path in _files(paths):
        with open(path, "rb") as f:
            for r in normalizer.stream(f, path):
                stats["records"] += 1
                if isinstance(r, DeadLetter):
                    stats["dead_letters"] += 1
                elif isinstance(r, NonEvent):
                    stats["non_events"] += 1
                elif (doc := cast("Doc", r))["id"] in seen:  # a document: see Normalizer(documents=True)
                    stats["duplicates"] += 1
                else:
                    seen.add(doc["id"])
                    for key, item in keyed(dumps(enrich_document(doc, ctx, counts, keep_raw=False)), index):
                        people[key].append(item)
    alerts = [a for key in sorted(people) for a in detect_person(people[key], engine)]
    alerts.sort(key=lambda a: (a["rule"]["id"], a["first"], a["key"]))  # as Engine.detect orders them
    stats["alerts"] = len(alerts)
    out: dict[str, Any] = dict(stats)
    out["seconds"] = round(time.monotonic() - started, 3)
    return HuntResult(alerts, out)


def _files(paths: Sequence[str]) -> list[str]:
    out = []
    for p in paths:
        if os.path.isdir(p):
            out.extend(sorted(os.path.join(d, n) for d, _, names in os.walk(p) for n in names))
        elif os.path.isfile(p):
            out.append(p)
        else:
            raise UsageError(f"no such file or folder: {p}")
    return out


def hunt(inputs: Sequence[str], rules: Sequence[Rule], since: str | None = None, until: str | None = None,
         enrichment: Any = None) -> HuntResult:
    """Cold-storage folders and raw files may not be mixed in one hunt (their events would be counted twice)."""
    for p in inputs:
        if "://" in p:
            raise UsageError(f"{p}: hunting reads local paths; copy or mount the cold storage first")
    roots = [_parquet_root(p) for p in inputs]
    if all(roots):
        return hunt_cold([r for r in roots if r], rules, since, until)
    if any(roots):
        raise UsageError("give either cold-storage folders or raw audit files, not both")
    if since or until:
        raise UsageError("--since/--until prune cold-storage partitions; raw files are read whole")
    return hunt_raw(inputs, rules, enrichment)


# --- the backtest report ----------------------------------------------------------------------------


def report_text(alerts: Sequence[dict[str, Any]], top: int = 5) -> str:
    by_rule: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in alerts:
        by_rule[a["rule"]["id"]].append(a)
    lines = []
    for rid in sorted(by_rule):
        items = by_rule[rid]
        mode = items[0]["rule"]["mode"]
        suppressed = sum(a["suppressed"] for a in items)
        lines.append(f"{rid} ({mode}): {len(items)} alerts, {suppressed} suppressed hits")
        days = Counter(a["first"][:10] for a in items)
        lines.append("  per day: " + ", ".join(f"{d} {n}" for d, n in sorted(days.items())))
        keys = Counter(a["key"] for a in items)
        lines.append("  top keys: " + ", ".join(f"{k} {n}" for k, n in keys.most_common(top)))
    if not lines:
        lines.append("no alerts")
    return "\n".join(lines) + "\n"
