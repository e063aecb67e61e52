"""Shared fixtures of the projection tests: the demo samples' and the corpus' events, and the schemas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.normalize import Normalizer
from schemas.event import Event
from schemas.projections.tables import API_ACTIVITY
from schemas.projections.validate import SchemaUnavailable, ecs_fields, ocsf_validator

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def events_under(root: Path, skip: tuple[str, ...] = ("malformed",)) -> Iterator[Event]:
    norm = Normalizer()
    for path in sorted(root.rglob("*")):
        if path.is_file() and not (set(skip) & set(path.relative_to(root).parts)) and path.name != "PROVENANCE.md":
            for r in norm.blob(path.read_bytes(), path.relative_to(root).as_posix()):
                if isinstance(r, Event):
                    yield r


@pytest.fixture(scope="session")
def sample_events() -> list[Event]:
    events = list(events_under(SAMPLES))
    assert events, "no events in samples/"
    return events


@pytest.fixture(scope="session")
def corpus_events(corpus_dir: Path) -> list[Event]:
    events = list(events_under(corpus_dir))
    assert events, "no events in the corpus"
    return events


@pytest.fixture(scope="session")
def ocsf_schema() -> None:
    try:
        ocsf_validator(API_ACTIVITY)
    except SchemaUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def ecs_schema() -> None:
    try:
        ecs_fields()
    except SchemaUnavailable as exc:
        pytest.skip(str(exc))
