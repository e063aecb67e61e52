"""docs/mapping.md is generated from the mapping tables and names only schema paths that exist."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from connectors.mapping_docs import DOC, FIELDS, render
from schemas.event import Event


def _has_path(model: type[BaseModel], path: str) -> bool:
    node: Any = model
    for part in path.split("."):
        fields = getattr(node, "model_fields", None)
        if fields is None or part not in fields:
            return False
        annotation = fields[part].annotation
        node = next((a for a in getattr(annotation, "__args__", (annotation,)) if hasattr(a, "model_fields")),
                    annotation)
        if hasattr(annotation, "__args__") and not hasattr(node, "model_fields"):
            inner = [a for arg in annotation.__args__ for a in getattr(arg, "__args__", (arg,))]
            node = next((a for a in inner if hasattr(a, "model_fields")), node)
    return True


def test_docs_mapping_md_is_what_the_tables_generate() -> None:
    assert DOC.read_text("utf-8") == render(), "docs/mapping.md is stale: run python -m connectors.mapping_docs"


def test_every_schema_path_in_the_field_tables_exists() -> None:
    for cloud, rows in FIELDS.items():
        for _source, paths, _rule in rows:
            for path in paths.split(", "):
                assert _has_path(Event, path), f"{cloud}: {path} is not a schema path"


def test_a_wrong_path_is_caught() -> None:
    assert not _has_path(Event, "who.actor.nickname")
    assert _has_path(Event, "what.privilege_changes")
