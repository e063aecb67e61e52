"""The JSON Schema of ``Event``, derived from the pydantic model (checked in under schemas/generated/)."""

from __future__ import annotations

from typing import Any

import orjson

from schemas.event import SCHEMA_VERSION, Event


def json_schema() -> dict[str, Any]:
    schema = Event.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://cloudaudit.dev/schemas/event/v{SCHEMA_VERSION}.json"
    return schema


def json_schema_text() -> str:
    return orjson.dumps(json_schema(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
