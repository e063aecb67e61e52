"""Detection in the streaming pipeline: the rules on the live events, per person, with the same alerts as
a batch run or a hunt over the same events.

```
LIVE batches ─┬──────────────────────────────────────────────────── (unchanged, to the SIEM sinks)
              └─ KeyByPerson ─ PersonSessions (state + event-time timer) ─ alerts ─ WriteStreamAlerts
```

``keyed`` (the batch stage's per-event work) keys every event by its person. ``PersonSessionFn`` keeps a
person's items in state and sets an event-time timer at their latest event time + ``session_gap``;
when the watermark passes it (the person has been quiet that long), it runs ``detect_person`` on the
held items, emits the alerts and clears the state. The gap is longer than every rule's suppression
period and threshold window and than the related span (30 minutes each side), so no alert, threshold
window, suppression or related activity can reach across it: the engine over a person's whole history
gives exactly the union of its results per session, which is why streaming and hunting agree
(tests/detections/test_streaming.py).

The price is latency: an alert is written once its person has been quiet for the gap (an hour and a
second with the bundled pack, whose longest suppression period is an hour), and a principal that never
pauses that long holds its events in state until it does. An event older than the watermark minus the
gap when it arrives starts a session of its own (as in the rest of the streaming pipeline, such an event
is late).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import apache_beam as beam
import orjson
from apache_beam import coders
from apache_beam.transforms import userstate
from apache_beam.typehints import typehints
from apache_beam.utils.timestamp import Timestamp

from detections.beam import COUNTER_PREFIX, _KeyFn, _load, _namespace
from detections.engine import RELATED_SPAN, Engine
from detections.lines import FULL, detect_person
from detections.rule import Rule


def session_gap(rules: Sequence[Rule]) -> timedelta:
    """Longer than any suppression period, threshold window and the related span."""
    spans = [RELATED_SPAN]
    for r in rules:
        spans.append(r.meta.suppress_for)
        if r.meta.threshold is not None:
            spans.append(r.meta.threshold.window)
    return max(spans) + timedelta(seconds=1)


def item_time(item: bytes) -> datetime:
    """The event time of an item from ``keyed`` (its light record's third value)."""
    head = item[1:].partition(b"\n")[0] if item[:1] == FULL else item[1:]
    return datetime.fromisoformat(orjson.loads(head)[2])


_ITEMS = userstate.BagStateSpec("items", coders.BytesCoder())
_LAST = userstate.ReadModifyWriteStateSpec("last", coders.VarIntCoder())
_FLUSH = userstate.TimerSpec("flush", userstate.TimeDomain.WATERMARK)
_ITEMS_PARAM = beam.DoFn.StateParam(_ITEMS)
_LAST_PARAM = beam.DoFn.StateParam(_LAST)
_FLUSH_PARAM = beam.DoFn.TimerParam(_FLUSH)


class PersonSessionFn(beam.DoFn):
    """(person key, item) -> alert documents (JSON bytes) when the person's session closes."""

    def __init__(self, rules_dir: str | None, rule_ids: tuple[str, ...] | None) -> None:
        self._rules_dir = rules_dir
        self._rule_ids = rule_ids

    def setup(self) -> None:
        self._engine = Engine(_load(self._rules_dir, self._rule_ids))
        self._gap_us = int(session_gap(self._engine.rules).total_seconds() * 1_000_000)

    def process(
        self,
        element: tuple[str, bytes],
        items: Any = _ITEMS_PARAM,
        last: Any = _LAST_PARAM,
        flush: Any = _FLUSH_PARAM,
    ) -> None:
        _, item = element
        items.add(item)
        t = Timestamp.from_utc_datetime(item_time(item)).micros
        latest = max(last.read() or t, t)
        last.write(latest)
        flush.set(Timestamp(micros=latest + self._gap_us))

    @userstate.on_timer(_FLUSH)
    def on_flush(
        self,
        items: Any = _ITEMS_PARAM,
        last: Any = _LAST_PARAM,
    ) -> Iterator[bytes]:
        held = list(items.read())
        items.clear()
        last.clear()
        for alert in detect_person(held, self._engine):
            beam.metrics.Metrics.counter(_namespace(), f"{COUNTER_PREFIX}/alerts/{alert['mode']}").inc()
            yield orjson.dumps(alert)


class WriteStreamAlertsFn(beam.DoFn):
    """Alerts of a bundle -> alert-mode: ``OUT/alerts/alerts-<run>-<part>.jsonl``; monitor-mode: the
    ``signals`` table (``cold/signals/date=D/signals-<run>-<part>.parquet``). Yields the alert-mode lines
    as one batch, for the SIEM sinks."""

    def __init__(self, root: str, run_id: str) -> None:
        self._root = root
        self._run_id = run_id

    def start_bundle(self) -> None:
        self._alert: list[bytes] = []
        self._monitor: list[bytes] = []

    def process(self, line: bytes) -> None:
        (self._monitor if orjson.loads(line)["mode"] == "monitor" else self._alert).append(line)

    def finish_bundle(self) -> Iterator[Any]:
        from apache_beam.io.filesystem import CompressionTypes
        from apache_beam.io.filesystems import FileSystems
        from apache_beam.transforms.window import GlobalWindow
        from apache_beam.utils.windowed_value import WindowedValue

        from detections.alerts import write_signals

        part = uuid.uuid4().hex[:12]
        if self._monitor:
            write_signals(sorted(self._monitor), self._root, self._run_id, f"-{part}")
        if self._alert:
            folder = FileSystems.join(self._root, "alerts")
            if "://" not in folder:
                import os

                os.makedirs(folder, exist_ok=True)
            path = FileSystems.join(folder, f"alerts-{self._run_id}-{part}.jsonl")
            batch = b"\n".join(sorted(self._alert))
            with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                f.write(batch + b"\n")
            yield WindowedValue(batch, GlobalWindow().max_timestamp(), (GlobalWindow(),))
        self._alert, self._monitor = [], []


class StreamDetect(beam.PTransform):
    """The streaming ``detect=`` stage: LIVE batches in, the same batches out (for the sinks); alerts to
    files, the signals table and the SIEM sinks' alert indexes (their dead letters to ``dead_letters``)."""

    def __init__(self, rules_dir: str | None, root: str, run_id: str, sinks: Sequence[Any] = (),
                 rule_ids: Sequence[str] | None = None, dead_letters: beam.DoFn | None = None) -> None:
        super().__init__()
        self._rules_dir = rules_dir
        self._rule_ids = tuple(rule_ids) if rule_ids is not None else None
        self._root = root
        self._run_id = run_id
        self._sinks = list(sinks)
        self._dead_letters = dead_letters

    def expand(self, live: beam.PCollection[bytes]) -> beam.PCollection[bytes]:
        keyed = live | "KeyByPerson" >> beam.ParDo(_KeyFn(self._rules_dir, self._rule_ids))
        keyed.element_type = typehints.KV[str, bytes]  # a deterministic key coder for the state
        alerts = keyed | "PersonSessions" >> beam.ParDo(PersonSessionFn(self._rules_dir, self._rule_ids))
        batches = alerts | "WriteStreamAlerts" >> beam.ParDo(WriteStreamAlertsFn(self._root, self._run_id))
        if self._sinks:
            from detections.alerts import alert_sink_config
            from detections.beam import _PushCounts
            from pipelines.sinks import WriteToSinks

            # Counted apart from the event sinks (detect/sinks/...): the summary checks those against the events.
            dead, counts = batches | "AlertSinks" >> WriteToSinks([alert_sink_config(c) for c in self._sinks],
                                                                  with_counts=True)
            _ = counts | "AlertSinkCounters" >> beam.ParDo(_PushCounts())
            if self._dead_letters is not None:
                _ = dead | "WriteAlertSinkDeadLetters" >> beam.ParDo(self._dead_letters)
        return live
