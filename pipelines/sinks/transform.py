"""The Beam side of the sinks: one ParDo per sink over the SIEM batches, their dead letters flattened."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import apache_beam as beam

from pipelines.metrics import Counters
from pipelines.sinks import (
    SinkConfig,
    delivered_counter,
    events_counter,
    make_sink,
    sink_deadletter_counter,
    unique_names,
)
from pipelines.sinks.base import Sink


class SendToSinkFn(beam.DoFn):
    """A batch of canonical JSON lines (bytes joined by newlines) -> its dead letters as one batch.

    The sink (and its HTTP connections) lives as long as the DoFn instance. A retried bundle sends its
    batches again: idempotent sinks (Elasticsearch, by event id) absorb that; HEC and Sentinel are
    at-least-once, as their APIs are.
    """

    COUNTS = "counts"

    def __init__(self, config: SinkConfig, with_counts: bool = False) -> None:
        self._config = config
        self._with_counts = with_counts

    def setup(self) -> None:
        self._sink: Sink = make_sink(self._config)
        self._counters = Counters()
        self._counts: Counter[str] = Counter()

    def process(self, batch: bytes) -> Iterator[Any]:
        lines = [line for line in batch.split(b"\n") if line.strip()]
        result = self._sink.send(lines)
        name = self._config.name
        self._counts[events_counter(name)] += len(lines)
        self._counts[delivered_counter(name)] += len(result.delivered_ids)
        for letter in result.dead:
            self._counts[sink_deadletter_counter(name, letter.code)] += 1
        if self._with_counts:  # the caller tallies them (the streaming pipeline keeps its own books)
            yield beam.pvalue.TaggedOutput(self.COUNTS, dict(self._counts))
            self._counts.clear()
        else:
            self._counters.push(self._counts)
        if result.dead:
            yield b"\n".join(letter.to_json() for letter in result.dead)

    def teardown(self) -> None:
        sink = getattr(self, "_sink", None)
        if sink is not None:
            sink.close()


class WriteToSinks(beam.PTransform):
    """Batches of canonical event JSON lines -> every configured sink; returns dead-letter batches.

    Counts go to Beam counters (``sinks/<name>/events|delivered|deadletters/<code>``). With
    ``with_counts=True`` they come out instead, as a second PCollection of ``{counter: n}`` dicts, and
    ``expand`` returns ``(deadletters, counts)``: for pipelines that keep their own tally.
    """

    def __init__(self, configs: Sequence[SinkConfig], with_counts: bool = False) -> None:
        super().__init__()
        self._configs = unique_names(list(configs))
        self._with_counts = with_counts

    def expand(self, batches: beam.PCollection[bytes]) -> Any:
        dead, counts = [], []
        for c in self._configs:
            fn = SendToSinkFn(c, self._with_counts)
            out = batches | f"Sink[{c.name}]" >> beam.ParDo(fn).with_outputs(SendToSinkFn.COUNTS, main="dead")
            dead.append(out["dead"])
            counts.append(out[SendToSinkFn.COUNTS])
        if not dead:
            empty = batches.pipeline | "NoSinks" >> beam.Create([]).with_output_types(bytes)
            return (empty, batches.pipeline | "NoSinkCounts" >> beam.Create([])) if self._with_counts else empty
        all_dead = tuple(dead) | "SinkDeadLetters" >> beam.Flatten()
        if self._with_counts:
            return all_dead, tuple(counts) | "SinkCounts" >> beam.Flatten()
        return all_dead
