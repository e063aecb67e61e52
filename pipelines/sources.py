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

from connectors.sources import Delivery, SourceError, SourceSpec, resolve
from pipelines.errors import UsageError
from pipelines.read import DEADLETTERS, SEGMENTS, STARTS, Output, ReaderFn, ReadStage
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


class ReadBlobsFn(ReaderFn):
    """Blobs -> (key, Segment) pointers on the main output, dead-letter batches tagged: ``ReadFilesFn``
    for bytes that a source already fetched."""

    def read_element(self, element: Any) -> Iterator[Output]:
        location, data, error = blob_parts(element)
        return self._reader.read_blob(location, data, error)


class ReadBlobs(ReadStage):
    """Blobs -> ``segments`` and ``deadletters``, the same outputs as ``ReadFiles``."""

    fn_class: type[ReadBlobsFn] = ReadBlobsFn  # what reads one blob (stages/shuffle.py: into batches)

    def expand(self, blobs: beam.PCollection[Any]) -> beam.pvalue.DoOutputsTuple:
        # No reshuffle here: blobs are whole files, and a GroupByKey would hold them all in memory on the
        # local runner. The sources spread their own work (object names, time slices) before fetching.
        side = self.enrichment_kwargs()
        return blobs | "Normalize" >> beam.ParDo(
            self.fn_class(self._settings, self._spill_dir), **side
        ).with_outputs(DEADLETTERS, STARTS, main=SEGMENTS)


def flatten_outputs(parts: Iterable[beam.PCollection[Any]], label: str) -> beam.PCollection[Any]:
    found = list(parts)
    return found[0] if len(found) == 1 else tuple(found) | label >> beam.Flatten()
