"""What the batch object-store sources share, whatever the cloud (S3, Azure Blob Storage, ...):
listings cut into chunks, and a chunk of object names fetched by a thread pool
into blobs, with a ``Delivery`` carrying ``error`` in place of an object that could not be read."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor

from connectors.sources import Blob, Delivery

# One object: (its bytes, None) or (None, why it could not be read, without credentials).
Fetched = tuple[bytes | None, str | None]


def chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    """``items`` in lists of ``size`` (the last one shorter), as they come: a listing is never held whole."""
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def fetch_chunk(
    pool: Executor,
    names: Sequence[str],
    fetch: Callable[[str], Fetched],
    location: Callable[[str], str],
    log: logging.Logger,
    label: str = "",
) -> Iterator[Blob | Delivery]:
    """``names`` fetched in parallel by ``pool``, in order: a blob ``(location, bytes)`` each, or a
    ``Delivery`` with ``error`` (logged as a warning on ``log``, after ``label``) for one that failed."""
    for name, (data, error) in zip(names, pool.map(fetch, names), strict=True):
        where = location(name)
        if data is None:
            log.warning("%s%s", label, error)
            yield Delivery(where, b"", None, error=error)
        else:
            yield where, data
