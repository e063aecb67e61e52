"""The enrichment chain: small single-purpose enrichers, registered by name, applied in order.

In the style of pySigma's processing pipelines: each enricher does one thing to an ``Event`` in place
and says how it went with one outcome word (``hit``, ``miss``, ``none``, ...), which the chain counts as
``enrich/<name>/<outcome>``. An enricher that raises leaves its fields as they were and is counted as
``enrich/<name>/error``: enrichment never drops an event and never stops a run.

``trace`` (a list, only for ``cloudaudit enrich --explain``) collects which source gave each field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, NamedTuple

from schemas.event import Event

COUNTER_PREFIX = "enrich"


class Explanation(NamedTuple):
    field: str  # the event field path that was set
    value: Any  # what it was set to
    source: str  # which reference data (file, entry, key) gave it


Trace = list[Explanation]


class Enricher:
    """One step. Subclasses set ``name`` and implement ``enrich``; their state is built at load."""

    name: ClassVar[str] = ""

    def enrich(self, event: Event, trace: Trace | None = None) -> str:  # pragma: no cover - interface
        raise NotImplementedError


REGISTRY: dict[str, type[Enricher]] = {}
ORDER = ("identity", "account", "resource_tags", "network", "catalog")


def register(cls: type[Enricher]) -> type[Enricher]:
    """Class decorator: make an enricher available to ``Chain`` configurations by its name."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    REGISTRY[cls.name] = cls
    return cls


def counter_name(enricher: str, outcome: str) -> str:
    return f"{COUNTER_PREFIX}/{enricher}/{outcome}"


class Chain:
    """Enrichers in order; ``apply`` enriches one event and counts each outcome into ``counts``."""

    def __init__(self, enrichers: Iterable[Enricher]) -> None:
        self.enrichers = list(enrichers)
        # Counter names built once: a per-event f-string would cost more than some lookups.
        self._names: dict[tuple[str, str], str] = {}
        self._steps: list[tuple[str, Callable[..., str]]] = [(e.name, e.enrich) for e in self.enrichers]

    def __bool__(self) -> bool:
        return bool(self.enrichers)

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.enrichers]

    def apply(self, event: Event, counts: Counter[str], trace: Trace | None = None) -> Event:
        names = self._names
        for name, enrich in self._steps:
            try:
                outcome = enrich(event, trace)
            except Exception as exc:  # one lookup failing leaves its field empty, never loses the event
                outcome = "error"
                if trace is not None:
                    trace.append(Explanation(name, None, f"error: {type(exc).__name__}: {exc}"))
            key = (name, outcome)
            counter = names.get(key)
            if counter is None:
                counter = names[key] = counter_name(name, outcome)
            counts[counter] += 1
        return event


def outcome_counts(counts: dict[str, int]) -> dict[str, dict[str, int]]:
    """``enrich/<name>/<outcome>`` counters -> {name: {outcome: n}}, for summaries and benchmarks."""
    out: dict[str, dict[str, int]] = {}
    for key, value in counts.items():
        head, _, rest = key.partition("/")
        if head != COUNTER_PREFIX or not rest:
            continue
        name, _, outcome = rest.partition("/")
        out.setdefault(name, {})[outcome] = out.get(name, {}).get(outcome, 0) + int(value)
    return out
