"""Spill files: how serialized events travel from the read stage to the dedup-and-store stage.

The events themselves do not go through the GroupByKey: the local runner keeps everything that crosses
a GroupByKey in memory, so a large input would grow the process without bound. The read stage writes
each batch of events to one spill file (under the run's temporary folder, through Beam's FileSystems so
that it works on object stores too) as one segment per partition key, and only the small
``(key, Segment)`` pointers are grouped. The store stage reads the segments of its key back.

A segment is data only, never code (no Python object serialization), so whoever can write into the spill folder during a run
can at worst make a record fail to parse, never run anything. Each event is three length-prefixed byte
strings (id, canonical JSON without ``raw``, ``raw``; 4-byte little-endian lengths, ``raw`` absent is
length 0xFFFFFFFF), the segment LZ4-compressed (about 1 GB/s: a sixth of the size, which costs less than
the file I/O it saves). Spill files live in the run's own temporary folder, created 0700 where the
filesystem has modes, and are removed when the run ends.

An event travels as its canonical JSON without ``raw`` plus ``raw`` beside it: the store stage hands
``raw`` to Arrow as a column and to the archive as it is, so Arrow's JSON reader never parses the
original record again (that string is 40% of an event's JSON, and the costliest part to unescape), and
``canonical_line`` puts it back for the SIEM line, byte for byte what ``model_dump_json`` gives.
"""

from __future__ import annotations

import os
import struct
import uuid
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import orjson
import pyarrow as pa
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipelines.layout import Key
from schemas.event import Event
from schemas.fastpath import Doc, dumps

CODEC = "lz4"

# One serialized event: its id (for deduplication), its canonical JSON without ``raw``, and ``raw``.
SpilledEvent = tuple[str, bytes, str | None]


def encode_event(event: Doc | Event) -> SpilledEvent:
    """Serialize an event once, for every sink: a canonical document (``schemas.fastpath``, what the
    pipeline carries), or an ``Event`` model (its document is taken first). ``raw`` is the document's last
    key: it is taken out for the JSON and put back, so the document is left as it was."""
    doc = event if isinstance(event, dict) else event.model_dump()
    raw = doc.pop("raw")
    try:
        return doc["id"], dumps(doc), raw
    finally:
        doc["raw"] = raw


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
    if spill_dir not in _PRIVATE:
        make_private_dir(spill_dir)
        _PRIVATE.add(spill_dir)
    path = FileSystems.join(spill_dir, f"{uuid.uuid4().hex}.spill")
    out: list[tuple[Key, Segment]] = []
    offset = 0
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        for key, events in batches.items():
            blob = pack_events(events)
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
    return unpack_events(pa.decompress(blob, decompressed_size=segment.size, codec=CODEC, asbytes=True))


_PRIVATE: set[str] = set()  # spill folders this process has made private already
_LEN = struct.Struct("<I")
_NONE = 0xFFFFFFFF


def pack_events(events: Sequence[SpilledEvent]) -> bytes:
    """Events -> length-prefixed bytes (see the module text): data only, nothing executable."""
    parts: list[bytes] = []
    pack = _LEN.pack
    for event_id, json_without_raw, raw in events:
        ident = event_id.encode("utf-8")
        parts += (pack(len(ident)), ident, pack(len(json_without_raw)), json_without_raw)
        if raw is None:
            parts.append(pack(_NONE))
        else:
            r = raw.encode("utf-8", "surrogatepass")
            parts += (pack(len(r)), r)
    return b"".join(parts)


def unpack_events(blob: bytes) -> list[SpilledEvent]:
    """The inverse of ``pack_events``; a short or corrupt blob raises ``ValueError``."""
    out: list[SpilledEvent] = []
    view = memoryview(blob)
    pos, end = 0, len(blob)
    unpack = _LEN.unpack_from

    def take() -> bytes | None:
        nonlocal pos
        if pos + 4 > end:
            raise ValueError("spill segment is truncated")
        (n,) = unpack(view, pos)
        pos += 4
        if n == _NONE:
            return None
        if pos + n > end:
            raise ValueError("spill segment is truncated")
        chunk = bytes(view[pos:pos + n])
        pos += n
        return chunk

    while pos < end:
        ident, json_without_raw, raw = take(), take(), take()
        if ident is None or json_without_raw is None:
            raise ValueError("spill segment is corrupt")
        out.append((ident.decode("utf-8"), json_without_raw, None if raw is None else raw.decode("utf-8", "surrogatepass")))
    return out


def make_private_dir(path: str) -> None:
    """Create a local spill folder readable by this user only (0700); object stores have no folders."""
    if "://" not in path:
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
