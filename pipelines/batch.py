"""The batch pipeline: files -> normalize -> deduplicate -> SIEM lines, Parquet, raw archive, dead letters.

```
patterns ─ ReadFiles ─┬─ segments ── DedupAndStore ─┬─ siem ─────── WriteJsonLines(OUT/siem/)
                      │                (writes OUT/cold/events, OUT/cold/raw)
                      └─ deadletters ─┬─────────────┴─ deadletters
                                      └─ Flatten ───── WriteJsonLines(OUT/deadletters/)
```

Every element on the hot path is a batch (spill pointers, or one bytes value holding many JSON lines):
Beam's per-element cost on the local runner is far above the per-event work.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Sequence

import apache_beam as beam
import orjson
from apache_beam import coders
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from connectors.sources import SourceSpec
from enrichers.beam import prepare as prepare_enrichment
from enrichers.beam import side_input as enrichment_side_input
from enrichers.context import ReferenceData
from pipelines.errors import UsageError
from pipelines.layout import Layout, new_run_id
from pipelines.manifest import add_manifest, leftover_remote_temp
from pipelines.metrics import query_counters
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
from pipelines.store import DedupAndStore
from pipelines.summary import Summary, from_counters


class WriteJsonLines(beam.PTransform):
    """Batches of JSON lines (bytes, lines joined by newlines) -> ``prefix-SSSSS-of-NNNNN.jsonl``."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self._prefix = prefix

    def expand(self, batches: beam.PCollection[bytes]) -> beam.PCollection[str]:
        # Beam 2.77 writes S3 objects by multipart upload and cannot write an empty one (S3 refuses a
        # CompleteMultipartUpload without parts), so on object stores an empty output writes no file.
        return batches | beam.io.WriteToText(
            self._prefix, file_name_suffix=".jsonl", coder=coders.BytesCoder(), skip_if_empty="://" in self._prefix
        )


def build(
    pipeline: beam.Pipeline,
    patterns: Sequence[str],
    layout: Layout,
    settings: Settings,
    sources: Sequence[SourceSpec] = (),
    sinks: Sequence[SinkConfig] = (),
    enrichment: ReferenceData | None = None,
    rules: str | None = None,
) -> None:
    # Files, sources or both: each gives segments and dead letters, flattened into one store stage.
    segments, read_dead = [], []
    reference = enrichment_side_input(pipeline, enrichment)  # enrichment data: one side input
    if patterns:
        read = (
            pipeline
            | "Inputs" >> beam.Create(list(patterns))
            | "ReadFiles" >> ReadFiles(settings, layout.spill_dir, reference)
        )
        segments.append(read[ReadFiles.SEGMENTS])
        read_dead.append(read[ReadFiles.DEADLETTERS])
    if sources:
        blobs = pipeline | "Sources" >> ReadBatchSources(sources)
        from_sources = blobs | "ReadBlobs" >> ReadBlobs(settings, layout.spill_dir, reference)
        segments.append(from_sources[ReadBlobs.SEGMENTS])
        read_dead.append(from_sources[ReadBlobs.DEADLETTERS])
    stored = flatten_outputs(segments, "AllSegments") | "DedupAndStore" >> DedupAndStore(layout, settings)
    # SIEM sinks take the same batches as the SIEM files; their dead letters join the others.
    sink_dead = [stored[DedupAndStore.SIEM] | "Sinks" >> WriteToSinks(sinks)] if sinks else []
    if rules is not None:  # detection (detections/beam.py): "" = the bundled rule pack
        from detections.beam import Detect, WriteAlerts

        alerts = stored[DedupAndStore.SIEM] | "Detect" >> Detect(rules or None)
        sink_dead.append(alerts | "WriteAlerts" >> WriteAlerts(layout.root, layout.run_id, sinks))
    deadletters = (
        (*read_dead, stored[DedupAndStore.DEADLETTERS], *sink_dead) | "AllDeadLetters" >> beam.Flatten()
    )
    siem_files = stored[DedupAndStore.SIEM] | "WriteSiem" >> WriteJsonLines(layout.siem_prefix)
    dead_files = deadletters | "WriteDeadLetters" >> WriteJsonLines(layout.deadletters_prefix)
    add_manifest(layout.root, layout.run_id, stored[DedupAndStore.MANIFEST], siem_files, dead_files)


Progress = Callable[[str], None]
TEMP_PREFIXES = ("beam-temp", ".temp", "_tmp-")


def run(config: RunConfig, progress: Progress = lambda _msg: None) -> Summary:
    """Check inputs and output, run the pipeline to the end, and return the checked summary.

    Raises ``options.UsageError`` for argument and input problems before anything runs.
    """
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
    progress(
        f"matched {files} files ({size / (1 << 20):.1f} MiB) from {len(patterns)} inputs"
        + (f" and {len(config.sources)} sources ({', '.join(describe(s) for s in config.sources)})" if config.sources else "")
        + f"; run {layout.run_id} on {runner}"
    )

    pipeline = beam.Pipeline(options=options)
    build(pipeline, patterns, layout, config.settings, config.sources, config.sinks, enrichment, config.rules)
    inputs = list(config.inputs) + [describe(s) for s in config.sources]
    return execute(pipeline, layout, runner, inputs, config.output, files)


def execute(
    pipeline: beam.Pipeline, layout: Layout, runner: str, inputs: list[str], output: str, files: int
) -> Summary:
    """Run a built batch pipeline to the end, remove its spill folder, and write and return the checked
    summary (the run command's and the replay command's common ending)."""
    started = time.monotonic()
    try:
        result = pipeline.run()
        result.wait_until_finish()
    finally:
        _remove(layout.spill_dir)
    elapsed = time.monotonic() - started

    summary = from_counters(
        query_counters(result),
        run_id=layout.run_id,
        runner=runner,
        inputs=inputs,
        output=output,
        files_matched=files,
        elapsed_seconds=round(elapsed, 3),
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
