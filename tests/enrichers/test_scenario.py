"""The "done when" scenario: one person in three clouds.

alice@example.com (1) uses the AWSReservedSSO_AdministratorAccess permission set, session ``alice``, to
attach AdministratorAccess to a role, (2) impersonates a service account in GCP to make herself owner of
a project, (3) writes an Owner role assignment in Azure. Normalized and enriched, all three events name
the same ``who.person``, their account's context, and the catalog's risk tags.

The raw records (``testdata/scenario_*.json``) sit beside the expected enriched events
(``scenario.expected.json``); ``UPDATE_GOLDEN=1`` rewrites the expectation (review the diff like code).
"""

from __future__ import annotations

import os
from collections import Counter

import orjson

from enrichers.config import EnrichmentConfig
from enrichers.context import load_context
from tests.enrichers.conftest import HERE, events_of
from tests.golden import comparable, dump

EXPECTED = HERE / "scenario.expected.json"
FIXTURES = [HERE / f"scenario_{cloud}.json" for cloud in ("aws", "gcp", "azure")]


def test_same_person_account_context_and_risk_tags_in_three_clouds(full_config: EnrichmentConfig) -> None:
    ctx = load_context(full_config)
    counts: Counter[str] = Counter()
    events = [ctx.enrich(e, counts) for path in FIXTURES for e in events_of(path)]
    got = [comparable(e) for e in events]
    if os.environ.get("UPDATE_GOLDEN") == "1" or not EXPECTED.exists():
        EXPECTED.write_bytes(dump(got))
    assert got == orjson.loads(EXPECTED.read_bytes()), "scenario differs from scenario.expected.json"

    aws, gcp, azure = events
    assert [e.where.provider for e in events] == ["aws", "gcp", "azure"]
    # one person, found by three different identifiers
    persons = [e.who.person for e in events]
    assert all(p is not None and p.known for p in persons)
    assert {p.id for p in persons if p} == {"P-1001"}
    assert all(p is not None and p.privileged and p.email == "alice@example.com" for p in persons)
    # each event's account is known, and is production
    contexts = [e.where.account_context for e in events]
    assert [(c.id, c.environment, c.known) for c in contexts if c] == [
        ("111122223333", "prod", True), ("acme-prod", "prod", True),
        ("5f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "prod", True),
    ]
    assert [c.criticality for c in contexts if c] == ["critical", "critical", "high"]
    # the catalog says each one grants privileges
    assert all("iam.privilege_grant" in e.what.risk_tags for e in events)
    assert all(e.what.category == "iam" for e in events)
    # where they came from
    assert aws.where.source.geo is not None and aws.where.source.geo.country == "DE"
    assert (azure.where.source.cloud_provider, azure.where.source.asn) == ("azure", 8075)
    assert gcp.who.delegation[0].email == "alice@example.com"
    assert counts["enrich/identity/hit"] == counts["enrich/account/hit"] == counts["enrich/catalog/hit"] == 3
