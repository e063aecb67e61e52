"""Sources in the pipelines: the Beam composites that turn batch sources into blobs and blobs into the
read stage (the ``--source`` options themselves are in ``pipelines.sourceargs``).

A source kind (``connectors.sources.SourceKind``) is registered by its connector package and named on the
command line as ``--source KIND:TARGET[?key=value&...]``. The batch pipeline's input stages:

```
PBegin ─ ReadBatchSources(specs) ─ blobs ─ ReadBlobs ─┬─ segments      (like ReadFiles' outputs)
                                                      └─ deadletters
```

A blob is ``(location, bytes)``; a source that listed an object it then could not fetch yields a
``Delivery`` with ``error`` set in its place, and ``ReadBlobs`` makes it one dead letter (stage ``read``,
code ``unreadable_file``), so nothing a source announced is lost silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from connectors.sources import Delivery, SourceError, SourceSpec, resolve
from enrichers.context import ReferenceData, context_for
from pipelines.errors import UsageError
from pipelines.memory import bound_large_allocations
from pipelines.metrics import Counters
from pipelines.read import DEADLETTERS, SEGMENTS, FileReader
from pipelines.settings import Settings
from pipelines.sourceargs import (  # noqa: F401 - the command-line side, re-exported for the pipelines
    add_source_arguments,
    check_sources,
    describe,
    parse_when,
    specs_from_args,
)

# --- batch: sources -> blobs -> read stage -----------------------------------------------------


class ReadBatchSources(beam.PTransform):
    """PBegin -> the blobs of every batch source (a ``Delivery`` where an object could not be fetched)."""

    def __init__(self, specs: Sequence[SourceSpec]) -> None:
        super().__init__()
        self._specs = list(specs)

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection[Any]:
        outputs = []
        for i, spec in enumerate(self._specs):
            try:  # a bad option or a missing bucket found while the reader is built is a usage error
                kind = resolve(spec)
                reader = kind.factory(spec)
                if not isinstance(reader, beam.PTransform):
                    raise UsageError(f"source {spec.kind!r} did not give a batch reader")
                outputs.append(pbegin | f"Source{i}[{spec.kind}]" >> reader)
            except SourceError as exc:
                raise UsageError(f"source {spec.kind!r}: {exc}") from None
        if len(outputs) == 1:
            return outputs[0]
        return tuple(outputs) | "AllSources" >> beam.Flatten()


def blob_parts(element: Any) -> tuple[str, bytes, str | None]:
    """A blob ``(location, bytes)`` or a ``Delivery`` -> (location, data, error)."""
    if isinstance(element, Delivery):
        return element.location, element.data, element.error
    location, data = element
    return str(location), bytes(data), None


class ReadBlobsFn(beam.DoFn):
    """Blobs -> (key, Segment) pointers on the main output, dead-letter batches tagged: ``ReadFilesFn``
    for bytes that a source already fetched."""

    def __init__(self, settings: Settings, spill_dir: str) -> None:
        self._settings = settings
        self._spill_dir = spill_dir

    def setup(self) -> None:
        bound_large_allocations()
        self._reader = FileReader(self._settings, self._spill_dir)
        self._counters = Counters()

    def start_bundle(self) -> None:
        self._reader.reset()

    def process(self, element: Any, enrichment: ReferenceData | None = None) -> Iterator[object]:
        if enrichment is not None:  # the side input, as in ReadFilesFn: built once per worker process
            self._reader.enrichment = context_for(enrichment)
        location, data, error = blob_parts(element)
        for tag, value in self._reader.read_blob(location, data, error):
            yield value if tag == SEGMENTS else beam.pvalue.TaggedOutput(tag, value)
        self._counters.push(self._reader.counts)

    def finish_bundle(self) -> Iterator[WindowedValue]:
        for tag, value in self._reader.flush():
            wv = WindowedValue(value, GlobalWindow().max_timestamp(), [GlobalWindow()])
            yield wv if tag == SEGMENTS else beam.pvalue.TaggedOutput(tag, wv)
        self._counters.push(self._reader.counts)


class ReadBlobs(beam.PTransform):
    """Blobs -> ``segments`` and ``deadletters``, the same outputs as ``ReadFiles``."""

    SEGMENTS = SEGMENTS
    DEADLETTERS = DEADLETTERS

    def __init__(
        self, settings: Settings, spill_dir: str, enrichment: beam.pvalue.AsSingleton | None = None
    ) -> None:
        super().__init__()
        self._settings = settings
        self._spill_dir = spill_dir
        self._enrichment = enrichment  # side input of one enrichers.context.ReferenceData, or None

    def expand(self, blobs: beam.PCollection[Any]) -> beam.pvalue.DoOutputsTuple:
        # No reshuffle here: blobs are whole files, and a GroupByKey would hold them all in memory on the
        # local runner. The sources spread their own work (object names, time slices) before fetching.
        side = {"enrichment": self._enrichment} if self._enrichment is not None else {}
        return blobs | "Normalize" >> beam.ParDo(
            ReadBlobsFn(self._settings, self._spill_dir), **side
        ).with_outputs(DEADLETTERS, main=SEGMENTS)


def flatten_outputs(parts: Iterable[beam.PCollection[Any]], label: str) -> beam.PCollection[Any]:
    found = list(parts)
    return found[0] if len(found) == 1 else tuple(found) | label >> beam.Flatten()
