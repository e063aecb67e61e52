"""Beam counters for the run summary: pushed in bulk from plain ``Counter``s, read back after the run; and
the two clock marks the summary's rate is measured with (``mark_clock``)."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter

from pipelines.summary import FIRST_READ, LAST_WRITE, NAMESPACE, sum_counters


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


def mark_clock(name: str) -> None:
    """Now (wall clock, ms) into the Beam distribution ``name``: a read stage marks ``FIRST_READ`` as it
    begins on records, a write stage ``LAST_WRITE`` as it finishes a write. The run's earliest read and
    latest write (the distributions' min and max over every worker) bound its processing time."""
    Metrics.distribution(NAMESPACE, name).update(int(time.time() * 1000))


def query_clocks(result: Any) -> tuple[float | None, float | None]:
    """The first record read and the last write finished (seconds since the epoch), from the marks of
    ``mark_clock``; None for a mark no stage made (or a runner that does not report distributions)."""
    try:
        found = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["distributions"]
    except Exception:  # a runner without distribution metrics: the summary says nothing was measured
        return None, None
    first: list[int] = []
    last: list[int] = []
    for m in found:
        try:
            value = m.committed
        except Exception:  # some runners support only attempted metrics
            value = None
        value = value if value is not None and value.count else m.attempted
        if value is None or not value.count:
            continue
        if m.key.metric.name == FIRST_READ:
            first.append(value.min)
        elif m.key.metric.name == LAST_WRITE:
            last.append(value.max)
    return (min(first) / 1000 if first else None), (max(last) / 1000 if last else None)


class PushCountsFn(beam.DoFn):
    """Counts (a dict per read round or pane, from stages that count in plain dicts) -> Beam counters.

    Stateful stages hand their counts downstream as elements rather than incrementing counters
    themselves: counters incremented in a timer callback are not reported by every runner."""

    def process(self, counts: dict[str, int]) -> None:
        for name, value in counts.items():
            if value:
                Metrics.counter(NAMESPACE, name).inc(value)
