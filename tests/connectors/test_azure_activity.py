"""Azure Activity Logs connector: every wire shape, every special case, with exact field values.

The golden files (connectors/azure_activity/testdata) pin whole events; these tests state the rules.
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.azure_activity import CONNECTOR
from connectors.azure_activity.mapping import activity_of, region_from_location, status_word
from connectors.azure_activity.resource_id import parse_resource_id
from connectors.errors import NonEvent
from connectors.normalize import Normalizer
from schemas.deadletter import DeadLetter
from schemas.event import Event
from schemas.ids import event_id

TESTDATA = Path(__file__).resolve().parents[2] / "connectors" / "azure_activity" / "testdata"
TENANT = "b3f4c2a1-7d2e-4f6a-9c1b-2e8d5a7f0c11"
HOME_TENANT = "9e1d7c35-2b4a-4e8f-a6c0-3f5b8d2e1a74"
WORKSPACE = "0d8e6f4a-2c1b-4a3d-9e5f-7b6c8d9e0f13"
SUB = "5f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
USER_OID = "e2a4c6b8-1d3f-4a5c-9e7b-0c2d4f6a8b10"
SP_OID = "7c9e1a3b-5d7f-4b2a-8c4e-6a8b0d2f4c61"
SP_APPID = "3a5c7e9b-1d3f-4e6a-8b0c-2d4f6a8c0e52"
PORTAL = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
PWSH = "1950a258-227b-4e31-a9cf-717495945fc2"


def run(name: str) -> list[Any]:
    return list(Normalizer().blob((TESTDATA / name).read_bytes(), name))


def events(name: str) -> list[Event]:
    out = run(name)
    assert all(isinstance(r, Event) for r in out), [r for r in out if not isinstance(r, Event)]
    return out


def one(record: dict[str, Any], envelope: str | None = None) -> Any:
    (r,) = list(Normalizer().records([record], "test", envelope))
    return r


def diag(**over: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "time": "2025-05-28T09:00:00.1234567Z",
        "resourceId": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
        "operationName": "Microsoft.Compute/virtualMachines/write",
        "category": "Administrative",
        "resultType": "Success",
        "resultSignature": "Succeeded.OK",
        "callerIpAddress": "203.0.113.9",
        "correlationId": "11111111-2222-4333-8444-555555555555",
        "level": "Information",
        "location": "westeurope",
        "tenantId": TENANT,
    }
    rec.update(over)
    return rec


# --- wire shapes and envelopes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "shapes"),
    [
        ("eventhub_records_envelope.json", ["event_hub/diagnostic_record"]),
        ("storage_export_pt1h_jsonl.json", ["diagnostic_record"]),
        ("storage_export_pt1h_gzip.json.gz", ["diagnostic_record", "diagnostic_record"]),
        ("storage_export_records_per_line.json", ["event_hub/diagnostic_record"] * 2),
        ("rest_api_event.json", ["rest_api"]),
        ("rest_api_page.json", ["rest_api_page/rest_api"] * 2),
        ("log_analytics_rows.jsonl", ["log_analytics"]),
        ("log_analytics_query_response.json", ["log_analytics_query/log_analytics"]),
    ],
)
def test_wire_shapes_are_detected_per_record(fixture: str, shapes: list[str]) -> None:
    got = [r.source.shape for r in run(fixture) if isinstance(r, Event)]
    assert got == shapes
    for r in run(fixture):
        if isinstance(r, Event):
            assert r.source.format == "azure.activity"
            assert r.where.provider == "azure"


def test_az_cli_json_array_of_rest_events() -> None:
    doc = orjson.loads((TESTDATA / "rest_api_page.json").read_bytes())["value"]
    out = list(Normalizer().blob(orjson.dumps(doc), "az-cli.json"))
    assert [r.source.shape for r in out] == ["json_array/rest_api"] * 2


def test_mixed_shapes_in_one_stream() -> None:
    rest = orjson.loads((TESTDATA / "rest_api_event.json").read_bytes())
    la = orjson.loads((TESTDATA / "log_analytics_rows.jsonl").read_bytes().splitlines()[1])
    out = list(Normalizer().records([diag(), rest, la], "mixed"))
    assert [r.source.shape for r in out] == ["diagnostic_record", "rest_api", "log_analytics"]


@pytest.mark.parametrize(
    "doc",
    [
        {"records": []},
        {"value": [], "nextLink": None},
        {"tables": [{"name": "PrimaryResult", "columns": [], "rows": []}]},
    ],
)
def test_empty_envelopes_are_counted_non_events(doc: dict[str, Any]) -> None:
    (r,) = list(Normalizer().blob(orjson.dumps(doc), "empty.json"))
    assert isinstance(r, NonEvent)
    assert r.kind == "azure.activity.empty_envelope"


def test_malformed_log_analytics_tables_are_a_dead_letter() -> None:
    doc = {"tables": [{"name": "PrimaryResult", "columns": [{"type": "string"}], "rows": [["x"]]}]}
    (r,) = list(Normalizer().blob(orjson.dumps(doc), "bad.json"))
    assert isinstance(r, DeadLetter)
    assert r.code == "bad_envelope"
    assert "columns" in r.reason


def test_log_analytics_query_rows_become_dicts_and_dynamic_text_is_parsed() -> None:
    out = run("log_analytics_query_response.json")
    assert isinstance(out[0], NonEvent) and out[0].kind == "azure.activity.intermediate"
    ev = out[1]
    assert isinstance(ev, Event)
    # Claims_d and Properties_d came as JSON text in the query response
    assert ev.who.actor.id == SP_OID
    assert ev.how.request_id == "abcdef01-2345-4678-9abc-def012345678"


def test_claims_recognises_each_shape_and_nothing_else() -> None:
    assert CONNECTOR.claims(diag())
    assert CONNECTOR.claims(orjson.loads((TESTDATA / "rest_api_event.json").read_bytes()))
    assert CONNECTOR.claims({"OperationNameValue": "X", "TimeGenerated": "2025-01-01T00:00:00Z"})
    assert CONNECTOR.claims({"Type": "AzureActivity"})
    assert not CONNECTOR.claims(
        {"eventTime": "2025-01-01T00:00:00Z", "eventName": "ConsoleLogin", "eventSource": "x"}
    )
    assert not CONNECTOR.claims({"protoPayload": {}, "timestamp": "2025-01-01T00:00:00Z", "logName": "x"})


# --- ids ------------------------------------------------------------------------------------------------


def test_diagnostic_record_id_is_built_from_content() -> None:
    (ev,) = events("eventhub_records_envelope.json")
    assert ev.source.native_id is None
    rid = ev.what.resources[0].id
    assert ev.id == event_id(
        "azure.activity",
        None,
        "6e0f3b1a-9c2d-4e5f-8a7b-1c3d5e7f9a0b",
        "microsoft.authorization/roleassignments/write",
        "success",
        "2025-05-28T08:14:26.979277+00:00" + "6",
        rid.lower(),
    )


def test_native_id_is_event_data_id_and_rest_and_log_analytics_agree() -> None:
    rest, la = events("same_event_rest_and_log_analytics.jsonl")
    assert rest.source.native_id == la.source.native_id == "9d9d9d9d-0000-4000-8000-000000000001"
    # Succeeded vs Success, Microsoft.KeyVault/vaults/delete vs MICROSOFT.KEYVAULT/VAULTS/DELETE
    assert rest.id == la.id
    assert rest.what.action == la.what.action == "microsoft.keyvault:vaults/delete"
    assert rest.when.observed == la.when.observed == datetime(2025, 5, 28, 23, 30, 20, tzinfo=UTC)


def test_id_ignores_letter_case_and_status_spelling() -> None:
    a = one(diag(operationName="Microsoft.Compute/virtualMachines/write", resultType="Success"))
    b = one(
        diag(
            operationName="MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
            resultType="Succeeded",
            resourceId=diag()["resourceId"].upper(),
        )
    )
    assert a.id == b.id
    c = one(diag(time="2025-05-28T09:00:00.1234568Z"))  # one tick later: another event
    assert c.id != a.id


# --- what -------------------------------------------------------------------------------------------------


def test_action_is_the_same_whatever_the_case_in_the_source(corpus_dir: Path) -> None:
    lines = (
        (corpus_dir / "azure" / "panther_azure_monitoractivity_test_events.jsonl").read_bytes().splitlines()
    )
    a, b = (one(orjson.loads(line)) for line in lines[:2])
    assert a.what.operation == "Microsoft.Insights/actionGroups/delete"
    assert b.what.operation == "microsoft.insights/actiongroups/delete"
    assert a.what.action == b.what.action == "microsoft.insights:actiongroups/delete"
    assert a.what.service == "Microsoft.Insights"
    assert b.what.service == "microsoft.insights"  # as the source names it


@pytest.mark.parametrize(
    ("operation", "activity", "read_only"),
    [
        ("Microsoft.Storage/storageAccounts/listKeys/action", "read", True),
        ("microsoft.storage/storageaccounts/listkeys/action", "read", True),
        ("MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION", "read", True),
        ("Microsoft.KeyVault/vaults/secrets/getSecret/action", "read", True),
        ("Microsoft.Compute/virtualMachines/write", "update", False),
        ("Microsoft.Compute/virtualMachines/delete", "delete", False),
        ("Microsoft.Compute/virtualMachines/read", "read", True),
        ("Microsoft.KeyVault/vaults/keys/purge/action", "delete", False),
        ("Microsoft.Authorization/elevateAccess/action", "other", None),
        ("Microsoft.Storage/storageAccounts/regenerateKey/action", "other", None),
        ("GetBlob", "read", True),
        ("deleteblob", "delete", False),
    ],
)
def test_activity_from_operation_name(operation: str, activity: str, read_only: bool | None) -> None:
    assert activity_of(operation) == activity
    ev = one(diag(operationName=operation))
    assert ev.what.activity == activity
    assert ev.what.read_only is read_only


@pytest.mark.parametrize(
    ("operation", "category", "expected"),
    [
        ("Microsoft.Authorization/roleAssignments/write", "Administrative", "iam"),
        ("Microsoft.Authorization/locks/delete", "Administrative", "configuration"),
        ("Microsoft.Authorization/policyAssignments/write", "Administrative", "configuration"),
        ("Microsoft.KeyVault/vaults/delete", "Administrative", "encryption"),
        ("microsoft.insights/diagnosticSettings/delete", "Administrative", "logging"),
        (
            "Microsoft.Network/networkSecurityGroups/providers/Microsoft.Insights/diagnosticSettings/write",
            "Administrative",
            "logging",
        ),
        ("Microsoft.Network/virtualNetworks/delete", "Administrative", "network"),
        ("Microsoft.Compute/virtualMachines/write", "Administrative", "compute"),
        ("Microsoft.Storage/storageAccounts/write", "Administrative", "storage"),
        ("GetBlob", "StorageRead", "data_access"),
        ("Microsoft.Authorization/policies/audit/action", "Policy", "configuration"),
        ("Microsoft.Security/locations/alerts/activate/action", "Security", "other"),
        ("Microsoft.Advisor/recommendations/available/action", "Recommendation", "configuration"),
        ("Microsoft.Support/supportTickets/write", "Administrative", "other"),
    ],
)
def test_category_by_namespace_and_event_category(operation: str, category: str, expected: str) -> None:
    assert one(diag(operationName=operation, category=category)).what.category == expected


def test_request_and_response_bodies() -> None:
    as_text, as_object, empty = events("request_bodies.jsonl")
    assert as_text.what.request == (
        '{"properties":{"allowBlobPublicAccess":true,"networkAcls":{"defaultAction":"Allow"}}}'
    )
    assert as_text.what.response == '{"properties":{"provisioningState":"Succeeded"}}'
    assert (
        as_object.what.request
        == '{"properties":{"minimumTlsVersion":"TLS1_0","supportsHttpsTrafficOnly":false}}'
    )
    assert as_object.what.response == '{"properties":{"provisioningState":"Succeeded"}}'
    assert empty.what.request is None
    assert empty.what.response is None
    (rest,) = events("rest_api_event.json")
    assert orjson.loads(rest.what.request)["properties"]["destinationPortRange"] == "3389"
    assert " " not in rest.what.request  # compact


# --- outcomes: intermediate rows, terminal rows, non-operation categories ---------------------------------


@pytest.mark.parametrize("status", ["Start", "Started", "Accept", "Accepted", "In Progress", "InProgress"])
def test_intermediate_rows_are_non_events(status: str) -> None:
    r = one(diag(resultType=status))
    assert isinstance(r, NonEvent)
    assert r.kind == "azure.activity.intermediate"


def test_one_event_per_operation_linked_by_correlation_id() -> None:
    start, accept, success = run("storage_export_pt1h_jsonl.json")
    assert isinstance(start, NonEvent) and isinstance(accept, NonEvent)
    assert isinstance(success, Event)
    assert success.what.outcome == "success"
    assert success.how.correlation_id == "2b4d6f8a-0c1e-4a3b-9d5f-7e9a1b3c5d7f"
    rows = run("log_analytics_rows.jsonl")
    assert isinstance(rows[0], NonEvent)
    assert rows[1].how.correlation_id == "6f8b0d2e-4a6c-4e8f-a0b2-5c7e9a1b3d4f"


def test_status_words() -> None:
    assert status_word("Succeeded") == status_word("Success") == "success"
    assert status_word("Failed") == status_word("Failure") == "failure"
    assert status_word("Cancelled") == status_word("Canceled") == "canceled"
    assert status_word("Active") == "active"
    assert status_word(None) is None


def test_failures_carry_the_error() -> None:
    forbidden, canceled, conflict, not_found = events("failures.jsonl")
    assert forbidden.what.outcome == "failure"
    assert forbidden.what.error.code == "AuthorizationFailed"
    assert forbidden.what.error.message.startswith("The client 'adaeze.okafor@contoso.example' does not have")
    assert canceled.what.outcome == "failure"
    assert canceled.what.error.code == "Canceled"
    assert conflict.what.error.code == "InUseSubnetCannotBeDeleted"
    assert conflict.what.error.message == "Subnet default is in use and cannot be deleted."
    assert not_found.what.error.code == "NotFound"
    assert not_found.what.error.message == "Server 'sql-legacy' was not found."
    failed, ok = events("rest_api_page.json")
    assert failed.what.outcome == "failure"
    assert failed.what.error.code == "AuthorizationFailed"
    assert ok.what.outcome == "success"
    assert ok.what.error is None


def test_failure_without_status_message_uses_the_substatus() -> None:
    ev = one(diag(resultType="Failed", resultSignature="403"))
    assert ev.what.outcome == "failure"
    assert ev.what.error.code == "403"


def test_non_operation_categories() -> None:
    activated, resolved, service_health, resource_health, security, autoscale, audit, deny = events(
        "non_operation_categories.jsonl"
    )
    for ev in (activated, resolved, service_health, resource_health, security):
        assert ev.what.outcome == "unknown"
        assert ev.what.error is None
        assert ev.who.actor.type == "cloud_service"
        assert ev.how.client == "cloud_service"
    # ResourceHealth "InProgress" is a health state, not an intermediate row
    assert resource_health.source.log == "ResourceHealth"
    assert activated.who.actor.name == "Microsoft.Insights/alertRules"
    assert autoscale.what.outcome == "success"
    assert autoscale.what.category == "compute"
    assert audit.what.outcome == "success"
    assert audit.what.category == "configuration"
    assert audit.what.resources[0].region == "westeurope"  # properties.resourceLocation
    assert deny.what.outcome == "failure"
    assert deny.who.actor.email == "adaeze.okafor@contoso.example"


def test_storage_resource_logs_outcome_from_http_status() -> None:
    read, denied, write, _anonymous = events("storage_resource_logs.jsonl")
    assert read.what.outcome == "success"
    assert denied.what.outcome == "failure"
    assert denied.what.error.code == "AuthorizationPermissionMismatch"
    assert write.what.action == "microsoft.storage:putblob"
    assert read.what.action == "microsoft.storage:getblob"
    assert read.what.category == "data_access"


# --- resources and where ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rid", "sub", "rg", "rtype", "name"),
    [
        (
            "/SUBSCRIPTIONS/00000000-0000-0000-0000-111111111111/RESOURCEGROUPS/EXAMPLE-RG/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/X",
            "00000000-0000-0000-0000-111111111111",
            "EXAMPLE-RG",
            "MICROSOFT.STORAGE/STORAGEACCOUNTS",
            "X",
        ),
        (
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg1/securityRules/r1",
            SUB,
            "rg",
            "Microsoft.Network/networkSecurityGroups/securityRules",
            "r1",
        ),
        (
            f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments/9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
            SUB,
            None,
            "Microsoft.Authorization/roleAssignments",
            "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
        ),
        (f"/subscriptions/{SUB.upper()}", SUB, None, "Microsoft.Resources/subscriptions", SUB),
        (
            f"/subscriptions/{SUB}/resourcegroups/old-rg",
            SUB,
            "old-rg",
            "Microsoft.Resources/resourceGroups",
            "old-rg",
        ),
        (
            "/providers/Microsoft.Management/managementGroups/mg-platform",
            None,
            None,
            "Microsoft.Management/managementGroups",
            "mg-platform",
        ),
        (
            "/providers/Microsoft.Management/managementGroups/mg1/providers/Microsoft.Authorization/policyAssignments/pa1",
            None,
            None,
            "Microsoft.Authorization/policyAssignments",
            "pa1",
        ),
        (
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa/providers/Microsoft.Authorization/locks/DoNotDelete",
            SUB,
            "rg",
            "Microsoft.Authorization/locks",
            "DoNotDelete",
        ),
        ("/providers/Microsoft.Authorization", None, None, "Microsoft.Authorization", None),
        (
            "/TeNaNtS/ffffffff-aaaa-bbbb-cccc-dddddddddddd/PrOvIdErS/Microsoft.aadiam",
            None,
            None,
            "Microsoft.aadiam",
            None,
        ),
        (
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa/blobServices/default/containers",
            SUB,
            "rg",
            "Microsoft.Storage/storageAccounts/blobServices/containers",
            None,
        ),
    ],
)
def test_resource_id_forms(rid: str, sub: str | None, rg: str | None, rtype: str, name: str | None) -> None:
    p = parse_resource_id(rid)
    assert (p.subscription, p.resource_group, p.type, p.name) == (sub, rg, rtype, name)


def test_resources_and_where_from_the_resource_id() -> None:
    upper, nested, sub_level, rg, subscription, mg_policy, mg, provider = events("resource_id_forms.jsonl")
    r = upper.what.resources[0]
    assert (r.type, r.name, r.account, r.region) == (
        "MICROSOFT.STORAGE/STORAGEACCOUNTS",
        "STEXAMPLE01",
        SUB,
        None,
    )
    assert upper.where.region == "global"  # where Resource Manager processed it, not the resource's region
    assert upper.where.account == SUB  # lower-case even from /SUBSCRIPTIONS/<UPPER>
    assert nested.what.resources[0].type == "Microsoft.Network/networkSecurityGroups/securityRules"
    assert nested.what.resources[0].name == "r1"
    assert sub_level.what.resources[0].type == "Microsoft.Authorization/roleAssignments"
    assert sub_level.where.account == SUB
    assert rg.what.resources[0].type == "Microsoft.Resources/resourceGroups"
    assert subscription.what.resources[0].name == SUB
    assert mg_policy.where.account is None
    assert mg_policy.what.resources[0].name == "deny-public-ip"
    assert mg.what.resources[0].type == "Microsoft.Management/managementGroups"
    assert provider.what.resources[0].type == "Microsoft.Authorization"
    assert provider.what.action == "microsoft.authorization:elevateaccess/action"
    for ev in (upper, nested, mg):
        assert ev.where.org == TENANT


def test_log_analytics_tenant_id_is_the_workspace_not_the_org() -> None:
    (ev,) = [r for r in run("log_analytics_rows.jsonl") if isinstance(r, Event)]
    assert ev.where.org == TENANT  # the root of Hierarchy
    assert ev.where.org != WORKSPACE
    assert ev.where.account == SUB
    assert ev.what.resources[0].type == "microsoft.insights/diagnosticsettings"
    assert ev.what.resources[0].name == "send-to-siem"


def test_region_normalization() -> None:
    assert region_from_location("West Europe") == "westeurope"
    assert region_from_location("global") == "global"
    assert region_from_location("") is None
    assert one(diag(location="West Europe")).where.region == "westeurope"


def test_storage_objects_are_resources() -> None:
    read, *_ = events("storage_resource_logs.jsonl")
    account, blob = read.what.resources
    assert account.type == "Microsoft.Storage/storageAccounts/blobServices"
    assert blob.type == "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
    assert blob.id == "/stprodlogs01/audit/2025/05/28/export.csv"
    assert blob.name == "export.csv"


# --- caller address ---------------------------------------------------------------------------------------


def test_caller_ip_forms() -> None:
    missing, zero, cidr, v6, with_port = events("caller_ip_forms.jsonl")
    assert (missing.where.source.ip, missing.where.source.domain) == (None, None)
    assert (zero.where.source.ip, zero.where.source.domain) == (None, None)  # 0.0.0.0 = no address
    # a range is not an address: it is kept as the caller network
    assert (cidr.where.source.ip, cidr.where.source.network) == (None, "10.0.0.0/24")
    assert v6.where.source.ip == "2001:db8:85a3::8a2e:370:7334"
    assert with_port.where.source.ip == "198.51.100.23"
    (rest,) = events("rest_api_event.json")
    assert rest.where.source.ip == "203.0.113.24"  # httpRequest.clientIpAddress


def test_token_ip_is_used_only_without_a_caller_address() -> None:
    ev = one(diag(callerIpAddress=None, identity={"claims": {"ipaddr": "192.0.2.1", "appid": SP_APPID}}))
    assert ev.where.source.ip == "192.0.2.1"
    ev = one(diag(identity={"claims": {"ipaddr": "192.0.2.1", "appid": SP_APPID}}))
    assert ev.where.source.ip == "203.0.113.9"


# --- who ----------------------------------------------------------------------------------------------------


def test_user_from_diagnostic_claims() -> None:
    (ev,) = events("eventhub_records_envelope.json")
    a = ev.who.actor
    assert a.type == "human"
    assert a.id == USER_OID
    assert a.name == "Adaeze Okafor"
    assert a.email == "adaeze.okafor@contoso.example"
    assert a.account == TENANT
    assert a.app_id == PORTAL
    assert a.credential_id == "q8Yw3nFz0kSx1Lb2Vt9AAA"
    assert a.credential_type == "temporary"
    assert ev.how.auth.method == "pwd,mfa"
    assert ev.how.auth.mfa is True
    assert ev.how.client == "console"
    assert ev.who.session.issuer == f"https://sts.windows.net/{TENANT}/"
    assert ev.who.session.mfa is True
    # the RBAC evidence names a Group: it is not the caller
    assert a.id != "0f1e2d3c4b5a49688778695a4b3c2d1e"


def test_service_principal_from_idtyp_app() -> None:
    ev = next(r for r in run("storage_export_pt1h_jsonl.json") if isinstance(r, Event))
    a = ev.who.actor
    assert (a.type, a.id, a.app_id, a.email, a.account) == ("service", SP_OID, SP_APPID, None, TENANT)
    assert ev.how.client == "unknown"
    assert ev.how.auth is None


def test_callers_and_identities() -> None:
    guest, managed, advisor, appid_only, evidence, email_only, guid_only, policy, lighthouse = events(
        "caller_identities.jsonl"
    )
    assert guest.who.actor.type == "human"
    assert guest.who.actor.email == "j.doe@fabrikam.example"
    assert guest.who.actor.name == "Jane Doe"
    assert guest.who.actor.id == "5b7d9f1a-3c5e-4a7b-9d1f-8a0c2e4b6d81"

    assert managed.who.actor.type == "service"
    assert managed.who.actor.name == "id-deployer"
    assert managed.who.actor.id == "2c4e6a8c-0e2b-4d6f-8a0c-4e6a8c0e2b4d"

    assert advisor.who.actor.type == "cloud_service"
    assert advisor.who.actor.name == "Microsoft.Advisor"
    assert advisor.how.client == "cloud_service"
    assert advisor.what.outcome == "unknown"  # "Active" is not a result
    assert advisor.where.source.ip is None  # 0.0.0.0

    assert appid_only.who.actor.type == "service"
    assert appid_only.who.actor.app_id == SP_APPID
    assert appid_only.who.actor.id is None

    assert evidence.who.actor.type == "human"
    assert evidence.who.actor.id == USER_OID

    assert email_only.who.actor.type == "human"
    assert email_only.who.actor.email == "ops@contoso.example"
    assert email_only.who.actor.id is None

    assert guid_only.who.actor.type == "service"
    assert guid_only.who.actor.id == SP_OID  # lower-cased from an upper-case caller
    assert guid_only.who.actor.name is None

    assert policy.who.actor.type == "cloud_service"
    assert policy.who.actor.name == "Azure Policy"

    assert lighthouse.who.actor.account == HOME_TENANT
    assert lighthouse.where.org == TENANT
    assert lighthouse.who.actor.account != lighthouse.where.org
    assert lighthouse.how.client == "cli"


@pytest.mark.parametrize(
    ("app_id", "client"), [(PORTAL, "console"), (CLI, "cli"), (PWSH, "cli"), (SP_APPID, "unknown")]
)
def test_client_from_first_party_app_id(app_id: str, client: str) -> None:
    claims = {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "a@b.example", "appid": app_id}
    assert one(diag(identity={"claims": claims})).how.client == client


def test_storage_log_identities_and_user_agent() -> None:
    oauth, sas, key, anonymous = events("storage_resource_logs.jsonl")
    assert oauth.who.actor.type == "human"
    assert oauth.who.actor.id == USER_OID
    assert oauth.who.actor.email == "adaeze.okafor@contoso.example"
    assert oauth.who.actor.app_id == CLI
    assert oauth.how.user_agent.startswith("AZURECLI/2.61.0")
    assert oauth.how.client == "cli"
    assert oauth.how.tls.version == "TLS 1.2"
    assert oauth.how.request_id == "6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"
    assert sas.who.actor.credential_id == "key1(3C2D1E0F4B5A6978)"
    assert sas.who.actor.credential_type == "temporary"
    assert sas.how.auth.method == "SAS"
    assert sas.how.client == "sdk"
    assert key.who.actor.credential_type == "long_lived"
    assert anonymous.who.actor.type == "anonymous"


def test_identity_without_claims_or_caller_is_unknown() -> None:
    ev = one(diag())
    assert ev.who.actor.type == "unknown"
    assert ev.who.actor.id is None
    assert ev.who.session is None


# --- when and how -------------------------------------------------------------------------------------------


def test_times() -> None:
    (rest,) = events("rest_api_event.json")
    assert rest.when.time == datetime(2025, 5, 28, 11, 42, 31, 381067, tzinfo=UTC)
    assert rest.when.time_text == "2025-05-28T11:42:31.3810679Z"
    assert rest.when.observed == datetime(2025, 5, 28, 11, 42, 50, 72482, tzinfo=UTC)
    ev = one(diag(time="2025-05-28T09:00:00.123Z"))
    assert ev.when.time_text is None  # no finer than microseconds
    assert ev.when.observed is None


def test_request_and_correlation_ids() -> None:
    (rest,) = events("rest_api_event.json")
    assert rest.how.request_id == "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"  # properties.serviceRequestId
    assert rest.how.correlation_id == "3c5e7a9b-1d2f-4b6c-8e0a-2c4e6a8b0d1f"
    failed, _ = events("rest_api_page.json")
    assert failed.how.request_id == "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2f10"  # httpRequest.clientRequestId
    assert failed.how.client == "cli"  # Azure PowerShell


# --- dead letters ----------------------------------------------------------------------------------------


def test_dead_letters_name_the_field() -> None:
    ok, *dead = run("dead_letters.jsonl")
    assert isinstance(ok, Event)
    got = [(d.code, d.reason) for d in dead]
    assert all(isinstance(d, DeadLetter) for d in dead)
    assert got[0] == ("missing_time", "azure.activity: no timestamp in time")
    assert got[1] == ("missing_operation", "azure.activity: no operationName (operationName)")
    assert got[2][0] == "absurd_time" and "time='1970-01-01T00:00:00.0000000Z'" in got[2][1]
    assert got[3][0] == "absurd_time" and "2999" in got[3][1]
    assert got[4][0] == "bad_time" and "time='yesterday at noon'" in got[4][1]
    assert got[5] == ("missing_time", "azure.activity: no timestamp in eventTimestamp")
    assert got[6] == ("missing_operation", "azure.activity: no operationName (operationName.value)")


def test_log_analytics_row_without_time_names_time_generated() -> None:
    row = orjson.loads((TESTDATA / "log_analytics_rows.jsonl").read_bytes().splitlines()[1])
    del row["TimeGenerated"]
    r = one(row)
    assert isinstance(r, DeadLetter)
    assert r.reason == "azure.activity: no timestamp in TimeGenerated"


# --- corpus -------------------------------------------------------------------------------------------------


def test_corpus_normalizes(corpus_dir: Path) -> None:
    norm = Normalizer()
    counts: Counter[str] = Counter()
    problems = []
    for path in sorted((corpus_dir / "azure").rglob("*.json*")):
        for r in norm.blob(path.read_bytes(), path.name):
            if isinstance(r, Event):
                counts["event"] += 1
                assert r.source.format == "azure.activity"
            elif isinstance(r, NonEvent):
                counts[r.kind] += 1
            else:
                problems.append(f"{r.location}: {r.code}: {r.reason}")
    assert not problems, problems
    assert counts == Counter({"event": 214})


def test_corpus_special_records(corpus_dir: Path) -> None:
    lines = (
        (corpus_dir / "azure" / "panther_azure_monitoractivity_test_events.jsonl").read_bytes().splitlines()
    )
    recs = [orjson.loads(x) for x in lines]

    advisor = one(recs[3])  # 9-digit fraction, emailaddress claim "Microsoft.Advisor", 0.0.0.0
    assert advisor.who.actor.type == "cloud_service"
    assert advisor.when.time_text == "2025-12-22T08:46:29.678707300Z"
    assert advisor.where.source.ip is None
    assert advisor.what.resources[0].type == "MICROSOFT.STORAGE/STORAGEACCOUNTS"
    assert advisor.where.account == "00000000-0000-0000-0000-111111111111"

    typo = one(recs[8])  # the tenant key is misspelled ('tenantId"'): no org, still an event
    assert isinstance(typo, Event) and typo.where.org is None

    elevate = one(recs[121])  # operationName as {value, localizedValue} inside a diagnostic record
    assert elevate.what.operation == "Microsoft.Authorization/elevateAccess/action"
    assert elevate.what.category == "iam"
    assert elevate.who.actor.email == "attacker@example.com"

    evidence = one(recs[118])  # only the RBAC evidence says who: a User principal
    assert evidence.who.actor.type == "human"
    assert evidence.who.actor.id == "6b6d44f0-b13a-46a0-bfde-161324d4c34d"
    assert evidence.what.request.startswith('{"Id":"a1b2c3d4')

    no_resource = one(recs[185])  # storage log without resourceId
    assert no_resource.what.service == "Microsoft.Storage"
    assert no_resource.what.resources[0].name == "criticaldata001"
    assert no_resource.where.source.ip == "8.8.8.8"


def test_map_does_not_mutate_the_record() -> None:
    rec = orjson.loads((TESTDATA / "rest_api_event.json").read_bytes())
    before = copy.deepcopy(rec)
    one(rec)
    assert rec == before
