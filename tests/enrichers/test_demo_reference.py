"""The demo's enrichment reference data (examples/reference/, used by `make demo`) stays true to samples/.

Every identifier in the reference files was taken from the bundled samples (sampledata/, seed 7). When the generator changes, this test says so: the person who acts in
all three clouds must still be found in each of them, every sample account/project/subscription must be
in the inventory, and the demo's indicators and internal networks must still match sample addresses.
Plain functions over the files (the connectors' Normalizer and the enrichment context), no Beam.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from connectors.normalize import Normalizer
from enrichers.config import EnrichmentConfig
from enrichers.context import load_context
from schemas.event import Event
from tests.conftest import ROOT

CONFIG = ROOT / "examples" / "reference" / "enrichment.yaml"
SAMPLES = ROOT / "samples"
CROSS_CLOUD_PERSON = "P-2001"  # Fatima Schmidt: IAM Identity Center session, user:..., Entra object id


@pytest.fixture(scope="module")
def enriched() -> tuple[list[Event], Counter[str]]:
    config = EnrichmentConfig.from_file(str(CONFIG))
    ctx = load_context(config)
    normalizer = Normalizer()
    counts: Counter[str] = Counter()
    events: list[Event] = []
    for path in sorted(p for p in SAMPLES.rglob("*") if p.is_file()):
        for record in normalizer.blob(path.read_bytes(), path.relative_to(ROOT).as_posix()):
            if isinstance(record, Event):
                events.append(ctx.enrich(record, counts))
    assert len(events) > 500, "samples/ gave too few events"
    return events, counts


def test_config_paths_resolve_from_the_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # as `make demo` runs it
    config = EnrichmentConfig.from_file("examples/reference/enrichment.yaml")
    for path in (config.directory, config.inventory, config.indicators, *config.cloud_ranges,
                 *config.internal_networks):  # fmt: skip
        assert path and Path(path).is_file(), path
    assert config.geoip_db is None and config.asn_db is None  # no MaxMind binary in the repository


def test_one_person_in_all_three_clouds(enriched: tuple[list[Event], Counter[str]]) -> None:
    events, counts = enriched
    clouds: dict[str, set[str]] = defaultdict(set)
    for e in events:
        if e.who.person is not None and e.who.person.known:
            clouds[e.who.person.id or ""].add(e.where.provider)
    # ... and signs in through both identity planes
    assert clouds[CROSS_CLOUD_PERSON] == {"aws", "gcp", "azure", "entra", "google_workspace"}
    person = next(e.who.person for e in events if e.who.person and e.who.person.id == CROSS_CLOUD_PERSON)
    assert person is not None
    assert (person.name, person.email, person.privileged) == (
        "Fatima Schmidt",
        "fatima.schmidt@example.com",
        True,
    )
    # every directory entry is seen somewhere in the samples (no stale identities in the demo data)
    assert set(clouds) == {"P-2001", "P-2002", "P-2003", "P-2004", "P-2005", "S-0001", "S-0002"}
    assert counts["enrich/identity/hit"] > 0 and counts["enrich/identity/error"] == 0


def test_every_sample_event_gets_account_context(enriched: tuple[list[Event], Counter[str]]) -> None:
    events, counts = enriched
    # Workspace activities shared into Cloud Logging name no customer: they have no account to look up.
    no_account = [e for e in events if e.where.account is None]
    assert {e.source.format for e in no_account} <= {"google_workspace.audit"}
    events = [e for e in events if e.where.account is not None]
    missing = sorted({(e.where.provider, e.where.account) for e in events
                      if e.where.account_context is None or not e.where.account_context.known})  # fmt: skip
    assert missing == [], f"accounts of the samples not in examples/reference/inventory.yaml: {missing}"
    envs = {
        (e.where.provider, e.where.account_context.environment) for e in events if e.where.account_context
    }
    assert {("aws", "prod"), ("aws", "staging"), ("aws", "dev"), ("gcp", "prod"), ("azure", "prod")} <= envs
    assert counts["enrich/account/hit"] == len(events)
    assert counts["enrich/account/none"] == len(no_account)


def test_network_reference_hits_sample_addresses(enriched: tuple[list[Event], Counter[str]]) -> None:
    events, _ = enriched
    threats = {
        e.where.source.ip: tuple(e.where.source.threat_tags) for e in events if e.where.source.threat_tags
    }
    assert threats == {"198.51.100.104": ("bruteforce", "scanner"), "203.0.113.88": ("tor_exit",)}
    assert any(e.where.source.internal for e in events)
    assert {e.where.source.cloud_provider for e in events} >= {"aws", "azure"}
    assert any(e.what.risk_tags for e in events)  # the bundled action catalog runs too
