"""Stages shared by the batch and the streaming compositions (``pipelines.batch``, ``pipelines.streaming``),
in the order data flows through them. Each is a composite ``PTransform`` (or the DoFn inside one) over
batches of events, with the per-element work in plain functions and classes testable without Beam.

=================  ===========================================  ==========================================
stage              batch                                        streaming
=================  ===========================================  ==========================================
read + normalize   ``pipelines.read.ReadFiles``,                 ``streams.PollSourcesFn`` (SQS, Event Hubs),
and enrich         ``pipelines.sources.ReadBlobs``               ``ReadFromPubSub`` + ``normalize.NormalizeBlobs``
deduplicate        ``pipelines.store.DedupAndStore``             ``dedup.DedupWindowFn`` (state + timers)
                   (GroupByKey per partition; on distributed
                   runners ``shuffle.ShuffleDedupAndStore``)
detect             plugs in here: after enrichment and dedup, on the SIEM JSON-lines batches, before the
                   sinks (``pipelines.batch.build(rules=...)``, ``pipelines.streaming.build_streaming``)
sinks              ``pipelines.sinks.WriteToSinks``              the same, on ``dedup.LIVE`` (not windowed)
cold storage       ``DedupAndStore`` (``pipelines.store``)       ``cold.PaneStore`` per event-time pane
dead letters       ``deadletters.DeadLetters``                   ``deadletters.DeadLetters(streaming=True)``
=================  ===========================================  ==========================================

What only the local runner needs is in ``pipelines.local``; nothing here depends on it.
"""
