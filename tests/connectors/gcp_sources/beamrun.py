"""Run a batch source PTransform on Beam's FnApiRunner (in process) and return what it yielded."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

_RESULTS: dict[str, list[Any]] = {}
_LOCK = threading.Lock()


class _Collect(beam.DoFn):
    def __init__(self, key: str) -> None:
        self.key = key

    def process(self, element: Any) -> None:
        with _LOCK:
            _RESULTS[self.key].append(element)


def run_source(transform: beam.PTransform) -> list[Any]:
    key = uuid.uuid4().hex
    _RESULTS[key] = []
    options = PipelineOptions(runner="FnApiRunner", direct_num_workers=1)
    with beam.Pipeline(options=options) as p:
        _ = p | "Source" >> transform | "Collect" >> beam.ParDo(_Collect(key))
    return _RESULTS.pop(key)
