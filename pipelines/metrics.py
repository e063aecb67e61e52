"""Beam counters for the run summary: pushed in bulk from plain ``Counter``s, read back after the run."""

from __future__ import annotations

from collections import Counter
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter

from pipelines.summary import NAMESPACE, sum_counters


class Counters:
    """Beam counters by name, created once. The per-record work counts into a plain ``Counter``
    (a dict increment) and ``push`` hands the totals to Beam once per file or partition."""

    def __init__(self) -> None:
        self._by_name: dict[str, Any] = {}

    def push(self, counts: Counter[str]) -> None:
        for name, value in counts.items():
            if value:
                counter = self._by_name.get(name)
                if counter is None:
                    counter = self._by_name[name] = Metrics.counter(NAMESPACE, name)
                counter.inc(value)
        counts.clear()


def query_counters(result: Any) -> dict[str, int]:
    """Committed counter values by name, summed over steps (attempted where a runner has no committed)."""
    found = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]
    pairs = []
    for m in found:
        try:
            value = m.committed
        except Exception:  # some runners support only attempted metrics
            value = None
        pairs.append((m.key.metric.name, int(value if value is not None else m.attempted or 0)))
    return sum_counters(pairs)


class PushCountsFn(beam.DoFn):
    """Counts (a dict per read round or pane, from stages that count in plain dicts) -> Beam counters.

    Stateful stages hand their counts downstream as elements rather than incrementing counters
    themselves: counters incremented in a timer callback are not reported by every runner."""

    def process(self, counts: dict[str, int]) -> None:
        for name, value in counts.items():
            if value:
                Metrics.counter(NAMESPACE, name).inc(value)
