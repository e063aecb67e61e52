"""Deduplicate and window, streaming: one stateful stage keyed by shard, in the global window.

``DedupWindowFn`` keeps the ids it has seen (forgotten ``--dedup-ttl`` seconds of event time after their
window), the events of each window not yet written, and the panes written per window. One event-time
timer per shard fires at the next deadline (a window's end: its on-time pane; a window's end + allowed
lateness: it closes; an id bucket's expiry). The last firing time is a lower bound of the watermark, and
that is what lateness is judged against: an event whose window closed is a ``too_late`` dead letter,
never dropped silently (which Beam's own GroupByKey would do, and why the windowing is done here rather
than with ``WindowInto``).

SIEM delivery does not wait for the window: every new event (not a duplicate, not too late) leaves at
once on the ``LIVE`` output, which the SIEM sinks take; the cold-storage panes (Parquet, raw archive,
``siem/`` files) keep the event-time windows. The batch side of this stage is
``pipelines.store.DedupAndStore`` (GroupByKey per partition, then a set of ids).

Across a restart: every pane writes a small id index (``cold/ids/.../*.ids``) beside its Parquet file,
before its manifest; at start-up each worker loads the ids of the committed panes (those with a
manifest) written to the same output within the dedup TTL, so a delivery that was not acknowledged
before a crash, and comes again, is dropped as a duplicate. Deliveries are acknowledged only after the
pane holding their events is committed (``pipelines.local.acks`` on the local runner).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import apache_beam as beam
from apache_beam import coders
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms import userstate
from apache_beam.utils.timestamp import Timestamp

from pipelines import summary as names
from pipelines.layout import Layout
from pipelines.local import acks
from pipelines.manifest import MANIFEST_DIR
from pipelines.memory import bound_large_allocations
from pipelines.read import DEADLETTERS
from pipelines.settings import MICROS, Settings, StreamSettings
from pipelines.spill import SpilledEvent, canonical_line
from pipelines.stages.cold import PaneStore, location_of
from pipelines.stages.normalize import COUNTS, EVENTS, WindowKey
from schemas.deadletter import DeadLetter

log = logging.getLogger(__name__)

LIVE = "live"  # new events' canonical JSON lines, at once: for the SIEM sinks


class RouteFn(beam.DoFn):
    """Tagged read outputs -> (shard, (window key, events)) on the main output; dead-letter batches and
    counts tagged."""

    def process(self, element: tuple[str, Any]) -> Iterator[Any]:
        tag, value = element
        if tag == EVENTS:
            key, events = value
            yield key[3], (key, events)
        else:
            yield beam.pvalue.TaggedOutput(tag, value)


@dataclass
class ShardState:
    """Everything one shard remembers, read and written once per batch or timer firing."""

    wm: int = -(2**62)  # last timer firing (us): a lower bound of the watermark
    ids: dict[str, int] = field(default_factory=dict)  # id -> expiry (us, event time)
    expiring: dict[int, list[str]] = field(default_factory=dict)  # expiry -> ids
    open: dict[int, dict[WindowKey, list[SpilledEvent]]] = field(default_factory=dict)  # window -> events
    panes: dict[int, int] = field(default_factory=dict)  # window -> next pane number (until it closes)


_PARTITION = re.compile(r"date=(\d{4}-\d{2}-\d{2})[/\\]hour=(\d{2})[/\\]")
_written_cache: dict[tuple[str, int, str], frozenset[str]] = {}
_written_lock = threading.Lock()


def load_written_ids(root: str, ttl_us: int, run_id: str = "") -> frozenset[str]:
    """The ids the streaming runs before this one wrote to ``root`` within the dedup TTL of the newest
    window they wrote (from the ``cold/ids`` index beside the panes). Only the hour partitions within the
    TTL of the newest one are read. This run's own index files are left out: a worker set up again
    mid-run must not take the ids its own state forgot (TTL) for old ones. Loaded once per process."""
    key = (root, ttl_us, run_id)
    with _written_lock:
        if key not in _written_cache:
            _written_cache[key] = frozenset(_load_written_ids(root, ttl_us, run_id))
        return _written_cache[key]


def _load_written_ids(root: str, ttl_us: int, run_id: str) -> set[str]:
    pattern = FileSystems.join(root, "cold", "ids", "**")
    try:
        (match,) = FileSystems.match([pattern])
    except Exception:
        return set()
    manifests = _manifest_names(root)
    files: list[tuple[int, str]] = []
    for meta in match.metadata_list:
        name = os.path.basename(meta.path)
        if not name.endswith(".ids") or (run_id and f"-{run_id}-" in name):
            continue
        if name.startswith("part-") and name[len("part-") : -len(".ids")] not in manifests:
            continue  # its pane was not committed (killed before its manifest): those events come again
        m = _PARTITION.search(meta.path)
        hour_us = 0
        if m:
            hour = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}:00:00+00:00")
            hour_us = int(hour.timestamp()) * MICROS
        files.append((hour_us, meta.path))
    if not files:
        return set()
    newest_hour = max(h for h, _ in files)
    entries: list[tuple[str, int]] = []
    for hour_us, path in files:
        if hour_us + 3600 * MICROS < newest_hour - ttl_us:
            continue  # the whole hour is older than the TTL
        try:
            with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                data = f.read()
        except Exception as exc:  # an unreadable index only weakens deduplication across restarts
            log.warning("cannot read id index %s: %s", path, type(exc).__name__)
            continue
        for line in data.splitlines():
            ident, _, window = line.decode("utf-8", "replace").partition("\t")
            if ident:
                entries.append((ident, int(window or 0)))
    if not entries:
        return set()
    newest = max(w for _, w in entries)
    return {ident for ident, w in entries if w >= newest - ttl_us}


def _manifest_names(root: str) -> set[str]:
    try:
        (match,) = FileSystems.match([FileSystems.join(root, *MANIFEST_DIR, "*.jsonl")])
    except Exception:
        return set()
    return {os.path.basename(m.path)[: -len(".jsonl")] for m in match.metadata_list}


_STATE = userstate.ReadModifyWriteStateSpec("shard", coders.PickleCoder())
_TICK = userstate.TimerSpec("tick", userstate.TimeDomain.WATERMARK)
_STATE_PARAM = beam.DoFn.StateParam(_STATE)
_TICK_PARAM = beam.DoFn.TimerParam(_TICK)


class DedupWindowFn(beam.DoFn):
    """(shard, (window key, events)) -> panes written; the panes' SIEM JSON-lines batches on the main
    output, new events at once on ``LIVE``, dead letters (too_late, parquet_rejected) and counts tagged.
    See the module docstring for the state machine."""

    STATE = _STATE
    TICK = _TICK

    def __init__(self, layout: Layout, settings: Settings, stream: StreamSettings) -> None:
        self._layout = layout
        self._settings = settings
        self._stream = stream

    def setup(self) -> None:
        bound_large_allocations()
        self._counts: Counter[str] = Counter()
        self._store = PaneStore(self._layout, self._settings, self._stream)
        self._written_before = load_written_ids(self._layout.root, self._stream.ttl_us, self._layout.run_id)

    def process(
        self,
        element: tuple[int, tuple[WindowKey, list[SpilledEvent]]],
        state: Any = _STATE_PARAM,
        tick: Any = _TICK_PARAM,
    ) -> Iterator[Any]:
        shard, (key, events) = element
        st: ShardState = state.read() or ShardState()
        window = key[4]
        end = window + self._stream.window_us
        fresh: list[SpilledEvent] = []
        in_batch: set[str] = set()
        committed: list[str] = []  # duplicates of events already durable: their deliveries may be acked
        open_ids: set[str] | None = None
        for event in events:
            if event[0] in st.ids or event[0] in self._written_before or event[0] in in_batch:
                self._counts[names.DUPLICATES] += 1
                if event[0] in in_batch:
                    continue  # released with the original, when its pane is written
                if open_ids is None:
                    open_ids = {e[0] for groups in st.open.values() for evs in groups.values() for e in evs}
                if event[0] not in open_ids:
                    committed.append(event[0])
            else:
                in_batch.add(event[0])
                fresh.append(event)
        if committed:
            acks.durable(self._layout.run_id, [acks.event_token(i) for i in committed])
        if fresh and end + self._stream.lateness_us <= st.wm:
            yield from self._too_late(key, fresh, st.wm)
        elif fresh:
            expiry = end + self._stream.ttl_us
            bucket = st.expiring.setdefault(expiry, [])
            for event in fresh:
                st.ids[event[0]] = expiry
                bucket.append(event[0])
            # The SIEM copy leaves now; cold storage waits for the window (or an early pane).
            yield beam.pvalue.TaggedOutput(LIVE, b"\n".join([canonical_line(j, raw) for _, j, raw in fresh]))
            if end <= st.wm:  # late, within the allowed lateness: its own pane, now
                yield from self._write_pane(shard, window, {key: fresh}, st)
            else:
                groups = st.open.setdefault(window, {})
                groups.setdefault(key, []).extend(fresh)
                if sum(len(v) for v in groups.values()) >= self._settings.batch_size:
                    # An early pane: memory stays bounded while the watermark waits.
                    yield from self._write_pane(shard, window, st.open.pop(window), st)
        self._set_tick(st, tick)
        state.write(st)
        yield from self._take_counts()

    @userstate.on_timer(_TICK)
    def on_tick(
        self,
        state: Any = _STATE_PARAM,
        tick: Any = _TICK_PARAM,
        key: Any = beam.DoFn.KeyParam,
        fired: Any = beam.DoFn.TimestampParam,
    ) -> Iterator[Any]:
        st: ShardState = state.read() or ShardState()
        now = fired.micros
        st.wm = max(st.wm, now)
        for window in sorted(w for w in st.open if w + self._stream.window_us <= now):
            yield from self._write_pane(int(key), window, st.open.pop(window), st)
        for window in [w for w in st.panes if w + self._stream.window_us + self._stream.lateness_us <= now]:
            del st.panes[window]
        for expiry in [e for e in st.expiring if e <= now]:
            for ident in st.expiring.pop(expiry):
                if st.ids.get(ident) == expiry:
                    del st.ids[ident]
        self._set_tick(st, tick)
        state.write(st)
        yield from self._take_counts()

    def _write_pane(
        self, shard: int, window: int, groups: dict[WindowKey, list[SpilledEvent]], st: ShardState
    ) -> Iterator[Any]:
        pane = st.panes.get(window, 0)
        st.panes[window] = pane + 1
        yield from self._store.write_pane(shard, window, pane, groups)

    def _take_counts(self) -> Iterator[Any]:
        # Counted downstream (PushCountsFn): counters incremented in a timer callback are not reported by
        # the local runner.
        self._counts.update(self._store.counts)
        self._store.counts.clear()
        if self._counts:
            yield beam.pvalue.TaggedOutput(COUNTS, dict(self._counts))
            self._counts.clear()

    def _set_tick(self, st: ShardState, tick: Any) -> None:
        w, lateness = self._stream.window_us, self._stream.lateness_us
        deadlines = [x + w for x in st.open]
        deadlines += [x + w + lateness for x in st.panes]
        deadlines += list(st.expiring)
        later = [d for d in deadlines if d > st.wm]
        if later:
            tick.set(Timestamp(micros=min(later)))

    def _too_late(self, key: WindowKey, events: list[SpilledEvent], wm: int) -> Iterator[Any]:
        start = Timestamp(micros=key[4]).to_rfc3339()
        closed = Timestamp(micros=key[4] + self._stream.window_us + self._stream.lateness_us).to_rfc3339()
        reason = (
            f"event too late: its window {start} (+{self._stream.window_seconds}s) closed at {closed} "
            f"(allowed lateness {self._stream.allowed_lateness_seconds}s); watermark was at least "
            f"{Timestamp(micros=wm).to_rfc3339()}"
        )
        lines = []
        for event in events:
            line = canonical_line(event[1], event[2])
            lines.append(DeadLetter("window", "too_late", reason, line, location_of(line)).to_json())
        self._counts[names.deadletter_counter("window", "too_late")] += len(events)
        blob = b"\n".join(lines)
        # Their deliveries are acknowledged once this dead-letter batch is written.
        acks.transfer(self._layout.run_id, [acks.event_token(e[0]) for e in events], acks.blob_token(blob))
        yield beam.pvalue.TaggedOutput(DEADLETTERS, blob)
