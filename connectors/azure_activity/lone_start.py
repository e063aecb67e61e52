"""Lone ``Start`` rows: an operation whose terminal row never arrives still becomes an event.

Azure writes a long-running operation as a ``Start`` row (sometimes ``Accept``/``In Progress`` too) and
later a terminal row (``Success``/``Failure``/``Canceled``) with the same operation name and
correlationId. The mapper turns intermediate rows into the non-event ``azure.activity.intermediate``
and the terminal row into the event. Some operations never log a terminal row (a ``listKeys`` credential
read that the service answers at once, a row lost on the way): without this step they would vanish.

``resolve_lone_starts`` is a pure function over the records of one batch (or one window): every
intermediate row whose (operation, correlationId) has no terminal row among them becomes an event with
outcome ``unknown`` (``map_unresolved``), one per operation and correlationId (the first Start row, or
the first intermediate row when there is no Start). Records that cannot say their operation and
correlation id are left to the ordinary mapping.

Where it runs is described in docs/mapping.md ("Azure: lone Start rows").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connectors.base import MapContext
from connectors.errors import NonEvent

from . import tables as T
from .mapping import map_record, status_word
from .parse import fields_of


def operation_key(record: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """(operation lower-cased, correlationId lower-cased, canonical status) of an operation row."""
    try:
        f = fields_of(record)
    except Exception:  # a broken record is the ordinary mapping's to dead-letter
        return None
    if not f.operation or not f.correlation_id:
        return None
    if f.category and f.category.replace(" ", "").lower() in T.NON_OPERATION_CATEGORIES:
        return None
    return f.operation.strip().lower(), f.correlation_id.strip().lower(), status_word(f.status)


def resolve_lone_starts(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The intermediate rows (one per operation and correlationId) whose operation has no terminal row
    among ``records``, in the order they came."""
    first: dict[tuple[str, str], dict[str, Any]] = {}
    is_start: dict[tuple[str, str], bool] = {}
    terminal: set[tuple[str, str]] = set()
    for r in records:
        key = operation_key(r)
        if key is None:
            continue
        op_key = key[:2]
        status = key[2]
        if status in T.INTERMEDIATE:
            if op_key not in first or (status == "start" and not is_start[op_key]):
                first[op_key] = r
                is_start[op_key] = status == "start"
        elif status is not None:
            terminal.add(op_key)
    return [r for k, r in first.items() if k not in terminal]


def map_unresolved(record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | NonEvent:
    """An intermediate row as the event of its operation, outcome unknown (its result was never logged)."""
    return map_record(record, ctx, unresolved=True)
