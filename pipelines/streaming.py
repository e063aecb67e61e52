"""The streaming pipeline: stream sources -> normalize and enrich -> deduplicate -> SIEM sinks at once,
cold storage per event-time window -> dead letters; until interrupted or idle.

```
read ──────────────┐                    ┌─ LIVE ── [Detect] ── Sinks ─────────── sink dead letters ─┐
 (local: ReadStreams│                    │                                                           │
  Dataflow: PollSourcesFn               │                                                           │
  or ReadFromPubSub ─ NormalizeBlobs)   │                                                           │
                   └─ Route ─ DedupWindows ─ panes: siem/, cold/events, cold/raw, cold/ids,          │
                                                 [--security-lake] the OCSF copy ────────────────────┤
                        ├─ dead letters ───────────────────────────────────────────── DeadLetters ───┘
                        └─ counts ─────── PushCounts (Beam Metrics; locally also tallied in-process)
```

The stages are in ``pipelines.stages`` (see each module for why it is built the way it is); what only
the local runner needs (the TestStream-driven poll loop, Ctrl-C, the in-process tally) is in
``pipelines.local.streaming``. Detection (``detections``) plugs in on the ``LIVE`` output, after
enrichment and deduplication, before the sinks: see ``DETECT_AFTER``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.typehints import typehints

from connectors.sources import SourceSpec, StreamSource
from enrichers.beam import prepare as prepare_enrichment
from pipelines.batch import write_summary
from pipelines.errors import Submitted, UsageError, detached, job_text
from pipelines.interrupt import guarded
from pipelines.layout import Layout, new_run_id
from pipelines.local.runner import runner_text
from pipelines.local.streaming import (
    STREAMING_RUNNER,
    PollLoop,
    ReadStreams,
    TallyCountsFn,
    drain_on_interrupt,
    take_counts,
)
from pipelines.metrics import PushCountsFn, query_clocks, query_counters
from pipelines.options import check_output, pipeline_options
from pipelines.read import DEADLETTERS
from pipelines.settings import RunConfig, Settings, StreamSettings
from pipelines.sinks import WriteToSinks, check_sinks
from pipelines.sources import check_sources, describe
from pipelines.stages.deadletters import DeadLetters, WriteDeadLettersFn
from pipelines.stages.dedup import LIVE, DedupWindowFn, RouteFn
from pipelines.stages.normalize import COUNTS, DELIVERIES, EVENTS, EnrichmentRefresh, NormalizeBlobs
from pipelines.stages.streams import PollSourcesFn, ReadStreamsSDF, SourceRounds, stream_sources
from pipelines.summary import Summary, from_counters, pipeline_times

__all__ = [
    "COUNTS",
    "EVENTS",
    "STREAMING_RUNNER",
    "EnrichmentRefresh",
    "PollLoop",
    "PollSourcesFn",
    "ReadStreamsSDF",
    "SourceRounds",
    "StreamSettings",
    "StreamStages",
    "WriteDeadLettersFn",
    "run",
    "streaming_options",
]

log = logging.getLogger(__name__)

# Where a Detect stage goes: after enrichment and deduplication, on the new events' JSON lines, before the
# sinks (``build_streaming(..., detect=...)``; its alerts and dead letters are its own outputs).
DETECT_AFTER = LIVE


class StreamStages(beam.PTransform):
    """Tagged read outputs -> deduplicated, windowed cold-storage writes and dead letters; returns the
    new events' SIEM JSON-lines batches at once (``LIVE``, for the sinks)."""

    def __init__(self, layout: Layout, settings: Settings, stream: StreamSettings, local: bool = True) -> None:
        super().__init__()
        self._layout = layout
        self._settings = settings
        self._stream = stream
        self._local = local

    def expand(self, read: beam.PCollection[Any]) -> beam.PCollection[bytes]:
        routed = read | "Route" >> beam.ParDo(RouteFn()).with_outputs(DEADLETTERS, COUNTS, main=EVENTS)
        # The shard is an int: a deterministic key coder for the state (Beam warns otherwise).
        routed[EVENTS].element_type = typehints.KV[int, typehints.Any]
        stored = routed[EVENTS] | "DedupWindows" >> beam.ParDo(
            DedupWindowFn(self._layout, self._settings, self._stream)
        ).with_outputs(DEADLETTERS, COUNTS, LIVE, main="siem")
        (
            (routed[COUNTS], stored[COUNTS])
            | "AllCounts" >> beam.Flatten()
            | "PushCounts" >> beam.ParDo(counts_fn(self._layout.run_id, self._local))
        )
        (routed[DEADLETTERS], stored[DEADLETTERS]) | "DeadLetters" >> DeadLetters(self._layout, streaming=True)
        return stored[LIVE]


def counts_fn(run_id: str, local: bool) -> beam.DoFn:
    return TallyCountsFn(run_id) if local else PushCountsFn()


class PubSubBlobs(beam.PTransform):
    """PBegin -> (location, data) blobs from a Pub/Sub subscription with Beam's ``ReadFromPubSub``: on
    Dataflow the native source, which acknowledges after the runner has durably committed, deduplicates
    redeliveries by message id (and by ``id_label`` when given) and takes event time from
    ``timestamp_attribute`` when given (else the publish time)."""

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__()
        self._spec = spec

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection[Any]:
        subscription = self._spec.target
        read = beam.io.ReadFromPubSub(
            subscription=subscription,
            with_attributes=True,
            id_label=self._spec.param("id_label") or None,
            timestamp_attribute=self._spec.param("timestamp_attribute") or None,
        )
        return (
            pbegin
            | "ReadFromPubSub" >> read
            | "ToBlob" >> beam.Map(lambda m, s=subscription: (f"pubsub://{s}#{m.message_id}", m.data))
        )


def read_stage(
    pipeline: beam.Pipeline,
    config: RunConfig,
    stream: StreamSettings,
    sources: Sequence[StreamSource] | None,
    blobs: beam.PTransform | None,
    loop: PollLoop | None,
) -> beam.PCollection[Any]:
    """The read step for where the pipeline runs: tagged read outputs (event batches, dead letters,
    counts)."""
    if blobs is not None:
        return (
            pipeline
            | "Blobs" >> blobs
            | "NormalizeBlobs" >> NormalizeBlobs(config.settings, stream, config.enrichment)
        )
    if loop is not None:
        return pipeline | "ReadStreams" >> ReadStreams(loop)
    # A runner with full splittable-DoFn support (Dataflow, ...): Pub/Sub with Beam's own source, the
    # other stream sources (SQS, Event Hubs) polled by PollSourcesFn, acknowledged in a bundle finalizer.
    pubsub = [s for s in config.sources if s.kind == "pubsub"]
    polled = [s for s in config.sources if s.kind != "pubsub"]
    reads = []
    for i, spec in enumerate(pubsub):
        reads.append(
            pipeline
            | f"PubSub{i}" >> PubSubBlobs(spec)
            | f"NormalizePubSub{i}" >> NormalizeBlobs(config.settings, stream, config.enrichment)
        )
    if polled or (sources and not config.sources):
        fn = PollSourcesFn(
            polled,
            config.settings,
            stream,
            config.idle_stop_seconds,
            config.enrichment,
            sources=None if not sources or config.sources else sources,
        )
        reads.append(pipeline | "ReadStreams" >> ReadStreamsSDF(fn))
    return reads[0] if len(reads) == 1 else tuple(reads) | "AllReads" >> beam.Flatten()


def build_streaming(
    pipeline: beam.Pipeline,
    config: RunConfig,
    layout: Layout,
    local: bool,
    sources: Sequence[StreamSource] | None = None,
    blobs: beam.PTransform | None = None,
    loop: PollLoop | None = None,
    detect: beam.PTransform | None = None,
) -> None:
    """The streaming graph: read -> StreamStages -> [detect] -> sinks -> dead letters."""
    stream = StreamSettings.of(config)
    read = read_stage(pipeline, config, stream, sources, blobs, loop)
    live = read | "Stages" >> StreamStages(layout, config.settings, stream, local)
    if detect is not None:
        live = live | "Detect" >> detect
    if config.sinks:  # the SIEM sinks, as in batch; their counts join this run's tally
        sink_dead, sink_counts = live | "Sinks" >> WriteToSinks(config.sinks, with_counts=True)
        sink_dead | "WriteSinkDeadLetters" >> beam.ParDo(WriteDeadLettersFn(layout))
        sink_counts | "PushSinkCounts" >> beam.ParDo(counts_fn(layout.run_id, local))


# Runners the streaming pipeline refuses: FnApiRunner fires event-time timers at the end of every bundle
# (whatever the watermark), so windows and lateness would be wrong; plain DirectRunner first tries to
# download Prism.
_UNSUITABLE_RUNNERS = {"FnApiRunner", "DirectRunner", "SwitchingDirectRunner", "PrismRunner"}


def streaming_options(beam_args: Sequence[str]) -> tuple[PipelineOptions, bool]:
    """Beam options for a streaming run, and whether it runs locally (``ReadStreams`` on the
    BundleBasedDirectRunner) or on a runner with full splittable-DoFn support (``ReadStreamsSDF``)."""
    options = pipeline_options(beam_args)
    standard = options.view_as(StandardOptions)
    named = any(a.startswith("--runner") for a in beam_args)
    runner = str(standard.runner).rsplit(".", 1)[-1]
    if named and runner in _UNSUITABLE_RUNNERS:
        raise UsageError(
            f"--streaming does not run on --runner {runner}; it runs locally on {STREAMING_RUNNER} (the "
            "default) or on a runner with full splittable-DoFn support such as DataflowRunner (see docs/streaming.md)"
        )
    local = not named or runner == STREAMING_RUNNER
    if local:
        standard.runner = STREAMING_RUNNER
    standard.streaming = True
    return options, local


def check_streaming(config: RunConfig, sources: Sequence[StreamSource] | None, blobs: Any) -> list[StreamSource] | None:
    if sources is None and blobs is None:
        check_sources(config.sources, streaming=True)
        if not config.sources:
            raise UsageError("--streaming needs at least one stream --source")
        if config.inputs:
            raise UsageError("--input files are read in batch: run them without --streaming")
        sources = stream_sources(config.sources)
    if config.window_seconds > 3600 or 3600 % config.window_seconds:
        raise UsageError(f"--window {config.window_seconds} must divide an hour (e.g. 60, 300, 900, 3600)")
    return list(sources) if sources is not None else None


def run(
    config: RunConfig,
    progress: Callable[[str], None] = lambda _msg: None,
    sources: Sequence[StreamSource] | None = None,
    blobs: beam.PTransform | None = None,
) -> Summary:
    """Run the streaming pipeline until it is idle for ``config.idle_stop_seconds`` (or forever), and
    return the checked summary.

    ``sources`` replaces the sources of ``config.sources`` (StreamSource objects, e.g. a test's queue);
    ``blobs`` replaces the poll loop with any root transform yielding blobs (e.g. a TestStream).
    """
    begun = time.time()  # start-up, in the summary, is from here to the first record read
    options, local = streaming_options(config.beam_args)
    sources = check_streaming(config, sources, blobs)
    check_output(config.output)
    prepare_enrichment(config.enrichment)  # a broken reference file stops the run here, before any read
    config.sinks = check_sinks(config.sinks)  # SIEM sinks: bad options or missing credentials stop it here too
    layout = Layout(config.output, new_run_id())
    stream = StreamSettings.of(config)
    labels = (
        [describe(s) for s in config.sources]
        if config.sources
        else [f"source{i}" for i in range(len(sources or []))]
    )
    progress(
        f"streaming from {', '.join(labels) if blobs is None else 'blobs'}; run {layout.run_id} on "
        f"{STREAMING_RUNNER if local else runner_text(options)}; window {stream.window_seconds}s, allowed "
        f"lateness {stream.allowed_lateness_seconds}s, dedup ttl {stream.dedup_ttl_seconds}s"
        + (f", stops after {config.idle_stop_seconds:g}s idle" if config.idle_stop_seconds else "")
    )
    pipeline = beam.Pipeline(options=options)
    loop = None
    if blobs is None and local:
        loop = PollLoop(
            sources or [],
            labels,
            config.settings,
            stream,
            config.idle_stop_seconds,
            progress,
            config.progress_seconds,
            enrichment=config.enrichment,
            run_id=layout.run_id,
        )
    detect = None
    if config.rules is not None:  # detection on the live events (detections/streaming.py); "" = the bundled pack
        from detections.streaming import StreamDetect

        detect = StreamDetect(config.rules or None, layout.root, layout.run_id, config.sinks,
                              dead_letters=WriteDeadLettersFn(layout))
    build_streaming(pipeline, config, layout, local, sources, blobs, loop, detect)

    def execute() -> Summary:
        return _execute(pipeline, options, layout, local, labels, config.output, loop, progress, begun)

    if not local:
        summary = execute()
        write_summary(layout, summary)
        return summary
    # Locally, as in batch: the output's lock, cleanup of what killed runs left (panes without a
    # manifest), 0600 files, SIGTERM, and a summary per run (pipelines/interrupt.py).
    return guarded(config.output, layout.run_id, execute, config, labels)


def _execute(
    pipeline: beam.Pipeline,
    options: PipelineOptions,
    layout: Layout,
    local: bool,
    labels: list[str],
    output: str,
    loop: PollLoop | None,
    progress: Callable[[str], None],
    begun: float,
) -> Summary:
    started = time.time()
    with drain_on_interrupt(loop, progress):
        result = pipeline.run(test_runner_api=False)  # no runner-API round trip: it would replay the loop
        if not local and detached(pipeline.options, result):
            raise Submitted(job_text(result))
        result.wait_until_finish()
    ended = time.time()
    # Locally, this process's tally; elsewhere the workers' Beam counters are the tally.
    counters = take_counts(layout.run_id) if local else query_counters(result)
    # Processing time: locally, the poll loop's first read and the last write its ledger heard of (the
    # local runner reports a step's distributions from its first bundle only); elsewhere the stages' marks.
    if loop is not None and loop.ledger is not None:
        first_read, last_write = loop.stats.first_read, loop.ledger.last_durable
    else:
        first_read, last_write = query_clocks(result)
    summary = from_counters(
        counters,
        run_id=layout.run_id,
        runner=f"{runner_text(options) if not local else STREAMING_RUNNER} (streaming)",
        inputs=labels,
        output=output,
        files_matched=int(counters.get(DELIVERIES, 0)),
        **pipeline_times(started, ended, first_read, last_write, begun=begun),
    )
    if loop is not None and loop.error is not None:
        raise RuntimeError(
            f"a stream source failed: {type(loop.error).__name__}: {loop.error} (what had been acknowledged was "
            "written; the rest comes again on the next run)"
        ) from loop.error
    if loop is not None:
        progress(f"done: {loop.stats_text()}")
        unacked = loop.stats.deliveries - loop.stats.acked
        if unacked:
            summary.problems.append(f"{unacked} deliveries were not acknowledged (they will come again)")
    return summary
