"""Dead letters: every stage's dead-letter batches (JSON lines joined by newlines) flattened into one
output under ``deadletters/``. Batch writes them with Beam's text sink (``WriteJsonLines``); streaming
writes each batch as its own file named by its content, so a retried bundle rewrites the same file, with
a manifest entry per file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import apache_beam as beam
from apache_beam import coders

from pipelines.layout import Layout
from pipelines.local import acks
from pipelines.manifest import KIND_DEADLETTERS, write_manifest
from pipelines.metrics import mark_clock
from pipelines.stages.cold import write_listed
from pipelines.summary import LAST_WRITE


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


class WriteDeadLettersFn(beam.DoFn):
    """Each batch of dead-letter lines -> one file under deadletters/, named by its content so that a
    retried bundle rewrites the same file."""

    def __init__(self, layout: Layout) -> None:
        self._layout = layout

    def process(self, blob: bytes) -> None:
        if not blob:
            return
        digest = hashlib.sha1(blob).hexdigest()[:16]
        path = f"{self._layout.deadletters_prefix}-{digest}.jsonl"
        entry = write_listed(
            self._layout, KIND_DEADLETTERS, path, blob if blob.endswith(b"\n") else blob + b"\n"
        )
        write_manifest(self._layout.root, f"{self._layout.run_id}-d{digest}", [entry])
        mark_clock(LAST_WRITE)
        acks.durable(self._layout.run_id, [acks.blob_token(blob)])  # its deliveries may be acked (local)


class DeadLetters(beam.PTransform):
    """Dead-letter batches of every stage -> files under ``deadletters/``: one text sink in batch
    (returns the file names, for the manifest), one file per batch in streaming (returns nothing useful)."""

    def __init__(self, layout: Layout, streaming: bool = False) -> None:
        super().__init__()
        self._layout = layout
        self._streaming = streaming

    def expand(self, batches: Sequence[beam.PCollection[bytes]]) -> beam.PCollection[str]:  # type: ignore[override]
        letters = tuple(batches) | "AllDeadLetters" >> beam.Flatten()
        if self._streaming:
            return letters | "WriteDeadLetters" >> beam.ParDo(WriteDeadLettersFn(self._layout))
        return letters | "WriteDeadLetters" >> WriteJsonLines(self._layout.deadletters_prefix)
