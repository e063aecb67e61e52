"""Reference data for the enrichment tests: the files in enrichers/testdata and MaxMind databases built
here with mmdb-writer (no binary in the repository, nothing downloaded)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from connectors.normalize import Normalizer
from enrichers.catalog import Catalog
from enrichers.chain import REGISTRY, Chain
from enrichers.config import EnrichmentConfig
from enrichers.context import CatalogEnricher  # noqa: F401  (every enricher registered, for the check below)
from schemas.event import Event
from schemas.fastpath import Doc, dumps
from tests.conftest import ROOT

T = TypeVar("T")

REF = ROOT / "enrichers" / "testdata"
HERE = Path(__file__).resolve().parent / "testdata"


@pytest.fixture(scope="session")
def mmdbs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    pytest.importorskip("mmdb_writer", reason="mmdb-writer is needed to build the test MaxMind databases")
    from enrichers.testdata.mmdb import build

    return build(tmp_path_factory.mktemp("mmdb"))


@pytest.fixture(scope="session")
def full_config(mmdbs: tuple[Path, Path]) -> EnrichmentConfig:
    city, asn = mmdbs
    return EnrichmentConfig(
        directory=str(REF / "directory.yaml"),
        inventory=str(REF / "inventory.yaml"),
        geoip_db=str(city),
        asn_db=str(asn),
        cloud_ranges=tuple(str(REF / n) for n in ("aws-ip-ranges.json", "gcp-cloud.json", "azure-service-tags.json")),
        internal_networks=(str(REF / "internal_networks.txt"),),
        indicators=str(REF / "indicators.txt"),
    )


def events_of(path: Path) -> list[Event]:
    out = [r for r in Normalizer().blob(path.read_bytes(), path.relative_to(ROOT).as_posix()) if isinstance(r, Event)]
    assert out, f"{path} gave no events"
    return out


def connector_events(name: str) -> Iterator[Event]:
    """Events of connectors' golden fixtures by file name (connectors/*/testdata/NAME; several connectors
    may have a fixture of that name)."""
    paths = sorted(ROOT.glob(f"connectors/*/testdata/{name}"))
    assert paths, name
    for path in paths:
        yield from events_of(path)


# --- enrichers work on canonical documents: every document they leave must still be canonical ---------


def _order(value: Any) -> Any:
    """The key order of a document, all the way down (dict equality ignores it; the fast path's
    serialization does not)."""
    if isinstance(value, dict):
        return [(k, _order(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_order(v) for v in value]
    return type(value).__name__


def assert_canonical(doc: Doc) -> None:
    """``doc`` is exactly what ``Event.model_validate(doc).model_dump()`` gives: the same values, types,
    key order and bytes (``schemas.fastpath.dumps`` against ``model_dump_json``)."""
    model = Event.model_validate(doc)
    again = model.model_dump()
    assert doc == again
    assert _order(doc) == _order(again)
    assert dumps(doc) == model.model_dump_json().encode()


def on_model(step: Callable[..., T], event: Event, *args: Any) -> T:
    """Run an enricher step (``Chain.apply``, ``Enricher.enrich``, ``Catalog.classify``: they take a
    canonical document) on ``event``'s document, check the result is canonical and write it back into
    ``event``, so a test can read the outcome as a model."""
    doc = event.model_dump()
    out = step(doc, *args)
    assert_canonical(doc)
    enriched = Event.model_validate(doc)
    for name in Event.model_fields:
        setattr(event, name, getattr(enriched, name))
    return out


def _checked(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(self: Any, doc: Any, *args: Any, **kwargs: Any) -> T:
        out = method(self, doc, *args, **kwargs)
        if isinstance(doc, dict):
            assert_canonical(doc)
        return out

    return wrapper


@pytest.fixture(scope="session", autouse=True)
def every_enriched_document_is_canonical() -> Iterator[None]:
    """Every document an enricher, the chain or the catalog changes in these tests (the demo reference
    data and the scenario included) is checked with ``assert_canonical`` right after the change."""
    mp = pytest.MonkeyPatch()
    mp.setattr(Chain, "apply", _checked(Chain.apply))
    mp.setattr(Catalog, "classify", _checked(Catalog.classify))
    for cls in REGISTRY.values():
        mp.setattr(cls, "enrich", _checked(cls.enrich))
    yield
    mp.undo()
