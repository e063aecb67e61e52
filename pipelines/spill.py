"""Spill files: how serialized events travel from the read stage to the dedup-and-store stage.

The events themselves do not go through the GroupByKey: the local runner keeps everything that crosses
a GroupByKey in memory, so a large input would grow the process without bound. The read stage writes
each batch of events to one spill file (under the run's temporary folder, through Beam's FileSystems so
that it works on object stores too) as one pickled segment per partition key, and only the small
``(key, Segment)`` pointers are grouped. The store stage reads the segments of its key back.

Spill files are written and read by the same run, never kept: pickle is the fastest format for that,
and LZ4 (about 1 GB/s) makes them a sixth of the size, which costs less than the file I/O it saves.

An event travels as its canonical JSON without ``raw`` plus ``raw`` beside it: the store stage hands
``raw`` to Arrow as a column and to the archive as it is, so Arrow's JSON reader never parses the
original record again (that string is 40% of an event's JSON, and the costliest part to unescape), and
``canonical_line`` puts it back for the SIEM line, byte for byte what ``model_dump_json`` gives.
"""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import orjson
import pyarrow as pa
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipelines.layout import Key
from schemas.event import Event

CODEC = "lz4"

# One serialized event: its id (for deduplication), its canonical JSON without ``raw``, and ``raw``.
SpilledEvent = tuple[str, bytes, str | None]

_to_json = Event.__pydantic_serializer__.to_json  # model_dump_json without its str round trip
_WITHOUT_RAW = {"raw"}


def encode_event(event: Event) -> SpilledEvent:
    """Serialize an event once, for every sink."""
    return event.id, _to_json(event, exclude=_WITHOUT_RAW), event.raw


def canonical_line(json_without_raw: bytes, raw: str | None) -> bytes:
    """The event's canonical JSON (``raw`` is the model's last field, so it goes back at the end)."""
    value = b"null" if raw is None else orjson.dumps(raw)
    return b"".join((json_without_raw[:-1], b',"raw":', value, b"}"))


class Segment(NamedTuple):
    path: str
    offset: int
    length: int  # bytes in the file (compressed)
    size: int  # bytes once decompressed
    count: int  # events in the segment


def write_spill(
    spill_dir: str, batches: Mapping[Key, Sequence[SpilledEvent]]
) -> list[tuple[Key, Segment]]:
    """Write one spill file holding a segment per key; return the (key, segment) pointers."""
    path = FileSystems.join(spill_dir, f"{uuid.uuid4().hex}.spill")
    out: list[tuple[Key, Segment]] = []
    offset = 0
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        for key, events in batches.items():
            blob = pickle.dumps(list(events), protocol=pickle.HIGHEST_PROTOCOL)
            packed = pa.compress(blob, codec=CODEC, asbytes=True)
            f.write(packed)
            out.append((key, Segment(path, offset, len(packed), len(blob), len(events))))
            offset += len(packed)
    return out


def read_segment(segment: Segment) -> list[SpilledEvent]:
    with FileSystems.open(segment.path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        if segment.offset:
            f.seek(segment.offset)
        blob = f.read(segment.length)
    if len(blob) != segment.length:
        raise OSError(f"spill file {segment.path} is short: wanted {segment.length} bytes at {segment.offset}")
    events: list[SpilledEvent] = pickle.loads(
        pa.decompress(blob, decompressed_size=segment.size, codec=CODEC, asbytes=True)
    )
    return events
