"""``cloudaudit replay``: send dead letters through the pipeline again, after a mapping fix or once a
SIEM is back.

```
DEADLETTERS... ─ ReplayDeadLetters ─┬─ segments ── DedupAndStore ─┬─ siem ──┬── WriteJsonLines(OUT/siem/)
                                    ├─ resend (sink letters) ─────┼─────────┘   (+ the --sink sinks)
                                    └─ deadletters ───────────────┴─ deadletters ── WriteJsonLines(OUT/deadletters/)
```

What each dead letter becomes depends on its stage (schemas/deadletter.py is the one format):

- ``read``/``parse``/``map``/``validate``/``enrich``: the payload is the original record's bytes; it goes
  through the normalizer again (with the connectors of this run, fixed or not) under its original
  location, and then the normal way: deduplication, cold storage, SIEM. A record letter without its
  payload is refused (it cannot be replayed). A ``read`` letter of a file that could not be opened
  (``unreadable_file``, empty payload) reads that file again, but only when its location lies under an
  input root the operator names with ``--reread-from PREFIX``: a letter is data anyone who can write
  the dead-letter folder can craft, and must not make replay read an arbitrary file. Otherwise it
  becomes a new dead letter ``replay/reread_refused`` that says so, and is counted.
- ``sink``: the payload is the event's canonical JSON line. ``parquet_rejected`` events never reached
  cold storage, so they go the normal way; any other sink letter means the event is in cold storage
  already and only a SIEM missed it, so it is validated as an ``Event`` and sent to the SIEM outputs only
  (the SIEM files and ``--sink`` sinks), never written to cold storage twice.
- A record that fails again becomes a new dead letter with ``attempts`` one higher than its letter's
  (and its original location); a dead-letter line that is not a dead letter becomes one of stage
  ``replay``, code ``invalid_deadletter``.

Event ids are deterministic (source format + native id), so a replayed record that now succeeds gets the
same id it would have had in the first run: idempotent sinks (Elasticsearch ``_id``, dedup by id) do not
duplicate it. The run summary counts each dead letter read as a record read; the invariant is the batch
pipeline's.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import apache_beam as beam
import orjson
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from pydantic import ValidationError

from connectors.errors import NonEvent
from pipelines import summary as names
from pipelines.layout import Layout, new_run_id
from pipelines.objectstores import share_s3_clients
from pipelines.read import DEADLETTERS, SEGMENTS, FileReader, Output, ReadFilesFn, ReadStage
from pipelines.settings import Settings
from pipelines.store import DedupAndStore
from pipelines.summary import Summary
from schemas.deadletter import DeadLetter
from schemas.event import Event

RESEND = "resend"
REPLAY_STAGE = "replay"
# Stages whose payload is an original record, to normalize again.
RECORD_STAGES = frozenset({"read", "parse", "map", "validate", "enrich"})
# Sink letters whose event never reached cold storage.
COLD_STORAGE_CODES = frozenset({"parquet_rejected"})
_INDEX = re.compile(r"#\d+$")


def under_roots(path: str, roots: Sequence[str]) -> bool:
    """Whether ``path`` lies under one of ``roots``: local paths compared once resolved (symlinks and
    ``..`` followed), URIs by prefix with no ``..`` segment."""
    for root in roots:
        if "://" in root or "://" in path:
            base = root if root.endswith("/") else root + "/"
            if path.startswith(base) and "/../" not in path[len(base) - 1:] and not path.endswith("/.."):
                return True
            continue
        real_root = os.path.realpath(root)
        real = os.path.realpath(path)
        if real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep):
            return True
    return False


class ReplayReader(FileReader):
    """Reads dead-letter files (JSON lines, plain or gzip) and replays each letter; Beam-free."""

    reread_from: tuple[str, ...] = ()  # input roots a read letter may be re-read from (--reread-from)

    def reset(self) -> None:
        super().reset()
        self._resend: list[bytes] = []
        self._resend_bytes = 0
        self._attempts = 1  # the attempts of the letter being replayed, for the letters it makes

    def read(self, path: str, size: int = 0) -> Iterator[Output]:
        self.counts[names.FILES_READ] += 1
        self.counts[names.BYTES_READ] += size
        try:
            f = FileSystems.open(path, compression_type=CompressionTypes.AUTO)
        except Exception as exc:
            reason = f"cannot open dead-letter file: {type(exc).__name__}: {exc}".splitlines()[0]
            yield from self.add(DeadLetter(REPLAY_STAGE, "unreadable_file", reason, b"", path))
            return
        with f:
            for i, line in enumerate(f):
                line = line.strip()
                if not line:
                    continue
                try:
                    letter = DeadLetter.from_dict(orjson.loads(line))
                except (orjson.JSONDecodeError, ValueError, KeyError, TypeError) as exc:
                    reason = f"not a dead letter: {type(exc).__name__}: {exc}".splitlines()[0][:500]
                    yield from self.add(DeadLetter(REPLAY_STAGE, "invalid_deadletter", reason, line, f"{path}#{i}"))
                    continue
                yield from self.replay(letter)

    def replay(self, letter: DeadLetter) -> Iterator[Output]:
        """One dead letter again: see the module's docstring for what each stage becomes."""
        self._attempts = letter.attempts + 1
        try:
            if letter.stage == "sink":
                yield from self._replay_event(letter)
            elif letter.stage == "read" and not letter.payload and letter.code == "unreadable_file":
                yield from self._reread(letter)
            elif letter.stage in RECORD_STAGES and letter.payload:
                yield from self._renormalize(letter)
            else:
                why = "it holds no record bytes" if not letter.payload else f"stage {letter.stage!r} is unknown"
                yield from self.add(_again(letter, f"cannot be replayed: {why}; was: {letter.reason}"))
        finally:
            self._attempts = 1

    def _renormalize(self, letter: DeadLetter) -> Iterator[Output]:
        results = list(self.normalizer.blob(letter.payload, letter.location))
        for result in results:
            if len(results) == 1:  # one record, as it was: keep its original location, not 'loc#0'
                result = _set_location(result, letter.location)
            yield from self.add(result)

    def _reread(self, letter: DeadLetter) -> Iterator[Output]:
        path = _INDEX.sub("", letter.location)
        if not under_roots(path, self.reread_from):
            roots = ", ".join(self.reread_from) or "none given"
            reason = (f"not re-read: {path!r} is not under an input root named with --reread-from "
                      f"({roots}); give the root it was read from to re-read it")
            yield from self.add(DeadLetter(REPLAY_STAGE, "reread_refused", reason, b"", letter.location))
            return
        try:
            size = FileSystems.match([path])[0].metadata_list[0].size_in_bytes
        except Exception:
            size = 0
        yield from super().read(path, size)

    def _replay_event(self, letter: DeadLetter) -> Iterator[Output]:
        try:
            event = Event.model_validate_json(letter.payload)
        except ValidationError as exc:
            reason = f"the payload is not a valid event: {exc.errors()[0]['msg'] if exc.errors() else exc}"
            yield from self.add(_again(letter, reason[:1000], code="invalid_event"))
            return
        if letter.code in COLD_STORAGE_CODES:
            yield from self.add(event.model_dump())  # counted as a record read, then deduplicated and stored
            return
        self.counts[names.RECORDS_READ] += 1
        self.counts[names.EVENTS_NORMALIZED] += 1
        self.counts[names.written_counter(str(event.where.provider), str(event.what.outcome))] += 1
        line = letter.payload.strip()
        self._resend.append(line)
        self._resend_bytes += len(line)
        if len(self._resend) >= self.settings.batch_size or self._resend_bytes >= (16 << 20):
            yield from self.flush_resend()

    def add(self, result: Any) -> Iterator[Output]:
        if isinstance(result, DeadLetter) and self._attempts > 1:
            result.attempts = self._attempts
        yield from super().add(result)

    def flush(self) -> Iterator[Output]:
        yield from super().flush()
        yield from self.flush_resend()

    def flush_resend(self) -> Iterator[Output]:
        if self._resend:
            blob = b"\n".join(self._resend)
            self._resend = []
            self._resend_bytes = 0
            yield RESEND, blob


def _again(letter: DeadLetter, reason: str, code: str | None = None) -> DeadLetter:
    return DeadLetter(
        letter.stage if code is None else REPLAY_STAGE, code or letter.code, reason, letter.payload, letter.location
    )


def _set_location(result: Any, location: str) -> Any:
    """The result under the replayed letter's own location (NonEvent is frozen: a new one); an event is a
    canonical document (the reader's normalizer yields documents)."""
    if type(result) is dict:
        result["source"]["location"] = location
    elif isinstance(result, DeadLetter):
        result.location = location
    elif isinstance(result, NonEvent):
        return NonEvent(result.kind, location)
    return result


class ReplayFn(ReadFilesFn):
    """Dead-letter files -> segments (main), dead letters and resend batches (tagged)."""

    reader_class = ReplayReader

    def __init__(self, settings: Settings, spill_dir: str, reread_from: Sequence[str] = ()) -> None:
        super().__init__(settings, spill_dir)
        self._reread_from = tuple(reread_from)

    def setup(self) -> None:
        super().setup()
        share_s3_clients()
        self._reader.reread_from = self._reread_from  # type: ignore[attr-defined]


class ReplayDeadLetters(ReadStage):
    """Dead-letter file patterns -> ``segments``, ``deadletters`` and ``resend`` (canonical JSON lines of
    events that only a SIEM sink missed). The enrichment side input is the batch pipeline's."""

    RESEND = RESEND

    def __init__(self, settings: Settings, spill_dir: str, enrichment: Any = None, reread_from: Sequence[str] = ()) -> None:
        super().__init__(settings, spill_dir, enrichment)
        self._reread_from = tuple(reread_from)

    def expand(self, patterns: beam.PCollection[str]) -> beam.pvalue.DoOutputsTuple:
        side = self.enrichment_kwargs()
        return (
            patterns
            | "Match" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW_IF_WILDCARD)
            | "SpreadFiles" >> beam.Reshuffle()
            | "Replay"
            >> beam.ParDo(ReplayFn(self._settings, self._spill_dir, self._reread_from), **side).with_outputs(
                DEADLETTERS, RESEND, main=SEGMENTS
            )
        )


def build(
    pipeline: beam.Pipeline,
    patterns: Sequence[str],
    layout: Layout,
    settings: Settings,
    sinks: Sequence[Any] = (),
    enrichment: Any = None,
    reread_from: Sequence[str] = (),
) -> None:
    """The replay pipeline: the batch pipeline's store, SIEM and dead-letter stages after a replay read
    (with the same enrichment: replayed events get the context a first run would have given them)."""
    from enrichers.beam import side_input
    from pipelines.batch import WriteJsonLines
    from pipelines.manifest import add_manifest

    reference = side_input(pipeline, enrichment)
    read = pipeline | "DeadLetterFiles" >> beam.Create(list(patterns)) | "ReplayDeadLetters" >> ReplayDeadLetters(
        settings, layout.spill_dir, reference, reread_from
    )
    stored = read[SEGMENTS] | "DedupAndStore" >> DedupAndStore(layout, settings)
    siem = (stored[DedupAndStore.SIEM], read[RESEND]) | "AllSiem" >> beam.Flatten()
    dead = [read[DEADLETTERS], stored[DedupAndStore.DEADLETTERS]]
    if sinks:
        from pipelines.sinks import WriteToSinks  # engineer F's sinks

        dead.append(siem | "WriteToSinks" >> WriteToSinks(list(sinks)))
    deadletters = tuple(dead) | "AllDeadLetters" >> beam.Flatten()
    siem_files = siem | "WriteSiem" >> WriteJsonLines(layout.siem_prefix)
    dead_files = deadletters | "WriteDeadLetters" >> WriteJsonLines(layout.deadletters_prefix)
    add_manifest(layout.root, layout.run_id, stored[DedupAndStore.MANIFEST], siem_files, dead_files)


def run(
    deadletter_files: Sequence[str],
    output: str,
    settings: Settings | None = None,
    beam_args: Sequence[str] = (),
    sinks: Sequence[Any] = (),
    progress: Callable[[str], None] = lambda _msg: None,
    enrichment_config: Any = None,
    reread_from: Sequence[str] = (),
) -> Summary:
    """Check the inputs and output, replay, and return the checked summary (as ``batch.run`` does).
    ``enrichment_config`` is an ``enrichers.config.EnrichmentConfig`` (None: the bundled catalog only)."""
    begun = time.time()  # start-up, in the summary, is from here to the first record read
    from enrichers.beam import prepare
    from pipelines.batch import execute
    from pipelines.options import (
        check_output,
        expand_input,
        match_inputs,
        pipeline_options,
        runner_text,
        use_filesystems,
    )

    settings = settings or Settings()
    options = pipeline_options(list(beam_args))
    use_filesystems(options)
    patterns = [expand_input(p) for p in deadletter_files]
    matched = match_inputs(patterns)
    files = sum(len(m) for m in matched)
    check_output(output)
    if sinks:
        from pipelines.sinks import check_sinks

        sinks = check_sinks(list(sinks))
    enrichment = prepare(enrichment_config)  # a broken reference file stops the replay here
    layout = Layout(output, new_run_id())
    runner = runner_text(options)
    progress(f"replaying {files} dead-letter files; run {layout.run_id} on {runner}")
    pipeline = beam.Pipeline(options=options)
    build(pipeline, patterns, layout, settings, sinks, enrichment, reread_from)
    from pipelines.interrupt import guarded

    execute_run = lambda: execute(pipeline, layout, runner, list(deadletter_files), output, files, begun)  # noqa: E731
    return guarded(output, layout.run_id, execute_run, inputs=list(deadletter_files))


# --- command line -------------------------------------------------------------------------------

def _cmd_replay(args: argparse.Namespace, extra: list[str]) -> int:
    import logging
    import traceback

    from enrichers.cli import enrichment_config
    from pipelines.errors import UsageError, last_line
    from pipelines.summary import format_summary

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    if args.dedup_shards < 1 or args.batch_size < 1:
        raise UsageError("--dedup-shards and --batch-size must be at least 1")
    sinks: list[Any] = list(args.sink)  # SinkConfig values, parsed by argparse
    settings = Settings(keep_raw=not args.no_raw, batch_size=args.batch_size, dedup_shards=args.dedup_shards)
    try:
        summary = run(
            args.deadletters, args.output, settings, extra, sinks,
            progress=lambda msg: print(f"cloudaudit: {msg}", file=sys.stderr, flush=True),
            enrichment_config=enrichment_config(args),
            reread_from=args.reread_from,
        )
    except UsageError:
        raise
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"cloudaudit: error: the replay failed: {last_line(exc)}", file=sys.stderr)
        return 1
    print(format_summary(summary), flush=True)
    return 0 if summary.ok else 1
