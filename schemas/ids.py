"""Deterministic event ids.

The id is a function of the source format, the source's own id for the record and the fields that make
that id unique in the source's own terms (GCP's insertId is unique per log name and timestamp; CloudTrail's
eventID is unique on its own, but hand-written and replayed data reuse ids, so the time and operation go in
too). Same input, same id: sinks use it for idempotent writes and the pipeline to deduplicate.
"""

from __future__ import annotations

import hashlib


def event_id(fmt: str, native_id: str | None, *parts: object) -> str:
    """32 hex characters (128 bits) of BLAKE2b over the format, native id and the disambiguating parts."""
    h = hashlib.blake2b(digest_size=16)
    h.update(fmt.encode())
    h.update(b"\x1f")
    h.update((native_id or "").encode("utf-8", "surrogatepass"))
    for p in parts:
        h.update(b"\x1f")
        h.update(("" if p is None else str(p)).encode("utf-8", "surrogatepass"))
    return h.hexdigest()
