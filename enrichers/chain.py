"""The enrichment chain: small single-purpose enrichers, registered by name, applied in order.

In the style of pySigma's processing pipelines: each enricher does one thing to an event in place and
says how it went with one outcome word (``hit``, ``miss``, ``none``, ...), which the chain counts as
``enrich/<name>/<outcome>``. An enricher that raises leaves its fields as they were and is counted as
``enrich/<name>/error``: enrichment never drops an event and never stops a run.

The event is a *canonical document* (``schemas.fastpath``: the plain dict ``Event.model_dump()`` gives,
every field present, in the model's order), the form the pipeline carries from the normalizer to the
spill: enrichment costs dict stores, not model instances and their validation. Whatever an enricher sets
is canonical too (what ``model_dump()`` of the sub-model gives, e.g. ``Person(...).model_dump()`` built at
load time and copied per event), so the document stays exactly what
``Event.model_validate(doc).model_dump()`` gives (tests/enrichers/test_canonical.py). ``apply_event`` is
the form for callers holding an ``Event`` model.

``trace`` (a list, only for ``cloudaudit enrich --explain``) collects which source gave each field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, NamedTuple

from schemas.event import Event
from schemas.fastpath import Doc

COUNTER_PREFIX = "enrich"


class Explanation(NamedTuple):
    field: str  # the event field path that was set
    value: Any  # what it was set to
    source: str  # which reference data (file, entry, key) gave it


Trace = list[Explanation]


class Enricher:
    """One step. Subclasses set ``name`` and implement ``enrich``; their state is built at load."""

    name: ClassVar[str] = ""

    def enrich(self, doc: Doc, trace: Trace | None = None) -> str:  # pragma: no cover - interface
        """Change the canonical document ``doc`` in place; return the outcome word."""
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

    def apply(self, doc: Doc, counts: Counter[str], trace: Trace | None = None) -> Doc:
        """Enrich the canonical document ``doc`` in place (and return it)."""
        names = self._names
        for name, enrich in self._steps:
            try:
                outcome = enrich(doc, trace)
            except Exception as exc:  # one lookup failing leaves its field empty, never loses the event
                outcome = "error"
                if trace is not None:
                    trace.append(Explanation(name, None, f"error: {type(exc).__name__}: {exc}"))
            key = (name, outcome)
            counter = names.get(key)
            if counter is None:
                counter = names[key] = counter_name(name, outcome)
            counts[counter] += 1
        return doc

    def apply_event(self, event: Event, counts: Counter[str], trace: Trace | None = None) -> Event:
        """For callers holding a model: the event enriched, as a new ``Event`` (``event`` is not changed)."""
        return Event.model_validate(self.apply(event.model_dump(), counts, trace))


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
