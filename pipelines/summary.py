"""The run summary: Beam counters in, the invariant checked, text and JSON out.

Counters live in one namespace with path-like names (``deadletters/parse/invalid_json``), so one
function turns the runner's metric results into a ``Summary`` and tests can build one from a dict.

The invariant: ``records read = events written + dead letters + duplicates dropped + already stored +
non-events``; "already stored" are events a committed earlier run wrote (a rerun of the same input), kept
apart from this run's duplicates.
Every record the normalizer reads comes out as exactly one event, dead letter or non-event; every event
is then written, dropped as a duplicate of one that was written, or dead-lettered by a sink. A run whose
numbers do not add up lost something silently, and says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from pipelines.redact import redact

NAMESPACE = "cloudaudit"

FILES_READ = "files_read"
BYTES_READ = "bytes_read"
RECORDS_READ = "records_read"
EVENTS_NORMALIZED = "events_normalized"
DUPLICATES = "duplicates_dropped"
ALREADY_STORED = "already_stored"  # events an earlier, committed run wrote to this output already
SKIPPED = "skipped_inputs"  # skipped_inputs/<why>: files a directory input left out
PARQUET_FILES = "parquet_files"
RAW_FILES = "raw_files"
DEADLETTERS = "deadletters"  # deadletters/<stage>/<code>
NON_EVENTS = "non_events"  # non_events/<kind>
ENRICH = "enrich"  # enrich/<enricher>/<outcome>: hit, miss, none, error (enrichers.chain)
WRITTEN = "events_written"  # events_written/<provider>/<outcome>
SINKS = "sinks"  # sinks/<name>/events, sinks/<name>/delivered, sinks/<name>/deadletters/<code>
# Beam distributions of wall-clock times (ms since the epoch), for the rate: the earliest time a read stage
# began on a record, and the latest time a write stage finished (pipelines.metrics.mark_clock).
FIRST_READ = "clock/first_read_ms"
LAST_WRITE = "clock/last_write_ms"


def deadletter_counter(stage: str, code: str) -> str:
    return f"{DEADLETTERS}/{stage}/{code}"


def non_event_counter(kind: str) -> str:
    return f"{NON_EVENTS}/{kind}"


def written_counter(provider: str, outcome: str) -> str:
    return f"{WRITTEN}/{provider}/{outcome}"


@dataclass
class Summary:
    run_id: str = ""
    runner: str = ""
    inputs: list[str] = field(default_factory=list)
    output: str = ""
    files_matched: int = 0
    files_read: int = 0
    bytes_read: int = 0
    records_read: int = 0
    events_normalized: int = 0
    events_written: dict[str, dict[str, int]] = field(default_factory=dict)  # provider -> outcome -> n
    duplicates_dropped: int = 0
    already_stored: int = 0
    deadletters: dict[str, dict[str, int]] = field(default_factory=dict)  # stage -> code -> n
    non_events: dict[str, int] = field(default_factory=dict)  # kind -> n
    # Enrichment outcomes: enricher -> outcome -> events (not part of the invariant: it never drops one).
    enrichment: dict[str, dict[str, int]] = field(default_factory=dict)
    parquet_files: int = 0
    raw_files: int = 0
    elapsed_seconds: float = 0.0  # the pipeline's whole run: from pipeline.run() to its end
    # Of which: processing, from the first record read to the end of the last write (0: not measured, e.g.
    # nothing was read), and start-up, from pipeline.run() to the first record read. The rate is over
    # processing only (``pipeline_times``).
    processing_seconds: float = 0.0
    startup_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # e.g. temporary files left behind
    # SIEM sinks: name -> {"events": n, "delivered": n, "deadletters": {code: n}}. Sink dead letters are
    # events that are also in cold storage, so they stay out of the invariant above; each sink has its
    # own: every event written reached it, and each one was delivered or dead-lettered.
    sinks: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped_inputs: dict[str, int] = field(default_factory=dict)  # why -> files (not records: not read)
    cleaned: list[str] = field(default_factory=list)  # what the run removed of interrupted runs' leftovers
    interrupted: str = ""  # the signal that stopped the run, if one did
    # Exit status 0 only when dead letters / records read stays at or under this (None: not checked).
    max_deadletter_ratio: float | None = None

    @property
    def written_total(self) -> int:
        return sum(sum(by_outcome.values()) for by_outcome in self.events_written.values())

    @property
    def deadletters_total(self) -> int:
        return sum(sum(by_code.values()) for by_code in self.deadletters.values())

    @property
    def non_events_total(self) -> int:
        return sum(self.non_events.values())

    @property
    def accounted(self) -> int:
        return (
            self.written_total + self.deadletters_total + self.duplicates_dropped + self.already_stored
            + self.non_events_total
        )

    @property
    def invariant_holds(self) -> bool:
        return self.records_read == self.accounted

    @property
    def ok(self) -> bool:
        return (
            self.invariant_holds and self.sinks_hold and not self.problems and not self.interrupted
            and self.deadletter_ratio_ok and not self.sinks_down
        )

    @property
    def deadletter_ratio(self) -> float:
        """Dead letters per record read: of the run, or of the worst sink (per event it was given)."""
        ratios = [self.deadletters_total / self.records_read if self.records_read else 0.0]
        for s in self.sinks.values():
            if s.get("events"):
                ratios.append(sum(s.get("deadletters", {}).values()) / int(s["events"]))
        return max(ratios)

    @property
    def deadletter_ratio_ok(self) -> bool:
        return self.max_deadletter_ratio is None or self.deadletter_ratio <= self.max_deadletter_ratio

    @property
    def sinks_down(self) -> list[str]:
        """Sinks whose circuit breaker opened (they dead-lettered events as ``sink_unavailable``)."""
        return sorted(n for n, s in self.sinks.items() if s.get("deadletters", {}).get("sink_unavailable"))

    def sink_text(self, name: str) -> str:
        s = self.sinks.get(name, {})
        events, delivered = int(s.get("events", 0)), int(s.get("delivered", 0))
        dead = sum(s.get("deadletters", {}).values())
        holds = events == delivered + dead and events == self.written_total
        verdict = "holds" if holds else f"VIOLATED ({self.written_total} written)"
        return f"events {events} = delivered {delivered} + dead letters {dead}: {verdict}"

    @property
    def sinks_hold(self) -> bool:
        return all(self.sink_text(name).endswith("holds") for name in self.sinks)

    def invariant_text(self) -> str:
        sign = "=" if self.invariant_holds else "!="
        verdict = "holds" if self.invariant_holds else f"VIOLATED: {self.records_read - self.accounted:+d} unaccounted"
        return (
            f"read {self.records_read} {sign} written {self.written_total} + dead letters "
            f"{self.deadletters_total} + duplicates {self.duplicates_dropped} + "
            + (f"already stored {self.already_stored} + " if self.already_stored else "")
            + f"non-events {self.non_events_total}: {verdict}"
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["events_written_total"] = self.written_total
        d["deadletters_total"] = self.deadletters_total
        d["non_events_total"] = self.non_events_total
        d["events_per_second"] = self.events_per_second
        d["invariant"] = {"holds": self.invariant_holds, "text": self.invariant_text()}
        d["sinks_invariant"] = {
            "holds": self.sinks_hold, "text": {name: self.sink_text(name) for name in sorted(self.sinks)}
        }
        d["deadletter_ratio"] = round(self.deadletter_ratio, 6)
        d["ok"] = self.ok
        return _redacted(d)

    @property
    def events_per_second(self) -> float:
        """Records read per second of processing (0 when processing time was not measured)."""
        return round(self.records_read / self.processing_seconds, 1) if self.processing_seconds > 0 else 0.0

    def timing_text(self) -> str:
        if self.processing_seconds <= 0:
            return f"pipeline time {self.elapsed_seconds:.1f}s (start-up included; no processing time measured)"
        return (
            f"{self.events_per_second:,.0f} records/s over {self.processing_seconds:.1f}s of processing "
            f"(first read to last write), after {self.startup_seconds:.1f}s of start-up"
        )


def pipeline_times(
    started: float,
    ended: float,
    first_read: float | None,
    last_write: float | None,
    begun: float | None = None,
) -> dict[str, float]:
    """Summary fields from wall-clock times (seconds since the epoch): the pipeline's start and end, the
    first record read and last write finished as the stages measured them (None: not measured), and when
    the command began (checks, listing inputs, reference data, the graph: start-up, with the runner's)."""
    times = {"elapsed_seconds": round(max(ended - started, 0.0), 3)}
    if first_read is not None and last_write is not None and last_write >= first_read:
        # Worker clocks may run a little ahead of or behind this process's: keep both parts within the run.
        first = min(max(first_read, started), ended)
        last = min(max(last_write, first), ended)
        times["processing_seconds"] = round(last - first, 3)
        times["startup_seconds"] = round(first - min(begun if begun is not None else started, started), 3)
    return times


def from_counters(counters: Mapping[str, int], **info: Any) -> Summary:
    """A summary from counter name -> value (summed over steps); ``info`` fills the descriptive fields."""
    s = Summary(**info)
    s.files_read = int(counters.get(FILES_READ, 0))
    s.bytes_read = int(counters.get(BYTES_READ, 0))
    s.records_read = int(counters.get(RECORDS_READ, 0))
    s.events_normalized = int(counters.get(EVENTS_NORMALIZED, 0))
    s.duplicates_dropped = int(counters.get(DUPLICATES, 0))
    s.already_stored = int(counters.get(ALREADY_STORED, 0))
    s.parquet_files = int(counters.get(PARQUET_FILES, 0))
    s.raw_files = int(counters.get(RAW_FILES, 0))
    for name, value in sorted(counters.items()):
        head, _, rest = name.partition("/")
        if not rest or not value:
            continue
        if head == WRITTEN:
            provider, _, outcome = rest.partition("/")
            s.events_written.setdefault(provider, {})[outcome] = int(value)
        elif head == DEADLETTERS:
            stage, _, code = rest.partition("/")
            s.deadletters.setdefault(stage, {})[code] = int(value)
        elif head == SINKS:
            sink_name, _, what = rest.partition("/")
            entry = s.sinks.setdefault(sink_name, {"events": 0, "delivered": 0, "deadletters": {}})
            if what.startswith("deadletters/"):
                entry["deadletters"][what.partition("/")[2]] = int(value)
            elif what in ("events", "delivered"):
                entry[what] = int(value)
        elif head == SKIPPED:
            s.skipped_inputs[rest] = int(value)
        elif head == NON_EVENTS:
            s.non_events[rest] = int(value)
        elif head == ENRICH:
            enricher, _, outcome = rest.partition("/")
            s.enrichment.setdefault(enricher, {})[outcome] = int(value)
    return s


def sum_counters(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    """The same counter reported by several steps (dead letters come from reading and from sinks)."""
    total: Counter[str] = Counter()
    for name, value in pairs:
        total[name] += value
    return dict(total)


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def format_summary(s: Summary) -> str:
    lines = [
        # The rate is over processing only: from the first record read to the end of the last write, as the
        # stages measured it; the runner's start-up (and listing inputs, loading reference data, building
        # the graph before it) is not in it.
        f"run {s.run_id} on {s.runner}: {s.files_read} files ({_mib(s.bytes_read)}); {s.timing_text()}",
        f"  records read        {s.records_read}",
        f"  events written      {s.written_total}",
    ]
    for provider, by_outcome in sorted(s.events_written.items()):
        outcomes = ", ".join(f"{o} {n}" for o, n in sorted(by_outcome.items()))
        lines.append(f"    {provider:<37} {sum(by_outcome.values()):>9}   ({outcomes})")
    lines.append(f"  duplicates dropped  {s.duplicates_dropped}")
    if s.already_stored:
        lines.append(f"  already stored      {s.already_stored}   (written by an earlier run: not written again)")
    lines.append(f"  dead letters        {s.deadletters_total}")
    for stage, by_code in sorted(s.deadletters.items()):
        for code, n in sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"    {stage + '/' + code:<37} {n:>9}")
    lines.append(f"  non-events          {s.non_events_total}")
    for kind, n in sorted(s.non_events.items()):
        lines.append(f"    {kind:<37} {n:>9}")
    if s.enrichment:
        parts = (f"{name} " + ", ".join(f"{o} {n}" for o, n in sorted(by.items()))
                 for name, by in sorted(s.enrichment.items()))
        lines.append("  enrichment          " + "; ".join(parts))
    lines.append(f"  files written       {s.parquet_files} parquet, {s.raw_files} raw archive")
    lines.append(f"  output              {s.output}")
    lines.append(f"  invariant           {s.invariant_text()}")
    for name in sorted(s.sinks):
        lines.append(f"  sink {name:<14} {s.sink_text(name)}")
        for code, n in sorted(s.sinks[name]["deadletters"].items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"    {'sink/' + code:<37} {n:>9}")
    if s.skipped_inputs:
        lines.append("  inputs skipped      " + ", ".join(f"{why} {n}" for why, n in sorted(s.skipped_inputs.items())))
    if s.cleaned:
        lines.append(f"  cleaned up          {len(s.cleaned)} leftovers of interrupted runs")
        lines.extend(f"    {c}" for c in s.cleaned[:20])
        if len(s.cleaned) > 20:
            lines.append(f"    ... and {len(s.cleaned) - 20} more (see the summary file)")
    if s.max_deadletter_ratio is not None and not s.deadletter_ratio_ok:
        lines.append(f"  PROBLEM             dead-letter share {s.deadletter_ratio:.2%} is over "
                     f"--max-deadletter-ratio {s.max_deadletter_ratio:.2%}")
    for name in s.sinks_down:
        lines.append(f"  PROBLEM             sink {name} was down: its remaining events are dead letters "
                     "(sink_unavailable); 'cloudaudit replay' delivers them later")
    if s.interrupted:
        lines.append(f"  PROBLEM             interrupted by {s.interrupted}: nothing of this run was committed")
    lines.extend(f"  PROBLEM             {p}" for p in s.problems)
    return redact("\n".join(lines))


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def write_run_summary(root: str, run_id: str, summary: Summary) -> None:
    """The summary twice: ``OUTPUT/_summary.json`` (the last run's) and, kept for good, beside the
    run's manifest as ``cold/_manifests/<run>.summary.json``."""
    import orjson

    from pipelines.manifest import MANIFEST_DIR, write_atomically

    blob = orjson.dumps(summary.to_dict(), option=orjson.OPT_INDENT_2) + b"\n"
    write_atomically(_join(root, *MANIFEST_DIR, f"{run_id}.summary.json"), blob)
    write_atomically(_join(root, "_summary.json"), blob)


def _join(root: str, *parts: str) -> str:
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.join(root, *parts)
