"""The rule API: a rule is a function over one enriched ``Event`` plus its metadata.

```python
from datetime import timedelta
from detections import Prefilter, rule
from detections import helpers as h

@rule(
    id="logging_disabled", title="Cloud audit logging stopped or deleted", ...,
    prefilter=Prefilter(risk_tags=("logging.disable", "logging.delete")),
)
def match(e):
    return h.logging_disabled(e) and h.succeeded(e)
```

The metadata is checked when the module is imported (``RuleMeta``: every field required, ATT&CK ids
well formed); the engine uses ``prefilter`` to skip events, and hunting uses it to skip cold-storage
partitions and row groups. A rule with a ``threshold`` fires when enough of its matching events fall in
one sliding event-time window for one person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.event import Event

Severity = Literal["info", "low", "medium", "high", "critical"]
Mode = Literal["disabled", "monitor", "alert"]
Cloud = Literal["aws", "gcp", "azure"]

_TACTIC = r"^TA\d{4}$"
_TECHNIQUE = r"^T\d{4}(\.\d{3})?$"


class Prefilter(BaseModel):
    """What a rule can match at all: an event must be of one of ``providers`` and ``outcomes`` (any when
    empty) and, when any of ``actions``, ``risk_tags``, ``actor_types`` or ``principals`` is given, match
    one of them: an action (letter case ignored; a trailing ``*`` matches a prefix), a risk tag, an actor
    type, or an actor name/e-mail prefix. The pipeline evaluates the same fields on Arrow columns
    (beam.prefilter_mask) and hunting in the Parquet scan (hunt.rule_sql); a test keeps the three equal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    providers: tuple[Cloud, ...] = ()
    actions: tuple[str, ...] = ()
    risk_tags: tuple[str, ...] = ()
    outcomes: tuple[Literal["success", "failure", "unknown"], ...] = ()
    actor_types: tuple[str, ...] = ()
    principals: tuple[str, ...] = Field(default=(), description="Prefixes of who.actor.name or email (any case).")

    def compiled(self) -> CompiledPrefilter:
        exact = frozenset(a.lower() for a in self.actions if not a.endswith("*"))
        prefixes = tuple(a[:-1].lower() for a in self.actions if a.endswith("*"))
        return CompiledPrefilter(
            frozenset(self.providers), exact, prefixes, frozenset(self.risk_tags), frozenset(self.outcomes),
            frozenset(self.actor_types), tuple(p.lower() for p in self.principals),
        )


@dataclass(frozen=True)
class CompiledPrefilter:
    providers: frozenset[str]
    actions: frozenset[str]
    prefixes: tuple[str, ...]
    tags: frozenset[str]
    outcomes: frozenset[str]
    actor_types: frozenset[str]
    principals: tuple[str, ...]

    @property
    def selective(self) -> bool:
        return bool(self.actions or self.prefixes or self.tags or self.actor_types or self.principals)

    def passes(self, e: Event) -> bool:
        if self.providers and e.where.provider not in self.providers:
            return False
        if self.outcomes and e.what.outcome not in self.outcomes:
            return False
        if not self.selective:
            return True
        if self.tags and not self.tags.isdisjoint(e.what.risk_tags):
            return True
        if self.actor_types and e.who.actor.type in self.actor_types:
            return True
        if self.principals:
            a = e.who.actor
            if (a.name or "").lower().startswith(self.principals) or (a.email or "").lower().startswith(self.principals):
                return True
        action = e.what.action.lower()
        return action in self.actions or (bool(self.prefixes) and action.startswith(self.prefixes))


class Threshold(BaseModel):
    """More than ``more_than`` matching events (or distinct values of ``distinct``) by one person within
    ``window`` of event time. ``distinct`` names what is counted, e.g. the secret read."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    more_than: int = Field(ge=1)
    window: timedelta
    distinct: Callable[[Event], str | None] | None = None
    distinct_label: str = "events"


class RuleMeta(BaseModel):
    """Everything a reviewer and a responder need besides the code; all fields are required."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{2,63}$")
    title: str = Field(min_length=5)
    description: str = Field(min_length=20)
    severity: Severity
    owner: str = Field(min_length=2)
    tactics: tuple[str, ...] = Field(min_length=1)
    techniques: tuple[str, ...] = Field(min_length=1)
    scenario: str = Field(min_length=5, description="The scenario (issue, catalog entry) the rule comes from.")
    references: tuple[str, ...] = Field(
        default=(), description="Public attack-simulation techniques and docs (Stratus Red Team ids, ...)."
    )
    clouds: tuple[Cloud, ...] = Field(min_length=1, description="Clouds that have the concept; each is tested.")
    mode: Mode
    suppress_for: timedelta = Field(description="Hits of one key within this period join the first alert.")
    suppress_by: tuple[str, ...] = Field(
        default=(), description="Event field paths added to the person key for suppression (e.g. where.account)."
    )
    prefilter: Prefilter
    threshold: Threshold | None = None

    @field_validator("tactics")
    @classmethod
    def _tactics(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        import re

        bad = [t for t in v if not re.match(_TACTIC, t)]
        if bad:
            raise ValueError(f"ATT&CK tactic ids look like TA0005, got {bad}")
        return v

    @field_validator("techniques")
    @classmethod
    def _techniques(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        import re

        bad = [t for t in v if not re.match(_TECHNIQUE, t)]
        if bad:
            raise ValueError(f"ATT&CK technique ids look like T1562.008, got {bad}")
        return v


@dataclass
class Rule:
    meta: RuleMeta
    match: Callable[[Event], bool]
    runbook: str = ""
    path: str = ""  # the rule's folder, when loaded from one
    _pre: CompiledPrefilter | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def prefilter(self) -> CompiledPrefilter:
        if self._pre is None:
            self._pre = self.meta.prefilter.compiled()
        return self._pre

    def matches(self, e: Event) -> bool:
        return self.prefilter.passes(e) and bool(self.match(e))


def rule(**metadata: object) -> Callable[[Callable[[Event], bool]], Rule]:
    """Decorator: the function becomes a ``Rule`` with the given metadata (checked now)."""
    meta = RuleMeta.model_validate(metadata)

    def wrap(fn: Callable[[Event], bool]) -> Rule:
        return Rule(meta=meta, match=fn)

    return wrap
