"""The validation fast path: the Event schema checked on plain dicts, without building models.

``Event.model_validate`` costs more than mapping itself (10 to 23 us per record on the shared corpus) and
builds about fifteen model instances that a pipeline stage which only serializes the event never uses.
The fast path validates a mapper's dict with pydantic-core's own ``SchemaValidator``, on a core schema
derived from ``Event``'s: the same fields, types, defaults, vocabulary checks and ``extra='forbid'``, with
each model replaced by the equivalent typed dict. What comes out is a *canonical document*: a plain dict
with every field of the model, in the model's order, defaults filled in, exactly what
``Event.model_validate(d).model_dump()`` gives; ``dumps(doc)`` is byte for byte ``model_dump_json()``.

Pydantic stays the schema's source of truth: the validator is derived from the model when first used,
never written by hand, and the checks are pydantic's own (in Rust). ``tests/schemas/test_fastpath.py``
checks that the two agree on every golden fixture and on 10,000 generated records per connector.

Measured (``benchmarks/bench_validate.py``): about 0.5 to 0.8 of ``model_validate`` per event, plus orjson
serialization of the document instead of pydantic's. A generated plain-Python checker was tried as well
(same results within the noise of this machine, 250 more lines to keep): the library's validator won.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator

Doc = dict[str, Any]
JSON_OPTIONS = orjson.OPT_UTC_Z  # pydantic writes UTC as "Z", orjson as "+00:00" unless told


def dumps(doc: Doc) -> bytes:
    """A canonical document as ``model_dump_json`` bytes."""
    return orjson.dumps(doc, option=JSON_OPTIONS)


def document_schema(schema: Any) -> Any:
    """A pydantic-core schema with every model schema replaced by the equivalent typed-dict schema: the
    same fields, defaults and validators, plain dicts out (fields in the model's order)."""
    if isinstance(schema, list):
        return [document_schema(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "model":
        inner = schema["schema"]
        if inner.get("type") != "model-fields":
            raise TypeError(f"{schema.get('cls')}: model validators are not supported by the document schema")
        fields = {}
        for name, field in inner["fields"].items():
            sub = document_schema(field["schema"])
            fields[name] = {"type": "typed-dict-field", "schema": sub, "required": sub.get("type") != "default"}
        extra = schema.get("config", {}).get("extra_fields_behavior", "ignore")
        out = {"type": "typed-dict", "fields": fields, "extra_behavior": extra}
        if "ref" in schema:  # a model used in several places is a shared definition
            out["ref"] = schema["ref"]
        return out
    factory = schema.get("default_factory")
    if schema.get("type") == "default" and isinstance(factory, type) and issubclass(factory, BaseModel):
        # A nested model's default (``default_factory=Actor``): its document, not an instance.
        schema = {**schema, "default_factory": _document_of(factory)}
    return {k: document_schema(v) for k, v in schema.items()}


def _document_of(model: type[BaseModel]) -> Callable[[], Doc]:
    def make() -> Doc:
        return model().model_dump()

    return make


def document_validator(model: type[BaseModel]) -> SchemaValidator:
    """The document validator of ``model`` (derived from its core schema)."""
    return SchemaValidator(document_schema(model.__pydantic_core_schema__))


@cache
def event_validator() -> SchemaValidator:
    """The document validator of ``schemas.event.Event`` (built on first use, a few ms)."""
    from schemas.event import Event

    return document_validator(Event)


def canonical(d: Any) -> Doc:
    """``d`` as a canonical event document; raises ``pydantic.ValidationError`` for an invalid event."""
    doc: Doc = event_validator().validate_python(d)
    return doc


def event_document(d: Any) -> Doc:
    """``d`` as a canonical event document, as the pipeline takes it: the document validator, and where it
    refuses, the model decides (its document, or its own ``ValidationError``, whose text the dead letter
    gives as without documents). The two agree (tests/schemas/test_fastpath.py); this keeps that true
    wherever they could not."""
    try:
        return canonical(d)
    except ValidationError:
        from schemas.event import Event

        return Event.model_validate(d).model_dump()

