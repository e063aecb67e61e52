"""Enrichers work on canonical documents (``schemas.fastpath``) and leave them canonical.

The pipeline carries events from the normalizer to the spill as plain dicts, and serializes them with
orjson, not pydantic: so what an enricher sets must be exactly what ``model_dump()`` of the sub-model
gives (types, key order), or the SIEM line and the Parquet row would change. Checked here on every event
of the connectors' golden fixtures (with every enricher and its test reference data) and of the bundled
samples (with the demo's reference data); ``conftest.every_enriched_document_is_canonical`` checks the
same after every enricher call in the other enrichment tests.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from connectors.normalize import Normalizer
from enrichers.config import EnrichmentConfig
from enrichers.context import load_context
from enrichers.resources import AccountEnricher, ResourceTagsEnricher
from schemas.event import Event
from tests.conftest import ROOT
from tests.enrichers.conftest import assert_canonical
from tests.golden import fixtures

SAMPLES = ROOT / "samples"


def _documents(paths: list[Path]) -> list[tuple[str, dict]]:
    normalizer = Normalizer(documents=True)
    out = []
    for path in paths:
        where = path.relative_to(ROOT).as_posix()
        out.extend((where, r) for r in normalizer.blob(path.read_bytes(), where) if isinstance(r, dict))
    return out


def _enrich_all(config: EnrichmentConfig, docs: list[tuple[str, dict]]) -> Counter[str]:
    ctx = load_context(config)
    counts: Counter[str] = Counter()
    for where, doc in docs:
        ctx.chain.apply(doc, counts)
        try:
            assert_canonical(doc)
        except AssertionError as exc:
            raise AssertionError(f"{where}: enriched document is not canonical") from exc
    return counts


def test_every_golden_fixture_event_stays_canonical(full_config: EnrichmentConfig) -> None:
    docs = _documents(fixtures())
    assert len(docs) > 150
    counts = _enrich_all(full_config, docs)
    for name in ("identity", "account", "network", "catalog"):  # every enricher set something
        assert counts[f"enrich/{name}/hit"] > 0, name
    assert counts["enrich/resource_tags/hit"] + counts["enrich/resource_tags/request"] > 0


def test_every_sample_event_stays_canonical_with_the_demo_reference(mmdbs: tuple[Path, Path]) -> None:
    config = EnrichmentConfig.from_file(str(ROOT / "examples" / "reference" / "enrichment.yaml"))
    config = config.merged(geoip_db=str(mmdbs[0]), asn_db=str(mmdbs[1]))
    docs = _documents(sorted(p for p in SAMPLES.rglob("*") if p.is_file()))
    assert len(docs) > 500
    counts = _enrich_all(config, docs)
    assert counts["enrich/identity/hit"] > 0 and counts["enrich/network/hit"] > 0


def test_shared_reference_documents_are_copied_per_event() -> None:
    """Two events enriched from the same reference entry do not share its dicts: changing one event's
    document after enrichment must not change the other's (or the next event's)."""
    from enrichers.resources import Inventory
    from tests.enrichers.conftest import REF, connector_events

    inventory = Inventory.from_bytes((REF / "inventory.yaml").read_bytes(), "inventory.yaml")
    enrichers = [AccountEnricher(inventory), ResourceTagsEnricher(inventory)]
    events = [e.model_dump() for e in connector_events("caller_identities.jsonl")]
    for doc in events:
        for enricher in enrichers:
            enricher.enrich(doc)
    contexts = [d["where"]["account_context"] for d in events if d["where"]["account_context"]]
    assert len(contexts) > 1 and len({id(c) for c in contexts}) == len(contexts)
    tags = [d["what"]["resources"][0]["tags"] for d in events if d["what"]["resources"] and d["what"]["resources"][0]["tags"]]
    assert len(tags) > 1 and tags[0] is not tags[1] and tags[0][0] is not tags[1][0]


@pytest.mark.parametrize("name", ["who.person", "where.account_context"])
def test_apply_event_returns_a_model_and_leaves_the_input_alone(full_config: EnrichmentConfig, name: str) -> None:
    from tests.enrichers.conftest import connector_events

    ctx = load_context(full_config)
    [event, *_] = connector_events("rest_api_event.json")
    before = event.model_dump()
    enriched = ctx.enrich(event, Counter())
    assert isinstance(enriched, Event) and event.model_dump() == before
    head, field = name.split(".")
    assert getattr(getattr(enriched, head), field) is not None
