"""Entra ID records on the Azure transports: what the issue saw mis-mapped, and what stays Azure's."""

from __future__ import annotations

from pathlib import Path

import orjson

from connectors.normalize import Normalizer
from schemas.event import Event

TESTDATA = Path(__file__).resolve().parents[2] / "connectors" / "entra_id" / "testdata"


def _events(name: str) -> list[Event]:
    return [r for r in Normalizer().blob((TESTDATA / name).read_bytes(), name) if isinstance(r, Event)]


def test_event_hub_sign_in_is_entra_with_success_user_and_no_region() -> None:
    [e] = _events("signin_mfa_success@eventhub.json")
    assert e.source.format == "entra.id" and e.source.shape == "diagnostic_record"
    assert e.what.outcome == "success"  # resultType "0"
    assert e.where.region is None and e.how.auth is not None and e.how.auth.location is not None
    assert e.how.auth.location.country == "US"
    assert e.who.actor.email == "dana.reyes@contoso-test.example"


def test_other_resource_logs_with_an_entra_like_category_stay_with_the_azure_connector() -> None:
    kv = {"time": "2025-01-14T10:00:00Z", "category": "AuditLogs", "operationName": "VaultGet",
          "resourceId": "/SUBSCRIPTIONS/00000000-0000-4000-8000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/"
          "MICROSOFT.KEYVAULT/VAULTS/KV1", "resultType": "Success", "properties": {"id": "x"}}
    [r] = list(Normalizer().blob(orjson.dumps({"records": [kv]}), "mixed"))
    assert isinstance(r, Event) and r.source.format == "azure.activity"


def test_failed_and_blocked_sign_ins_say_why() -> None:
    [pw] = _events("signin_wrong_password.jsonl")
    assert pw.what.outcome == "failure" and pw.what.error is not None and pw.what.error.code == "50126"
    [ca] = _events("signin_blocked_by_conditional_access.jsonl")
    assert ca.how.auth is not None and ca.how.auth.conditional_access == "failure"
    assert "conditional_access_blocked" in ca.what.risk_tags
