"""Detection in a Beam pipeline: ``Detect`` takes the batches of enriched canonical event lines the store
stage hands to the SIEM, and gives alert JSON lines.

```
SIEM batches ── FlatMap(keyed) ── GroupByKey(person) ── FlatMap(detect_person) ── alerts (JSON bytes)
                                                              │
              WriteAlerts: mode alert ─ OUT/alerts/*.jsonl + SIEM sinks (their own index/table)
                           mode monitor ─ OUT/cold/signals/date=D/*.parquet (not the SIEM)
```

Every event is keyed by its person (rules, thresholds, suppression and ``related`` are all per person),
but only the events some rule's prefilter lets through travel whole; the rest travel as the few fields
``related`` shows. The per-element work is in plain functions (``keyed``, ``detect_person``), testable
without Beam, and it is ``Engine.detect``, the same as hunting.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
import orjson

from detections.engine import Engine
from detections.loader import load_pack
from detections.rule import CompiledPrefilter, Rule
from schemas.event import Event

FULL, LIGHT = b"F", b"L"
COUNTER_PREFIX = "detect"  # detect/alerts/<mode>, detect/sinks/<name>/...: not part of the run invariant


def passes_doc(p: CompiledPrefilter, doc: dict[str, Any]) -> bool:
    """``CompiledPrefilter.passes`` on the parsed canonical JSON (no model built for most events)."""
    what = doc["what"]
    if p.providers and doc["where"]["provider"] not in p.providers:
        return False
    if p.outcomes and what.get("outcome") not in p.outcomes:
        return False
    if p.actor_types and ((doc.get("who") or {}).get("actor") or {}).get("type") not in p.actor_types:
        return False
    if not (p.actions or p.prefixes or p.tags):
        return True
    if p.tags and not p.tags.isdisjoint(what.get("risk_tags") or ()):
        return True
    action = what["action"].lower()
    return action in p.actions or (bool(p.prefixes) and action.startswith(p.prefixes))


def person_key_doc(doc: dict[str, Any]) -> str:
    who = doc.get("who") or {}
    person = who.get("person") or {}
    actor = who.get("actor") or {}
    return person.get("id") or actor.get("id") or actor.get("email") or actor.get("name") or "unknown"


def light_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """Just what ``related`` shows and the person key needs, still a valid Event."""
    who = doc.get("who") or {}
    what = doc["what"]
    return {
        "id": doc["id"], "when": {"time": doc["when"]["time"]},
        "who": {"actor": who.get("actor") or {}, "person": who.get("person")},
        "what": {"action": what["action"], "operation": what["operation"], "outcome": what.get("outcome", "unknown"),
                 "risk_tags": what.get("risk_tags") or []},
        "where": {"provider": doc["where"]["provider"], "account": doc["where"].get("account")},
        "source": {"format": doc["source"]["format"]},
    }


def keyed(batch: bytes, prefilters: Sequence[CompiledPrefilter]) -> Iterator[tuple[str, bytes]]:
    """A batch of canonical lines -> (person key, b"F"+line) for candidates, (key, b"L"+light) for the rest."""
    for line in batch.split(b"\n"):
        if not line.strip():
            continue
        doc = orjson.loads(line)
        key = person_key_doc(doc)
        if any(passes_doc(p, doc) for p in prefilters):
            yield key, FULL + line
        else:
            yield key, LIGHT + orjson.dumps(light_doc(doc))


def detect_person(items: Iterable[bytes], engine: Engine) -> list[dict[str, Any]]:
    candidates: list[Event] = []
    context: list[Event] = []
    for item in items:
        e = Event.model_validate_json(item[1:])
        context.append(e)
        if item[:1] == FULL:
            candidates.append(e)
    return engine.detect(candidates, context=context) if candidates else []


class _DetectFn(beam.DoFn):
    def __init__(self, rules_dir: str | None, rule_ids: tuple[str, ...] | None) -> None:
        self._rules_dir = rules_dir
        self._rule_ids = rule_ids

    def setup(self) -> None:
        self._engine = Engine(_load(self._rules_dir, self._rule_ids))

    def process(self, element: tuple[str, Iterable[bytes]]) -> Iterator[bytes]:
        _, items = element
        for alert in detect_person(items, self._engine):
            beam.metrics.Metrics.counter(_namespace(), f"{COUNTER_PREFIX}/alerts/{alert['mode']}").inc()
            yield orjson.dumps(alert)


def _namespace() -> str:
    from pipelines.summary import NAMESPACE

    return NAMESPACE


class _KeyFn(beam.DoFn):
    def __init__(self, rules_dir: str | None, rule_ids: tuple[str, ...] | None) -> None:
        self._rules_dir = rules_dir
        self._rule_ids = rule_ids

    def setup(self) -> None:
        self._prefilters = [r.prefilter for r in _load(self._rules_dir, self._rule_ids)]

    def process(self, batch: bytes) -> Iterator[tuple[str, bytes]]:
        yield from keyed(batch, self._prefilters)


def _load(rules_dir: str | None, rule_ids: tuple[str, ...] | None) -> list[Rule]:
    # Workers load the pack from its folder (rule modules are files, not importable packages);
    # the launcher checked it already (detections.cli.load_rules_or_fail).
    pack = load_pack(rules_dir)
    return [r for r in pack.rules if r.meta.mode != "disabled" and (rule_ids is None or r.id in rule_ids)]


class Detect(beam.PTransform):
    """Batches of enriched canonical event lines -> alert documents (JSON bytes, one per element)."""

    def __init__(self, rules_dir: str | None = None, rule_ids: Sequence[str] | None = None) -> None:
        super().__init__()
        self._rules_dir = rules_dir
        self._rule_ids = tuple(rule_ids) if rule_ids is not None else None

    def expand(self, batches: beam.PCollection[bytes]) -> beam.PCollection[bytes]:
        return (
            batches
            | "KeyByPerson" >> beam.ParDo(_KeyFn(self._rules_dir, self._rule_ids))
            | "GroupByPerson" >> beam.GroupByKey()
            | "RunRules" >> beam.ParDo(_DetectFn(self._rules_dir, self._rule_ids))
        )


def _mode(line: bytes, _n: int) -> int:
    return 1 if orjson.loads(line)["mode"] == "monitor" else 0


class WriteAlerts(beam.PTransform):
    """Alert documents -> alert-mode: ``OUT/alerts/alerts-<run>-*.jsonl`` and each SIEM sink's alert index;
    monitor-mode: ``OUT/cold/signals/`` Parquet. Returns the alert sinks' dead-letter batches."""

    def __init__(self, root: str, run_id: str, sinks: Sequence[Any] = ()) -> None:
        super().__init__()
        self._root = root
        self._run_id = run_id
        self._sinks = list(sinks)

    def expand(self, alerts: beam.PCollection[bytes]) -> beam.PCollection[bytes]:
        from apache_beam import coders
        from apache_beam.io.filesystems import FileSystems

        from detections.alerts import alert_sink_config, write_signals
        from pipelines.sinks import WriteToSinks

        to_alert, to_monitor = alerts | "ByMode" >> beam.Partition(_mode, 2)
        batch = to_alert | "AlertList" >> beam.combiners.ToList() | "AlertBatch" >> beam.Map(
            lambda lines: b"\n".join(sorted(lines)))
        prefix = FileSystems.join(self._root, "alerts", f"alerts-{self._run_id}")
        _ = batch | "NonEmpty" >> beam.Filter(bool) | "WriteAlertLines" >> beam.io.WriteToText(
            prefix, file_name_suffix=".jsonl", coder=coders.BytesCoder(), num_shards=1, skip_if_empty=True)
        root, run_id = self._root, self._run_id
        _ = (to_monitor | "SignalList" >> beam.combiners.ToList()
             | "WriteSignals" >> beam.Map(lambda lines: write_signals(lines, root, run_id)))
        if not self._sinks:
            return alerts.pipeline | "NoAlertSinkDeadLetters" >> beam.Create([])
        configs = [alert_sink_config(c) for c in self._sinks]
        # Counted apart from the event sinks (the summary checks those against the events written).
        dead, counts = batch | "NonEmptyForSinks" >> beam.Filter(bool) | "AlertSinks" >> WriteToSinks(
            configs, with_counts=True)
        _ = counts | "AlertSinkCounters" >> beam.ParDo(_PushCounts())
        return dead


class _PushCounts(beam.DoFn):
    """``{sinks/<name>/...: n}`` from the alert sinks -> Beam counters ``detect/sinks/<name>/...``."""

    def setup(self) -> None:
        from pipelines.metrics import Counters

        self._counters = Counters()

    def process(self, counts: dict[str, int]) -> None:
        from collections import Counter

        self._counters.push(Counter({f"{COUNTER_PREFIX}/{k}": v for k, v in counts.items()}))
