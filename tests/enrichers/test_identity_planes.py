"""One person across the identity planes and the clouds: an Entra sign-in, an Azure role assignment, a
Workspace login and a GCP SetIamPolicy all carry the same ``who.person.id``; privileged roles are flagged.

Every record here is written for the test (the Entra and Workspace ones are the connectors' fixtures)."""

from __future__ import annotations

from pathlib import Path

import orjson

from connectors.normalize import Normalizer
from enrichers.identity import Directory, IdentityEnricher
from schemas.event import Event
from tests.enrichers.conftest import on_model

ROOT = Path(__file__).resolve().parents[2]
OID = "a0d1e2f3-0000-4000-8000-00000000da4a"
UPN = "dana.reyes@contoso-test.example"
TENANT = "5f1c2d3e-0a4b-4c6d-8e9f-a0b1c2d3e4f5"

DIRECTORY = b"""
privileged_roles: [62e90394-69f5-4237-9190-012177145e10, _SEED_ADMIN_ROLE, roles/owner]
identities:
  - id: P-0042
    kind: person
    name: Dana Reyes
    email: dana@acme-test.example
    privileged: true
    entra_object_ids: [a0d1e2f3-0000-4000-8000-00000000da4a]
    entra_upns: [dana.reyes@contoso-test.example]
    workspace_emails: [dana.reyes@contoso-test.example]
    gcp_principals: [user:dana@acme-test.example]
  - id: P-0001
    kind: person
    name: Ola Admin
    email: ola.admin@contoso-test.example
"""

AZURE_ROLE_ASSIGNMENT = {
    "time": "2025-01-14T08:15:00.0000000Z",
    "resourceId": "/subscriptions/0c0ffee0-1111-4222-8333-944455566677/providers/Microsoft.Authorization/"
    "roleAssignments/7d1e0000-0000-4000-8000-000000000001",
    "operationName": "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", "category": "Administrative",
    "resultType": "Success", "resultSignature": "Succeeded.Created", "callerIpAddress": "198.51.100.23",
    "correlationId": "3c3c3c3c-0000-4000-8000-000000000001", "level": "Information", "location": "global",
    "identity": {"claims": {
        "http://schemas.microsoft.com/identity/claims/objectidentifier": OID,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": UPN,
        "http://schemas.microsoft.com/identity/claims/tenantid": TENANT,
        "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "name": "Dana Reyes"}},
    "properties": {"requestbody": "{\"Id\":\"7d1e0000-0000-4000-8000-000000000001\",\"Properties\":{"
                   "\"PrincipalId\":\"b1c20000-1111-4222-8333-0000000000f6\",\"PrincipalType\":\"User\","
                   "\"RoleDefinitionId\":\"/providers/Microsoft.Authorization/roleDefinitions/"
                   "b24988ac-6180-42a0-ab88-20f7382dd24c\"}}"},
}
GCP_SET_IAM_POLICY = {
    "protoPayload": {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "authenticationInfo": {"principalEmail": "dana@acme-test.example"},
        "requestMetadata": {"callerIp": "198.51.100.23", "callerSuppliedUserAgent": "google-cloud-sdk gcloud/502.0.0"},
        "serviceName": "cloudresourcemanager.googleapis.com", "methodName": "SetIamPolicy",
        "resourceName": "projects/acme-test-prod",
        "serviceData": {"@type": "type.googleapis.com/google.iam.v1.logging.AuditData", "policyDelta": {
            "bindingDeltas": [{"action": "ADD", "role": "roles/owner", "member": "user:temp@acme-test.example"}]}},
    },
    "insertId": "t1x9q2", "resource": {"type": "project", "labels": {"project_id": "acme-test-prod"}},
    "timestamp": "2025-01-14T09:00:00.000000Z", "severity": "NOTICE",
    "logName": "projects/acme-test-prod/logs/cloudaudit.googleapis.com%2Factivity",
}


def _fixture(connector: str, name: str) -> list[Event]:
    data = (ROOT / "connectors" / connector / "testdata" / name).read_bytes()
    return [r for r in Normalizer().blob(data, name) if isinstance(r, Event)]


def _one(record: dict) -> Event:
    [e] = list(Normalizer().blob(orjson.dumps(record), "inline"))
    assert isinstance(e, Event), e
    return e


def test_the_same_person_through_entra_azure_workspace_and_gcp() -> None:
    enricher = IdentityEnricher(Directory.from_bytes(DIRECTORY, "directory.yaml"))
    [entra] = _fixture("entra_id", "signin_mfa_success@eventhub.json")
    azure = _one(AZURE_ROLE_ASSIGNMENT)
    [workspace] = _fixture("google_workspace", "login_2sv_success@reports_api.json")
    gcp = _one(GCP_SET_IAM_POLICY)
    events = {"entra": entra, "azure": azure, "workspace": workspace, "gcp": gcp}
    assert [e.source.format for e in events.values()] == [
        "entra.id", "azure.activity", "google_workspace.audit", "gcp.audit"]
    for name, e in events.items():
        assert on_model(enricher.enrich, e) == "hit", name
        assert e.who.person is not None and e.who.person.id == "P-0042", name
        assert e.who.person.privileged is True, name
    assert entra.what.action == "entra:SignIn" and workspace.what.activity == "login"


def test_privileged_role_grants_are_tagged_from_the_directory() -> None:
    enricher = IdentityEnricher(Directory.from_bytes(DIRECTORY, "directory.yaml"))
    [role] = _fixture("entra_id", "role_assigned_to_user.jsonl")
    [ws_role] = _fixture("google_workspace", "role_assigned_to_user.jsonl")
    [pw] = _fixture("entra_id", "signin_wrong_password.jsonl")
    trace: list = []
    for e in (role, ws_role, pw):
        on_model(enricher.enrich, e, trace)
    assert "privileged_role_granted" in role.what.risk_tags
    assert "privileged_role_granted" in ws_role.what.risk_tags
    assert "privileged_role_granted" not in pw.what.risk_tags
    assert role.who.person is not None and role.who.person.id == "P-0001"
    assert any(x.field == "what.risk_tags" for x in trace)
