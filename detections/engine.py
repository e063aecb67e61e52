"""Running rules over enriched events: single-event rules, thresholds, suppression, alerts.

``Engine.detect(events)`` is a plain function of its input: the pipeline calls it per person (all of one
person's events, from a GroupByKey), hunting calls it on what the prefilters let through of cold storage,
and rule tests on the events of one test file. Whatever the order events arrive in, they are sorted by
(time, id) first, so the three give the same alerts on the same events.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson

from detections.helpers import get, person_key
from detections.rule import Rule
from schemas.event import Event

RELATED_SPAN = timedelta(minutes=30)  # before the first and after the last event: the surrounding hour
RELATED_LIMIT = 100


@dataclass
class Hit:
    events: list[Event]

    @property
    def first(self) -> datetime:
        return self.events[0].when.time


@dataclass
class Open:
    """An alert being built: its first hit, and the hits suppressed into it."""

    rule: Rule
    key: str
    suppression_key: str
    events: list[Event]
    first: datetime
    last: datetime
    suppressed: int = 0
    seen: set[str] = field(default_factory=set)


class Brief(NamedTuple):
    """What ``related`` shows of an event (the pipeline carries only this for events no rule wants)."""

    id: str
    time: datetime
    key: str
    provider: str
    account: str | None
    action: str
    outcome: str
    risk_tags: list[str]


def brief_of(e: Event | Brief) -> Brief:
    if isinstance(e, Brief):
        return e
    return Brief(e.id, e.when.time, person_key(e), e.where.provider, e.where.account, e.what.action,
                 e.what.outcome, list(e.what.risk_tags))


def _order(e: Event) -> tuple[datetime, str]:
    return (e.when.time, e.id)


def briefs_by_person(context: Iterable[Event | Brief]) -> dict[str, list[Brief]]:
    groups: dict[str, dict[str, Brief]] = {}
    for x in context:
        b = brief_of(x)
        groups.setdefault(b.key, {}).setdefault(b.id, b)
    return {k: sorted(v.values(), key=lambda b: (b.time, b.id)) for k, v in groups.items()}


def by_person(events: Iterable[Event]) -> dict[str, list[Event]]:
    """Events grouped by person key, each group deduplicated by id and sorted by (time, id)."""
    groups: dict[str, dict[str, Event]] = {}
    for e in events:
        groups.setdefault(person_key(e), {}).setdefault(e.id, e)
    return {k: sorted(v.values(), key=_order) for k, v in sorted(groups.items())}


class Engine:
    def __init__(self, rules: Sequence[Rule], include_disabled: bool = False) -> None:
        self.rules = [r for r in rules if include_disabled or r.meta.mode != "disabled"]

    def wants(self, e: Event) -> bool:
        """True when some rule's prefilter lets the event through (the rest is only related context)."""
        return any(r.prefilter.passes(e) for r in self.rules)

    def detect(self, events: Iterable[Event], context: Iterable[Event | Brief] | None = None,
               documents: Mapping[str, bytes] | None = None,
               prefiltered: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
        """Alerts (JSON-ready dicts) for ``events``; ``related`` comes from ``context`` (default: the
        events themselves), which must hold every event of the alert's person around the alert.
        ``documents`` may give events' canonical JSON without ``raw`` by id (the pipeline has it): the
        alert then decodes that instead of serializing the model, the same document for less work.
        ``prefiltered`` may give, by event id, the bits of the rules (``rules[i]``: bit ``i``) whose
        prefilter passes the event (``fastkeys.RuleIndex``), so they are not evaluated again."""
        groups = by_person(events)
        alerts = self._alerts(groups, prefiltered)
        if not alerts:
            return []
        pool = briefs_by_person(context if context is not None else (e for g in groups.values() for e in g))
        out = [alert_document(o, related(o, pool.get(o.key, ())), documents) for o in alerts]
        out.sort(key=lambda a: (a["rule"]["id"], a["first"], a["key"]))
        return out

    def windows(self, events: Iterable[Event]) -> list[tuple[str, datetime, datetime]]:
        """(key, first, last) of the alerts ``detect`` would give, without building them: what hunting
        needs to fetch their related activity."""
        return [(o.key, o.first, o.last) for o in self._alerts(by_person(events))]

    def _alerts(self, groups: dict[str, list[Event]], prefiltered: Mapping[str, int] | None = None) -> list[Open]:
        opens: list[Open] = []
        for n, rule in enumerate(self.rules):
            for group in groups.values():
                if prefiltered is None:
                    matched = [e for e in group if rule.matches(e)]
                else:
                    bit = 1 << n
                    matched = [e for e in group if prefiltered.get(e.id, 0) & bit and rule.match(e)]
                opens.extend(self._hits(rule, matched))
        return _suppress(opens) if opens else []

    def _hits(self, rule: Rule, matched: list[Event]) -> list[Open]:
        if not matched:
            return []
        th = rule.meta.threshold
        hits: list[list[Event]] = [[e] for e in matched] if th is None else _threshold(matched, th)
        key = person_key(matched[0])
        out = []
        for evs in hits:
            extra = "|".join(str(get(evs[0], p)) for p in rule.meta.suppress_by)
            out.append(Open(rule, key, f"{key}|{extra}", list(evs), evs[0].when.time, evs[-1].when.time))
        return out


def _threshold(matched: list[Event], th: Any) -> list[list[Event]]:
    """Sliding event-time window: fire when more than ``more_than`` events (or distinct values) fall in
    one window; the events that fired start nothing new (the window empties)."""
    hits: list[list[Event]] = []
    window: deque[Event] = deque()
    for e in matched:
        window.append(e)
        while window and window[0].when.time < e.when.time - th.window:
            window.popleft()
        n = len(window) if th.distinct is None else len({v for v in (th.distinct(x) for x in window) if v})
        if n > th.more_than:
            hits.append(list(window))
            window.clear()
    return hits


def _suppress(opens: list[Open]) -> list[Open]:
    """Hits of one rule and suppression key within ``suppress_for`` of an alert's first hit join that
    alert (counted in ``suppressed``, their events kept) instead of raising a new one."""
    opens.sort(key=lambda o: (o.rule.id, o.suppression_key, o.first, o.events[0].id))
    out: list[Open] = []
    current: dict[tuple[str, str], Open] = {}
    for o in opens:
        k = (o.rule.id, o.suppression_key)
        cur = current.get(k)
        if cur is not None and o.first - cur.first < o.rule.meta.suppress_for:
            cur.suppressed += 1
            for e in o.events:
                if e.id not in cur.seen:
                    cur.seen.add(e.id)
                    cur.events.append(e)
            cur.last = max(cur.last, o.last)
            continue
        o.seen = {e.id for e in o.events}
        current[k] = o
        out.append(o)
    return out


def related(o: Open, person_events: Sequence[Brief]) -> list[Brief]:
    """The same person's other events from 30 minutes before the first to 30 minutes after the last
    (``person_events`` is sorted by time: a binary search finds the span)."""
    lo, hi = o.first - RELATED_SPAN, o.last + RELATED_SPAN
    i = bisect.bisect_left(person_events, lo, key=_brief_time)
    j = bisect.bisect_right(person_events, hi, key=_brief_time)
    return [b for b in person_events[i:j] if b.id not in o.seen]


def _brief_time(b: Brief) -> datetime:
    return b.time


def alert_id(rule_id: str, key: str, first_event_id: str) -> str:
    return hashlib.sha256(f"{rule_id}|{key}|{first_event_id}".encode()).hexdigest()[:32]


def _related_doc(b: Brief) -> dict[str, Any]:
    return {
        "id": b.id, "time": _time(b.time), "provider": b.provider, "account": b.account, "action": b.action,
        "outcome": b.outcome, "risk_tags": list(b.risk_tags),
    }


def _time(t: datetime) -> str:
    text = t.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _event_document(e: Event, documents: Mapping[str, bytes] | None) -> dict[str, Any]:
    doc = documents.get(e.id) if documents else None
    if doc is not None:
        out: dict[str, Any] = orjson.loads(doc)
        out.pop("raw", None)
        return out
    # The same document as model_dump(mode="json"), in half the time (serialized in Rust, decoded by orjson).
    return orjson.loads(e.model_dump_json(exclude={"raw"}))


def alert_document(o: Open, rel: list[Brief], documents: Mapping[str, bytes] | None = None) -> dict[str, Any]:
    """One alert: rule metadata and runbook, the matching enriched events, key, first/last time and the
    related activity. ``id``/``when``/``where`` let the SIEM sinks file it like an event."""
    m = o.rule.meta
    person = o.events[0].who.person
    first_id = o.events[0].id
    providers = sorted({e.where.provider for e in o.events})
    return {
        "id": alert_id(m.id, o.key, first_id),
        "kind": "alert",
        "rule": {
            "id": m.id, "title": m.title, "description": m.description, "severity": m.severity,
            "owner": m.owner, "tactics": list(m.tactics), "techniques": list(m.techniques),
            "scenario": m.scenario, "references": list(m.references), "mode": m.mode,
            "runbook": o.rule.runbook,
        },
        "severity": m.severity,
        "mode": m.mode,
        "key": o.key,
        "key_kind": "person" if person is not None and person.id else "principal",
        "first": _time(o.first),
        "last": _time(o.last),
        "suppressed": o.suppressed,
        "event_ids": [e.id for e in o.events],
        "events": [_event_document(e, documents) for e in o.events],
        "related": [_related_doc(e) for e in rel[:RELATED_LIMIT]],
        "related_total": len(rel),
        "when": {"time": _time(o.first)},
        "where": {"provider": providers[0], "providers": providers},
    }
