"""docs/schema.md lists every field of the model, is what the generator makes today, and tells the
truth about where each field lands in OCSF and ECS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from schemas.event import Event
from schemas.projections import project
from schemas.projections import reference as ref
from schemas.projections.tables import FIELD_TARGETS, field_targets

TESTDATA = Path(__file__).parent / "testdata"


def test_docs_schema_md_is_current() -> None:
    assert ref.DOC.read_text() == ref.render(), "docs/schema.md is stale: run make schemas"


def test_every_field_is_described_and_has_both_targets() -> None:
    for f in ref.fields():
        assert f.description, f"{f.path} has no description on the model"
    missing = [p for p in ref.leaf_paths() if field_targets(p) is None]
    assert not missing, f"fields without OCSF/ECS targets in tables.FIELD_TARGETS: {missing}"
    paths = set(ref.leaf_paths())
    stale = [k for k in FIELD_TARGETS if not (k in paths or any(p.startswith(k[:-1]) for p in paths))]
    assert not stale, f"FIELD_TARGETS entries for fields that do not exist: {stale}"


def test_the_page_lists_every_field() -> None:
    text = ref.DOC.read_text()
    for f in ref.fields():
        assert f"`{f.path}`" in text or f"**{f.path}**" in text, f.path


def _simple_target(text: str) -> str | None:
    """The first target when it is a plain attribute path (skips described or computed ones)."""
    first = text.split(";")[0].split(",")[0].split(" (")[0].strip()
    if not first or any(c in first for c in "[]*/ ") or first == "class":
        return None
    return first


def _resolve(doc: Any, path: str) -> list[Any]:
    values = [doc]
    for part in path.split("."):
        nxt = []
        for v in values:
            for item in v if isinstance(v, list) else [v]:
                if isinstance(item, dict) and part in item:
                    nxt.append(item[part])
        values = nxt
    return [v for v in values if v not in (None, "", [], {})]


@pytest.mark.parametrize("case", sorted(p.name.removesuffix(".event.json") for p in TESTDATA.glob("*.event.json")))
def test_targets_are_where_the_projections_put_the_fields(case: str) -> None:
    event = Event.model_validate_json((TESTDATA / f"{case}.event.json").read_bytes())
    native = event.model_dump(mode="json", exclude_none=True)
    ocsf, ecs = project(event, "ocsf"), project(event, "ecs")
    checked = 0
    for path in ref.leaf_paths():
        if path == "raw" or not _resolve(native, path):
            continue
        targets = field_targets(path)
        assert targets is not None
        for doc, target in ((ocsf, targets[0]), (ecs, targets[1])):
            simple = _simple_target(target)
            if simple is None:
                continue
            checked += 1
            assert _resolve(doc, simple), f"{case}: {path} is documented at {simple}, which the projection leaves empty"
    assert checked > 20
