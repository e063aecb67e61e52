"""Lone Azure ``Start`` rows in the batch pipeline: an operation whose terminal row never comes is an event.

Azure logs a long-running operation as a ``Start`` row (sometimes ``Accept``/``In Progress`` rows too) and
later a terminal row with the same operation and correlationId (connectors/azure_activity/lone_start.py).
Each row is mapped on its own, so an intermediate row is the non-event ``azure.activity.intermediate``.
In a batch run this stage holds those rows until every file is read:

```
read stage ─ lone_starts: (shard, (starts, ends)) ─ GroupByKey ─ ResolveFn ─ segments ─> DedupAndStore
```

- The read stage (``FileReader`` with ``Settings.lone_starts``) watches the Azure connector: an
  intermediate row is held (its record and mapping context, the best row per operation), not counted;
  every other Azure event marks its (operation, correlation id) as ended. At the end of a bundle (or
  when a reader holds many) the held rows and the ended keys leave in one batch per shard.
- ``ResolveFn`` takes every batch of a shard: an operation with an ended key is resolved, and each of its
  held rows is counted as the non-event ``azure.activity.intermediate``, as before. An operation without
  one is lone: one of its rows (a ``Start`` row if there is one, the earliest) is mapped with outcome
  ``unknown`` (``map_unresolved``), enriched and goes on as an event (dedup, cold storage, SIEM files,
  sinks), counted in ``events_normalized`` and ``azure.activity.lone_start``; its other intermediate rows
  are non-events.

So every held row is counted exactly once, and the run summary's invariant keeps holding (a lone row that
cannot be mapped stays a non-event). The key is operationName and correlationId, lower-cased (the
terminal side reads them from the mapped event's ``what.operation`` and ``how.correlation_id``). A terminal
row that is a dead letter does not resolve its Start (the lone Start then says the operation happened).
Streaming does not hold rows (docs/streaming.md, "Azure Start rows").
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam

from connectors.azure_activity import AzureActivityConnector
from connectors.azure_activity.lone_start import map_unresolved, operation_key
from connectors.base import Connector, MapContext
from connectors.errors import NonEvent
from connectors.normalize import Normalizer, loads
from enrichers.context import ReferenceData, context_for, enrich_document
from pipelines import summary as names
from pipelines.metrics import Counters
from pipelines.settings import Settings
from pipelines.spill import SpilledEvent, encode_event, write_spill
from schemas.event import Event
from schemas.fastpath import Doc, event_document

STARTS = "lone_starts"  # the read stage's tagged output
INTERMEDIATE = "azure.activity.intermediate"
LONE_START = "azure.activity.lone_start"  # counter: lone Start rows that became events
SHARDS = 16
ENDS_FLUSH = 200_000  # ended keys a reader holds before it sends them on
STARTS_FLUSH = 2_000  # held rows (events) a reader holds before it sends them on

OpKey = int  # 64-bit digest of (operation, correlation id), both lower-cased
# One held row: its rank (not a Start row, time as written, location; the least stands for the
# operation), its mapping context (whose ``raw`` is the record's compact JSON: the record is parsed again
# only if its operation turns out lone, so a held row costs its text, not a tree of Python objects), and
# the intermediate rows of its operation seen.
Rank = tuple[bool, str, str]
Held = tuple[Rank, MapContext, int]
Batch = tuple[dict[OpKey, Held], set[OpKey]]


def op_key(operation: object, correlation_id: object) -> OpKey | None:
    if not operation or not correlation_id:
        return None
    text = f"{str(operation).strip().lower()}\0{str(correlation_id).strip().lower()}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _event_key(out: dict[str, Any]) -> OpKey | None:
    """A mapped Azure event's operation (``what.operation`` is the operationName as written)."""
    what, how = out.get("what") or {}, out.get("how") or {}
    return op_key(what.get("operation"), how.get("correlation_id"))


def _better(a: Held, b: Held) -> Held:
    """The row that stands for a lone operation: a Start row before other rows, then the earliest; the
    row counts add up."""
    best = a if a[0] <= b[0] else b
    return best[0], best[1], a[2] + b[2]


def to_event(ctx: MapContext, keep_raw: bool) -> Doc | None:
    """A held row (its record is ``ctx.raw``) as its operation's event with outcome unknown, a canonical
    document (``schemas.fastpath``, as the normalizer gives the read stage); None when it cannot be one
    (it then stays the non-event it was)."""
    try:
        record = loads(ctx.raw.encode("utf-8"))
        out = map_unresolved(record, ctx)
        if isinstance(out, NonEvent):
            return None
        if not keep_raw:
            out["raw"] = None
        return event_document(out)  # as the normalizer's documents path decides
    except Exception:
        return None


class StartCollector:
    """What one reader holds: intermediate rows by operation, and the operations that ended."""

    def __init__(self, keep_raw: bool) -> None:
        self.keep_raw = keep_raw
        self.starts: dict[OpKey, Held] = {}
        self.ends: set[OpKey] = set()
        self._held: tuple[OpKey, Held] | None = None  # the row just mapped, until the reader takes it

    def reset(self) -> None:
        self.starts, self.ends, self._held = {}, set(), None

    def install(self, normalizer: Normalizer) -> None:
        """Watch the normalizer's Azure Activity connector(s)."""
        normalizer.connectors = tuple(
            _Watching(c, self) if isinstance(c, AzureActivityConnector) else c  # type: ignore[misc]
            for c in normalizer.connectors
        )

    def intermediate(self, record: dict[str, Any], ctx: MapContext) -> None:
        found = operation_key(record)
        if found is None:
            self._held = None
            return
        operation, correlation_id, status = found
        key = op_key(operation, correlation_id)
        rank = (status != "start", str(record.get("time") or record.get("eventTimestamp")
                                        or record.get("TimeGenerated") or ""), ctx.location)
        self._held = None if key is None else (key, (rank, ctx, 1))

    def take(self, result: NonEvent) -> bool:
        """True when ``result`` is the intermediate row just held (the reader does not count it then)."""
        held, self._held = self._held, None
        if held is None or result.kind != INTERMEDIATE or held[1][1].location != result.location:
            return False
        key, entry = held
        old = self.starts.get(key)
        self.starts[key] = entry if old is None else _better(old, entry)
        return True

    @property
    def full(self) -> bool:
        return len(self.ends) >= ENDS_FLUSH or len(self.starts) >= STARTS_FLUSH

    def flush(self, counts: Counter[str]) -> Iterator[tuple[str, object]]:
        """(STARTS, (shard, (starts, ends))) batches of what is held, one per shard that has any."""
        for shard_batch in self.take_batches(counts):
            yield STARTS, shard_batch

    def take_batches(self, counts: Counter[str]) -> list[tuple[int, Batch]]:
        """What is held, by shard. An operation whose end this reader saw is resolved here: its rows are
        counted into ``counts`` as the non-events they are and not sent on (most operations end in the
        file or bundle they start in; only the others, and the ended keys, cross the GroupByKey)."""
        shards: dict[int, Batch] = {}
        resolved = 0
        for key, entry in self.starts.items():
            if key in self.ends:
                resolved += entry[2]
                continue
            shards.setdefault(key % SHARDS, ({}, set()))[0][key] = entry
        for key in self.ends:
            shards.setdefault(key % SHARDS, ({}, set()))[1].add(key)
        if resolved:
            counts[names.non_event_counter(INTERMEDIATE)] += resolved
        self.starts, self.ends = {}, set()
        return list(shards.items())


class _Watching:
    """The Azure connector as the normalizer sees it, telling the collector what each row was."""

    def __init__(self, inner: Connector, collector: StartCollector) -> None:
        self._inner = inner
        self._collector = collector

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | NonEvent:
        out = self._inner.map(record, ctx)
        if isinstance(out, NonEvent):
            if out.kind == INTERMEDIATE:
                self._collector.intermediate(record, ctx)
        else:
            key = _event_key(out)
            if key is not None:
                self._collector.ends.add(key)
        return out


def resolve(batches: Iterable[Batch], counts: Counter[str], keep_raw: bool) -> Iterator[Doc]:
    """The lone operations' events of one shard; the held rows are counted into ``counts``. Two passes
    over ``batches`` (a GroupByKey's values can be iterated again): the first keeps only ranks, row
    counts and ended keys, the second maps the lone operations' rows one at a time, so a shard's held
    rows are never all in memory at once (where the runner streams the values)."""
    best: dict[OpKey, Rank] = {}
    rows: Counter[OpKey] = Counter()
    ends: set[OpKey] = set()
    for held, ended in batches:
        ends |= ended
        for key, entry in held.items():
            old = best.get(key)
            best[key] = entry[0] if old is None else min(old, entry[0])
            rows[key] += entry[2]
    lone = {key for key in best if key not in ends}
    counts[names.non_event_counter(INTERMEDIATE)] += sum(rows.values()) - len(lone)
    if not lone:
        return
    for held, _ in batches:
        for key, (rank, ctx, _) in held.items():
            if key in lone and rank == best[key]:
                lone.discard(key)
                event = to_event(ctx, keep_raw)
                if event is None:  # it stays the non-event it was
                    counts[names.non_event_counter(INTERMEDIATE)] += 1
                    continue
                counts[names.EVENTS_NORMALIZED] += 1
                counts[LONE_START] += 1
                yield event


class ResolveFn(beam.DoFn):
    """(shard, [batches]) -> the lone operations' events as the read stage's segments: spill pointers
    (local runners) or ``(key, events)`` batches (``spill_dir`` empty: runners with their own shuffle)."""

    def __init__(self, settings: Settings, spill_dir: str) -> None:
        self._settings = settings
        self._spill_dir = spill_dir

    def setup(self) -> None:
        self._counters = Counters()

    def process(
        self, element: tuple[int, Iterable[Batch]], enrichment: ReferenceData | None = None
    ) -> Iterator[object]:
        from pipelines.read import partition_key

        _, batches = element
        counts: Counter[str] = Counter()
        context = context_for(enrichment) if enrichment is not None else None
        by_key: dict[Any, list[SpilledEvent]] = {}
        n = 0
        for event in resolve(batches, counts, True):  # enrichment may read raw: dropped after, as the reader does
            enrich_document(event, context, counts, self._settings.keep_raw)
            by_key.setdefault(partition_key(event, self._settings.dedup_shards), []).append(encode_event(event))
            n += 1
            if n >= self._settings.batch_size:
                yield from self._segments(by_key)
                by_key, n = {}, 0
        yield from self._segments(by_key)
        self._counters.push(counts)

    def _segments(self, by_key: dict[Any, list[SpilledEvent]]) -> Iterator[object]:
        if not by_key:
            return
        if self._spill_dir:
            yield from write_spill(self._spill_dir, by_key)
        else:
            yield from by_key.items()


class ResolveLoneStarts(beam.PTransform):
    """The read stages' ``lone_starts`` outputs (flattened) -> segments of the lone operations' events."""

    def __init__(
        self, settings: Settings, spill_dir: str, enrichment: beam.pvalue.AsSingleton | None = None
    ) -> None:
        super().__init__()
        self._settings = settings
        self._spill_dir = spill_dir
        self._enrichment = enrichment

    def expand(self, held: beam.PCollection[Any]) -> beam.PCollection[Any]:
        side = {"enrichment": self._enrichment} if self._enrichment is not None else {}
        return (
            held
            | "GroupByShard" >> beam.GroupByKey()
            | "Resolve" >> beam.ParDo(ResolveFn(self._settings, self._spill_dir), **side)
        )


def lone_start_events(paths: Iterable[str], keep_raw: bool = True) -> list[Event]:
    """The events a batch run adds for the lone Start rows of these files, without Beam (for checks: the
    ids a run over them must write besides the normalizer's events)."""
    normalizer = Normalizer(keep_raw=keep_raw)
    collector = StartCollector(keep_raw)
    collector.install(normalizer)
    for path in paths:
        with open(path, "rb") as f:
            for result in normalizer.stream(f, path):
                if isinstance(result, NonEvent):
                    collector.take(result)
    by_shard: dict[int, list[Batch]] = {}
    counts: Counter[str] = Counter()
    for shard, batch in collector.take_batches(counts):
        by_shard.setdefault(shard, []).append(batch)
    return [Event.model_validate(d) for batches in by_shard.values() for d in resolve(batches, counts, keep_raw)]
