"""The Arrow (and so Parquet) schema of ``Event``, derived from the pydantic model: one source of truth.

Field order and nesting follow the model. Timestamps are ``timestamp[us, UTC]``; enums and the compact
JSON fields are strings; lists of models are lists of structs.
"""

from __future__ import annotations

import types
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

import pyarrow as pa
from pydantic import AwareDatetime, BaseModel

from schemas.event import Event

TIMESTAMP = pa.timestamp("us", tz="UTC")


def _arrow_type(annotation: Any, in_nullable: bool = False) -> tuple[pa.DataType, bool]:
    """(Arrow type, nullable) for a pydantic field annotation.

    A field is required only where every struct above it is required too: a null parent with a
    required child is a contradiction Arrow's readers reject.
    """
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unsupported union {annotation!r}")
        t, _ = _arrow_type(args[0], True)
        return t, True
    if origin is list:
        (item,) = get_args(annotation)
        t, _ = _arrow_type(item, True)
        return pa.list_(pa.field("item", t, nullable=True)), in_nullable
    if origin is Literal:
        return pa.string(), in_nullable
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return pa.struct(_fields(annotation, in_nullable)), in_nullable
        if issubclass(annotation, Enum):
            return pa.string(), in_nullable
        if issubclass(annotation, bool):
            return pa.bool_(), in_nullable
        if issubclass(annotation, int):
            return pa.int64(), in_nullable
        if issubclass(annotation, float):
            return pa.float64(), in_nullable
        if issubclass(annotation, str):
            return pa.string(), in_nullable
        if issubclass(annotation, datetime) or annotation is AwareDatetime:
            return TIMESTAMP, in_nullable
    raise TypeError(f"no Arrow type for {annotation!r}")


def _fields(model: type[BaseModel], in_nullable: bool = False) -> list[pa.Field]:
    out = []
    for name, info in model.model_fields.items():
        t, nullable = _arrow_type(info.annotation, in_nullable)
        out.append(pa.field(name, t, nullable=nullable))
    return out


@cache
def arrow_schema() -> pa.Schema:
    from schemas.event import SCHEMA_VERSION

    return pa.schema(_fields(Event), metadata={"cloudaudit.schema_version": SCHEMA_VERSION})


def _ts(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows decoded from canonical event JSON (``orjson.loads(event.model_dump_json())``) to a table.

    Only the timestamp fields need converting from text; everything else maps as it is.
    """
    for row in rows:
        w = row.get("when")
        if w:
            w["time"] = _ts(w.get("time"))
            if w.get("observed") is not None:
                w["observed"] = _ts(w["observed"])
            if w.get("ingested") is not None:
                w["ingested"] = _ts(w["ingested"])
        s = (row.get("who") or {}).get("session")
        if s and s.get("created") is not None:
            s["created"] = _ts(s["created"])
    return pa.Table.from_pylist(rows, schema=arrow_schema())


def schema_text() -> str:
    """The schema as stable text (checked in as schemas/generated/event.arrow.txt), every nested type in
    full (pyarrow cuts a line at 100 characters by default)."""
    return arrow_schema().to_string(
        show_field_metadata=False, show_schema_metadata=True, element_size_limit=1 << 20
    ) + "\n"


def table_from_json_lines(blob: bytes, use_threads: bool = False) -> pa.Table:
    """Newline-delimited canonical event JSON to a table, in Arrow's C++ JSON reader.

    Faster than ``to_table`` for large batches (no Python object per field); missing keys are nulls, an
    unknown key is an error (the canonical JSON never has one).
    """
    import io

    import pyarrow.json as pj

    table = pj.read_json(
        io.BytesIO(blob),
        read_options=pj.ReadOptions(use_threads=use_threads, block_size=1 << 22),
        parse_options=pj.ParseOptions(explicit_schema=arrow_schema(), unexpected_field_behavior="error"),
    )
    # The JSON reader makes every field nullable; the cast restores the schema's required fields (and
    # fails if a required one is missing), so the table matches what the Parquet writer was opened with.
    return table.cast(arrow_schema())
