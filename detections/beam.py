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
``related`` shows. The per-element work is in plain functions (``detections.lines``: ``keyed``,
``detect_person``), testable without Beam, and the same as hunting over raw files.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from detections.engine import Engine
from detections.fastkeys import RuleIndex
from detections.lines import detect_person, keyed
from detections.loader import load_pack
from detections.rule import CompiledPrefilter, Rule

COUNTER_PREFIX = "detect"  # detect/alerts/<mode>, detect/sinks/<name>/...: not part of the run invariant

# The few fields the prefilters, the person key and ``related`` need: Arrow's C++ JSON reader parses a
# batch of lines into just these columns, so no Python object is made for most events.
_S = pa.string()
KEY_SCHEMA = pa.schema([
    ("id", _S),
    ("when", pa.struct([("time", pa.timestamp("us", tz="UTC"))])),
    ("who", pa.struct([
        ("actor", pa.struct([("type", _S), ("id", _S), ("email", _S), ("name", _S)])),
        ("person", pa.struct([("id", _S)])),
    ])),
    ("what", pa.struct([("action", _S), ("outcome", _S), ("risk_tags", pa.list_(_S))])),
    ("where", pa.struct([("provider", _S), ("account", _S)])),
])


def read_keys(batch: bytes) -> pa.Table:
    return pj.read_json(
        io.BytesIO(batch),
        read_options=pj.ReadOptions(use_threads=False, block_size=1 << 24),
        parse_options=pj.ParseOptions(explicit_schema=KEY_SCHEMA, unexpected_field_behavior="ignore"),
    )


def _blank_to_null(a: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a)


def person_keys(t: pa.Table) -> pa.Array:
    """``helpers.person_key`` on a table: person id, else actor id, e-mail, name, else "unknown"."""
    who = t.column("who").combine_chunks()
    actor, person = who.field("actor"), who.field("person")
    return pc.coalesce(*(_blank_to_null(x) for x in (
        person.field("id"), actor.field("id"), actor.field("email"), actor.field("name"))), pa.scalar("unknown"))


def prefilter_mask(t: pa.Table, prefilters: Sequence[CompiledPrefilter]) -> np.ndarray:
    """``CompiledPrefilter.passes`` for every row and any of ``prefilters``, vectorized."""
    n = t.num_rows
    what = t.column("what").combine_chunks()
    action = pc.utf8_lower(what.field("action"))
    outcome = what.field("outcome")
    provider = t.column("where").combine_chunks().field("provider")
    actor = t.column("who").combine_chunks().field("actor")
    actor_type = actor.field("type")
    tags = what.field("risk_tags")
    flat = pc.list_flatten(tags)
    parents = pc.list_parent_indices(tags).to_numpy(zero_copy_only=False)

    def isin(a: pa.Array, values: frozenset[str]) -> np.ndarray:
        return pc.fill_null(pc.is_in(a, value_set=pa.array(sorted(values), pa.string())), False).to_numpy(
            zero_copy_only=False)

    def prefixed(a: pa.Array, prefixes: tuple[str, ...]) -> np.ndarray:
        low = pc.utf8_lower(a)
        hit = np.zeros(n, dtype=bool)
        for x in prefixes:
            hit |= pc.fill_null(pc.starts_with(low, x), False).to_numpy(zero_copy_only=False)
        return hit

    out = np.zeros(n, dtype=bool)
    for p in prefilters:
        m = np.ones(n, dtype=bool)
        if p.providers:
            m &= isin(provider, p.providers)
        if p.outcomes:
            m &= isin(outcome, p.outcomes)
        if p.selective:
            which = np.zeros(n, dtype=bool)
            if p.actor_types:
                which |= isin(actor_type, p.actor_types)
            if p.principals:
                which |= prefixed(actor.field("name"), p.principals) | prefixed(actor.field("email"), p.principals)
            if p.actions:
                which |= isin(action, p.actions)
            for prefix in p.prefixes:
                which |= pc.fill_null(pc.starts_with(action, prefix), False).to_numpy(zero_copy_only=False)
            if p.tags and len(flat):
                which[np.unique(parents[isin(flat, p.tags)])] = True
            m &= which
        out |= m
    return out


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
        self._index = RuleIndex([r.prefilter for r in _load(self._rules_dir, self._rule_ids)])

    def process(self, batch: bytes) -> Iterator[tuple[str, bytes]]:
        yield from keyed(batch, self._index)


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

        # A plain function is a valid partition function; Beam's annotations only name PartitionFn.
        to_alert, to_monitor = alerts | "ByMode" >> beam.Partition(_mode, 2)  # type: ignore[arg-type]
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
