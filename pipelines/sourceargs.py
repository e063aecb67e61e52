"""The ``--source`` and streaming options of ``cloudaudit run``: parsing, checking and the help text.

Kept apart from ``pipelines.sources`` (the Beam composites) so that building the command line does not
import Beam: ``cloudaudit normalize`` and ``--help`` start in a tenth of a second.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from connectors.sources import SourceError, SourceKind, SourceSpec, resolve, source_kinds
from pipelines.errors import UsageError
from pipelines.settings import (
    DEFAULT_ALLOWED_LATENESS_SECONDS,
    DEFAULT_DEDUP_TTL_SECONDS,
    DEFAULT_WINDOW_SECONDS,
)

_RELATIVE = re.compile(r"^-(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


# --- command line -------------------------------------------------------------------------------


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """``--start``/``--end``: ISO 8601 (``2024-05-01``, ``2024-05-01T13:00:00Z``, with an offset; a time
    without zone is UTC), ``now``, or relative to now (``-24h``, ``-30m``, ``-7d``, ``-90s``, ``-2w``)."""
    value = text.strip()
    now = now or datetime.now(UTC)
    if value.lower() == "now":
        return now
    m = _RELATIVE.match(value.lower())
    if m:
        return now - timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    try:
        t = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"time {text!r} is not ISO 8601 (2024-05-01T13:00:00Z) nor relative (-24h, -30m, -7d) nor 'now'"
        ) from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _seconds(text: str) -> float:
    try:
        n = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text}")
    return n


def _whole_seconds(text: str) -> int:
    n = _seconds(text)
    if n != int(n):
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds: {text}")
    return int(n)


def add_source_arguments(run: argparse.ArgumentParser) -> None:
    """The source and streaming options of ``cloudaudit run``, and the list of source kinds in its help."""
    group = run.add_argument_group("sources (read the clouds where the logs live)")
    group.add_argument(
        "--source",
        "-s",
        action="append",
        default=[],
        metavar="KIND:TARGET[?k=v&...]",
        help="a cloud source to read (kinds below); repeat for more; may be combined with --input",
    )
    group.add_argument(
        "--start",
        metavar="WHEN",
        help="batch sources: start of the time range: ISO 8601 (2024-05-01T00:00:00Z) or "
        "relative to now (-24h, -30m, -7d)",
    )
    group.add_argument(
        "--end", metavar="WHEN", help="batch sources: end of the time range, exclusive (default: now)"
    )
    stream = run.add_argument_group("streaming (stream sources: sqs, pubsub, eventhub, ...)")
    stream.add_argument(
        "--streaming",
        action="store_true",
        help="run the streaming pipeline on stream sources (runs until interrupted or --idle-stop)",
    )
    stream.add_argument(
        "--idle-stop",
        type=_seconds,
        metavar="SECONDS",
        help="streaming: stop (flushing every window) after SECONDS without any delivery",
    )
    stream.add_argument(
        "--window",
        type=_whole_seconds,
        default=DEFAULT_WINDOW_SECONDS,
        metavar="SECONDS",
        help=f"streaming: event-time window of the writes (default: {DEFAULT_WINDOW_SECONDS}; "
        "must divide an hour)",
    )
    stream.add_argument(
        "--allowed-lateness",
        type=_whole_seconds,
        default=DEFAULT_ALLOWED_LATENESS_SECONDS,
        metavar="SECONDS",
        help="streaming: events up to this late still land, in a later pane; "
        f"later ones are dead letters too_late (default: {DEFAULT_ALLOWED_LATENESS_SECONDS})",
    )
    stream.add_argument(
        "--dedup-ttl",
        type=_whole_seconds,
        default=DEFAULT_DEDUP_TTL_SECONDS,
        metavar="SECONDS",
        help="streaming: how long (event time) event ids are remembered for deduplication "
        f"(default: {DEFAULT_DEDUP_TTL_SECONDS})",
    )
    run.epilog = (run.epilog or "") + "\n" + source_help()


def source_help(kinds: dict[str, SourceKind] | None = None) -> str:
    """Every registered source kind with its summary, parameters and an example, for ``--help``."""
    kinds = source_kinds() if kinds is None else kinds
    lines = ["source kinds (--source KIND:TARGET[?key=value&...]):"]
    for name, kind in sorted(kinds.items(), key=lambda kv: (kv[1].mode, kv[0])):
        when = (
            ""
            if kind.mode == "stream"
            else {"required": ", needs --start", "optional": ", --start/--end optional", "none": ""}.get(
                kind.time_range, ""
            )
        )
        lines.append(f"  {name} ({kind.mode}{when}): {kind.summary}")
        for key, what in kind.params.items():
            lines.append(f"      ?{key}=  {what}")
        flags = (
            " --streaming --idle-stop 60"
            if kind.mode == "stream"
            else (" --start=-24h" if kind.time_range != "none" else "")
        )
        lines.append(f"      e.g. cloudaudit run --source '{kind.example}'{flags} --output out")
    if len(lines) == 1:
        lines.append("  (none registered)")
    lines.append(
        "Credentials come only from each cloud's default chain (AWS: environment, profile, instance role; "
        "GCP: Application Default Credentials; Azure: DefaultAzureCredential). Batch kinds run without "
        "--streaming, stream kinds only with it."
    )
    return "\n".join(lines) + "\n"


def specs_from_args(
    sources: Sequence[str], start: str | None, end: str | None, streaming: bool, now: datetime | None = None
) -> list[SourceSpec]:
    """Parse and check ``--source`` values against the registered kinds; problems are ``UsageError``s."""
    now = now or datetime.now(UTC)
    t_start = parse_when(start, now) if start else None
    t_end = parse_when(end, now) if end else None
    if t_start is not None and t_end is not None and t_end <= t_start:
        raise UsageError(f"--end ({t_end.isoformat()}) is not after --start ({t_start.isoformat()})")
    if t_start is not None and t_end is None:
        t_end = now
    specs = []
    for text in sources:
        try:
            spec = SourceSpec.parse(text, t_start, t_end)
        except SourceError as exc:
            raise UsageError(str(exc)) from None
        specs.append(spec)
    check_sources(specs, streaming)
    return specs


def check_sources(specs: Sequence[SourceSpec], streaming: bool) -> list[SourceKind]:
    """Each spec names a known kind with known parameters, of the run's mode, with the time range its kind
    wants. Raises ``UsageError`` (one line)."""
    kinds = []
    for spec in specs:
        try:
            kind = resolve(spec)
        except SourceError as exc:
            raise UsageError(str(exc)) from None
        if kind.mode == "stream" and not streaming:
            raise UsageError(f"source {spec.kind!r} is a stream: run it with --streaming")
        if kind.mode == "batch" and streaming:
            raise UsageError(f"source {spec.kind!r} is a batch source: run it without --streaming")
        if kind.time_range == "required" and spec.start is None:
            raise UsageError(
                f"source {spec.kind!r} needs a time range: give --start (and --end, default now)"
            )
        if kind.time_range == "none" and spec.start is not None:
            raise UsageError(f"source {spec.kind!r} does not take --start/--end")
        kinds.append(kind)
    return kinds


def describe(spec: SourceSpec) -> str:
    """The spec as the user wrote it (it holds no secret: sources take none), for summaries and logs."""
    query = "&".join(f"{k}={v}" for k, v in spec.params.items())
    return f"{spec.kind}:{spec.target}" + (f"?{query}" if query else "")


def run_source_options(args: argparse.Namespace) -> dict[str, object]:
    """The ``RunConfig`` fields from parsed ``cloudaudit run`` arguments (usage errors raised here)."""
    if not args.input and not args.source:
        raise UsageError("nothing to read: give --input PATH_OR_GLOB or --source KIND:TARGET (see --help)")
    if args.streaming and args.input:
        raise UsageError("--input files are read in batch: run them without --streaming")
    if not args.streaming and args.idle_stop is not None:
        raise UsageError("--idle-stop is for --streaming runs")
    if args.window > 3600 or 3600 % args.window:
        raise UsageError(f"--window {args.window} must divide an hour (e.g. 60, 300, 900, 3600)")
    specs = specs_from_args(args.source, args.start, args.end, args.streaming)
    if (args.start or args.end) and not specs:
        raise UsageError("--start/--end are for --source: files given with --input are read whole")
    return {
        "sources": specs,
        "streaming": bool(args.streaming),
        "idle_stop_seconds": args.idle_stop,
        "window_seconds": args.window,
        "allowed_lateness_seconds": args.allowed_lateness,
        "dedup_ttl_seconds": args.dedup_ttl,
    }
