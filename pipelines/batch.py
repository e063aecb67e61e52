"""The batch pipeline: files -> normalize -> deduplicate -> SIEM lines, Parquet, raw archive, dead letters.

```
patterns ─ ReadFiles ─┬─ segments ── DedupAndStore ─┬─ siem ─ [Detect] ─┬─ WriteJsonLines(OUT/siem/)
sources ── ReadBlobs ─┤   (writes OUT/cold/events,  │                    └─ Sinks ─┐
                      │    OUT/cold/raw)            │                              │
                      └─ deadletters ───────────────┴─ deadletters ────────────────┴─ DeadLetters(OUT/deadletters/)
```

The stages are shared with streaming (``pipelines.stages``). On Beam's local runners the read and store
stages keep event batches in spill files (``pipelines.spill``) and shuffle only pointers to them; on
distributed runners (Dataflow) the event batches go through the runner's own shuffle
(``pipelines.stages.shuffle``).

Every element on the hot path is a batch (spill pointers, or one bytes value holding many JSON lines):
Beam's per-element cost on the local runner is far above the per-event work.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Callable, Sequence

import apache_beam as beam
import orjson
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import StandardOptions

from connectors.sources import SourceSpec
from enrichers.beam import prepare as prepare_enrichment
from enrichers.beam import side_input as enrichment_side_input
from enrichers.context import ReferenceData
from pipelines.errors import Submitted, UsageError, detached, job_text
from pipelines.interrupt import guarded
from pipelines.layout import Layout, new_run_id
from pipelines.manifest import add_manifest, leftover_remote_temp
from pipelines.metrics import query_clocks, query_counters
from pipelines.options import (
    check_output,
    expand_input,
    match_inputs,
    parallelize_locally,
    pipeline_options,
    runner_text,
    use_filesystems,
    worker_environment,
)
from pipelines.read import ReadFiles
from pipelines.settings import RunConfig, Settings
from pipelines.sinks import SinkConfig, WriteToSinks, check_sinks
from pipelines.sources import ReadBatchSources, ReadBlobs, check_sources, describe, flatten_outputs
from pipelines.stages.cold import DedupAndStore
from pipelines.stages.deadletters import DeadLetters, WriteJsonLines
from pipelines.stages.lone_start import ResolveLoneStarts
from pipelines.stages.shuffle import ShuffleDedupAndStore, ShuffleReadBlobs, ShuffleReadFiles, shuffles_events
from pipelines.summary import Summary, from_counters, pipeline_times


def build(
    pipeline: beam.Pipeline,
    patterns: Sequence[str],
    layout: Layout,
    settings: Settings,
    sources: Sequence[SourceSpec] = (),
    sinks: Sequence[SinkConfig] = (),
    enrichment: ReferenceData | None = None,
    security_lake: str | None = None,
    security_lake_prefix: str = "cloudaudit",
    rules: str | None = None,
    shuffle: bool = False,
) -> None:
    """The batch graph: read + normalize + enrich -> dedup + cold storage -> SIEM files and sinks, and
    [detect] -> alerts -> dead letters. ``rules`` (None: no detection; "": the bundled pack) runs
    ``detections.beam.Detect`` on the SIEM JSON-lines batches of new events; its alerts go to files, the
    sinks and the ``signals`` table. ``shuffle``: event batches go through the runner's GroupByKey
    (distributed runners, ``pipelines.stages.shuffle``) instead of spill files (local runners)."""
    read_files, read_blobs, store = (
        (ShuffleReadFiles, ShuffleReadBlobs, ShuffleDedupAndStore) if shuffle else (ReadFiles, ReadBlobs, DedupAndStore)
    )
    spill_dir = "" if shuffle else layout.spill_dir
    settings = dataclasses.replace(settings, lone_starts=True)  # Azure Start rows wait for the run's end
    # Files, sources or both: each gives segments and dead letters, flattened into one store stage.
    segments, read_dead, held = [], [], []
    reference = enrichment_side_input(pipeline, enrichment)  # enrichment data: one side input
    if patterns:
        read = (
            pipeline
            | "Inputs" >> beam.Create(list(patterns))
            | "ReadFiles" >> read_files(settings, spill_dir, reference)
        )
        segments.append(read[ReadFiles.SEGMENTS])
        read_dead.append(read[ReadFiles.DEADLETTERS])
        held.append(read[ReadFiles.STARTS])
    if sources:
        blobs = pipeline | "Sources" >> ReadBatchSources(sources)
        from_sources = blobs | "ReadBlobs" >> read_blobs(settings, spill_dir, reference)
        segments.append(from_sources[ReadBlobs.SEGMENTS])
        read_dead.append(from_sources[ReadBlobs.DEADLETTERS])
        held.append(from_sources[ReadBlobs.STARTS])
    # Lone Azure Start rows (pipelines/stages/lone_start.py): events once every file is read.
    segments.append(flatten_outputs(held, "AllStarts") | "LoneStarts" >> ResolveLoneStarts(settings, spill_dir, reference))
    stored = flatten_outputs(segments, "AllSegments") | "DedupAndStore" >> store(layout, settings)
    siem = stored[DedupAndStore.SIEM]
    # SIEM sinks take the same batches as the SIEM files; their dead letters join the others.
    sink_dead = [siem | "Sinks" >> WriteToSinks(sinks)] if sinks else []
    if rules is not None:  # detection (detections/beam.py): "" = the bundled rule pack
        from detections.beam import Detect, WriteAlerts

        alerts = siem | "Detect" >> Detect(rules or None)
        sink_dead.append(alerts | "WriteAlerts" >> WriteAlerts(layout.root, layout.run_id, sinks))
    siem_files = siem | "WriteSiem" >> WriteJsonLines(layout.siem_prefix)
    if security_lake:  # the OCSF copy for Security Lake (pipelines/securitylake.py)
        from pipelines.securitylake import WriteSecurityLake

        _ = siem | "SecurityLake" >> WriteSecurityLake(security_lake, security_lake_prefix)
    dead_files = (*read_dead, stored[DedupAndStore.DEADLETTERS], *sink_dead) | "DeadLetters" >> DeadLetters(layout)
    add_manifest(layout.root, layout.run_id, stored[DedupAndStore.MANIFEST], siem_files, dead_files)


Progress = Callable[[str], None]
TEMP_PREFIXES = ("beam-temp", ".temp", "_tmp-")


def run(config: RunConfig, progress: Progress = lambda _msg: None) -> Summary:
    """Check inputs and output, run the pipeline to the end, and return the checked summary.

    Raises ``options.UsageError`` for argument and input problems before anything runs.
    """
    begun = time.time()  # start-up, in the summary, is from here to the first record read
    options = pipeline_options(config.beam_args)
    use_filesystems(options)
    if config.streaming:
        raise UsageError("the batch pipeline does not stream: use pipelines.streaming.run")
    check_sources(config.sources, streaming=False)
    config.sinks = check_sinks(config.sinks)  # unique names; bad options or no credentials: usage errors
    if not config.inputs and not config.sources:
        raise UsageError("nothing to read: give --input or --source")
    patterns = [expand_input(p) for p in config.inputs]
    matched = match_inputs(patterns) if patterns else []
    files = sum(len(m) for m in matched)
    size = sum(f.size_in_bytes for m in matched for f in m)
    check_output(config.output)
    enrichment = prepare_enrichment(config.enrichment)  # a broken reference file stops the run here
    if config.rules is not None:  # a rule pack with problems stops the run here
        from detections.cli import load_rules_or_fail

        load_rules_or_fail(config.rules or None)
    parallelize_locally(options, config.beam_args, files, size)
    worker_environment(options)
    layout = Layout(config.output, new_run_id())
    runner = runner_text(options)
    progress(f"{reading_text(files, size, len(patterns), config.sources)}; run {layout.run_id} on {runner}")

    pipeline = beam.Pipeline(options=options)
    shuffle = config.shuffle if config.shuffle is not None else shuffles_events(options.view_as(StandardOptions).runner)
    build(pipeline, patterns, layout, config.settings, config.sources, config.sinks, enrichment,
          config.security_lake, config.security_lake_prefix, config.rules, shuffle=shuffle)
    inputs = list(config.inputs) + [describe(s) for s in config.sources]
    # Lock, cleanup of leftovers, 0600 files, SIGTERM/SIGINT, per-run summary (pipelines/interrupt.py).
    execute_run = lambda: execute(pipeline, layout, runner, inputs, config.output, files, begun)  # noqa: E731
    return guarded(config.output, layout.run_id, execute_run, config, inputs, files, size)


def reading_text(files: int, size: int, inputs: int, sources: Sequence[SourceSpec]) -> str:
    """What the run will read: the files its inputs matched, and each source with its time range (a
    source lists its objects as it runs; the summary counts them)."""
    parts = [f"matched {files} files ({size / (1 << 20):.1f} MiB) from {inputs} inputs"] if inputs else []
    for spec in sources:
        when = (
            f" from {spec.start.isoformat(timespec='seconds')} to {spec.end.isoformat(timespec='seconds')}"
            if spec.start is not None and spec.end is not None else ""
        )
        parts.append(f"reading source {describe(spec)}{when}")
    return " and ".join(parts)


def execute(
    pipeline: beam.Pipeline,
    layout: Layout,
    runner: str,
    inputs: list[str],
    output: str,
    files: int,
    begun: float | None = None,
) -> Summary:
    """Run a built batch pipeline to the end, remove its spill folder, and write and return the checked
    summary (the run command's and the replay command's common ending). ``begun``: when the command began
    (wall clock), the start of the summary's start-up time; by default, when the pipeline starts."""
    started = time.time()
    gone = False  # the job runs on elsewhere (Flex Template launch, --no_wait_until_finish)
    try:
        result = pipeline.run()
        gone = detached(pipeline.options, result)
        if not gone:
            result.wait_until_finish()
    finally:
        if not gone:  # a job that runs on still reads its spill files
            _remove(layout.spill_dir)
    if gone:
        raise Submitted(job_text(result))
    ended = time.time()

    summary = from_counters(
        query_counters(result),
        run_id=layout.run_id,
        runner=runner,
        inputs=inputs,
        output=output,
        files_matched=files,
        # Processing (first record read to the manifest, the last write) and start-up, for the rate.
        **pipeline_times(started, ended, *query_clocks(result), begun=begun),
    )
    summary.problems.extend(leftover_temp_files(layout))
    write_summary(layout, summary)
    return summary


def write_summary(layout: Layout, summary: Summary) -> None:
    with FileSystems.create(layout.summary_path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        f.write(orjson.dumps(summary.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")


def leftover_temp_files(layout: Layout) -> list[str]:
    """Beam's file sinks finish by renaming temporary files into place; where that does not happen (on
    the local filesystem, a missing folder is enough) they stay behind while the job reports success.
    Look for this run's temporary folders beside its outputs, and say so."""
    if "://" in layout.root:
        folders = (os.path.dirname(layout.siem_prefix), os.path.dirname(layout.deadletters_prefix), layout.root)
        return leftover_remote_temp(folders, layout.run_id, TEMP_PREFIXES)
    found = []
    for folder in (os.path.dirname(layout.siem_prefix), os.path.dirname(layout.deadletters_prefix), layout.root):
        if not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            if entry.is_dir() and layout.run_id in entry.name and entry.name.startswith(TEMP_PREFIXES):
                n = sum(len(files) for _, _, files in os.walk(entry.path))
                found.append(f"temporary folder left behind: {entry.path} ({n} files)")
    return found


def _remove(folder: str) -> None:
    """Delete the run's spill folder: a local tree, or every object under a URI prefix."""
    try:
        if "://" not in folder:
            shutil.rmtree(folder, ignore_errors=True)
            return
        (match,) = FileSystems.match([FileSystems.join(folder, "**")])
        if match.metadata_list:
            FileSystems.delete([m.path for m in match.metadata_list])
    except Exception:  # leftovers are reported by leftover_temp_files, never fatal here
        pass
