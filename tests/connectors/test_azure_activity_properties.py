"""Property tests: nothing an Azure source can send makes the normalizer raise, and one record in gives
exactly one result out (Event, DeadLetter or NonEvent)."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.azure_activity import CONNECTOR
from connectors.errors import NonEvent
from connectors.normalize import Normalizer
from schemas.deadletter import DeadLetter
from schemas.event import Event

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NORM = Normalizer()
RESULT = (Event, DeadLetter, NonEvent)
# Codes a record may legitimately die with. A mapper_error (an exception in map) or an invalid_event
# (a dict the Event model rejects) is a bug in the connector, never acceptable.
ALLOWED_DEAD = {
    "missing_time",
    "bad_time",
    "absurd_time",
    "missing_operation",
    "unknown_shape",
    "oversized_record",
}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10,
)

times = (
    st.sampled_from(
        [
            "2025-05-28T09:00:00.1234567Z",
            "2025-12-22T08:46:29.678707300Z",
            "2025-05-28T09:00:00Z",
            "1970-01-01T00:00:00Z",
            "",
            "not a time",
            "2025-05-28T09:00:00+02:00",
        ]
    )
    | json_scalars
)
operations = (
    st.sampled_from(
        [
            "Microsoft.Compute/virtualMachines/write",
            "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION",
            "GetBlob",
            "",
            "/",
            "a/b",
            "Microsoft./",
            "x" * 50,
        ]
    )
    | json_values
)
statuses = (
    st.sampled_from(
        ["Start", "Accept", "Success", "Succeeded", "Failure", "Failed", "Canceled", "Active", "", "0"]
    )
    | json_values
)
resource_ids = (
    st.sampled_from(
        [
            "/subscriptions/S/resourceGroups/rg/providers/NS/t/n",
            "/SUBSCRIPTIONS/S",
            "/providers/NS",
            "/",
            "",
            "//providers//",
            "/subscriptions",
            "/tenants/T/providers",
            "/a/b/c/providers/x/y/z/providers",
        ]
    )
    | json_values
)
ips = (
    st.sampled_from(
        ["203.0.113.9", "0.0.0.0", "10.0.0.0/24", "::1", "1.2.3.4:5", "[::1]:443", "host.example", ""]
    )
    | json_values
)
claims_values = (
    st.dictionaries(
        st.sampled_from(
            [
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
                "upn",
                "name",
                "appid",
                "idtyp",
                "oid",
                "iat",
                "iss",
                "http://schemas.microsoft.com/identity/claims/objectidentifier",
                "http://schemas.microsoft.com/identity/claims/tenantid",
                "http://schemas.microsoft.com/claims/authnmethodsreferences",
                "ipaddr",
                "xms_mirid",
                "uti",
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
            ]
        ),
        json_values,
        max_size=8,
    )
    | json_values
)
props_values = (
    st.dictionaries(
        st.sampled_from(
            [
                "statusCode",
                "serviceRequestId",
                "eventCategory",
                "entity",
                "message",
                "hierarchy",
                "requestbody",
                "responseBody",
                "statusMessage",
                "resourceLocation",
                "accountName",
                "objectKey",
                "serviceType",
                "userAgentHeader",
                "tlsVersion",
                "metricResponseType",
                "clientRequestId",
            ]
        ),
        json_values | st.sampled_from(['{"error":{"code":"X","message":"m"}}', "{", '{"a":1}', "a/b/c"]),
        max_size=8,
    )
    | json_values
)


def _maybe(d: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Each key present with its strategy, or absent."""
    return st.fixed_dictionaries({}, optional=d)


diagnostic_records = _maybe(
    {
        "time": times,
        "resourceId": resource_ids,
        "operationName": operations,
        "category": json_values,
        "resultType": statuses,
        "resultSignature": json_values,
        "callerIpAddress": ips,
        "correlationId": json_values,
        "identity": st.fixed_dictionaries(
            {},
            optional={
                "claims": claims_values,
                "authorization": json_values,
                "type": json_values,
                "requester": json_values,
                "tokenHash": json_values,
            },
        )
        | json_values,
        "level": json_values,
        "location": json_values,
        "properties": props_values,
        "tenantId": json_values,
        "statusCode": json_values,
        "statusText": json_values,
    }
).map(lambda d: {"time": "2025-05-28T09:00:00Z", "operationName": "X/y/write", **d})

rest_records = _maybe(
    {
        "eventTimestamp": times,
        "submissionTimestamp": times,
        "operationName": operations
        | st.fixed_dictionaries({}, optional={"value": operations, "localizedValue": json_values}),
        "status": statuses | st.fixed_dictionaries({}, optional={"value": statuses}),
        "subStatus": json_values,
        "caller": json_values,
        "claims": claims_values,
        "authorization": json_values,
        "eventDataId": json_values,
        "operationId": json_values,
        "correlationId": json_values,
        "resourceId": resource_ids,
        "resourceGroupName": json_values,
        "resourceProviderName": json_values,
        "subscriptionId": json_values,
        "tenantId": json_values,
        "httpRequest": st.fixed_dictionaries(
            {}, optional={"clientIpAddress": ips, "clientRequestId": json_values}
        )
        | json_values,
        "category": json_values,
        "level": json_values,
        "properties": props_values,
    }
).map(
    lambda d: {
        "eventTimestamp": "2025-05-28T09:00:00Z",
        "operationName": {"value": "X/y/write"},
        "eventDataId": "e",
        **d,
    }
)

log_analytics_rows = _maybe(
    {
        "TimeGenerated": times,
        "OperationNameValue": operations,
        "OperationName": json_values,
        "Caller": json_values,
        "CallerIpAddress": ips,
        "CorrelationId": json_values,
        "Claims": json_values | claims_values.map(orjson.dumps).map(bytes.decode),
        "Claims_d": claims_values,
        "Authorization": json_values,
        "Authorization_d": json_values,
        "Properties": json_values,
        "Properties_d": props_values,
        "ActivityStatusValue": statuses,
        "ActivitySubstatusValue": json_values,
        "ResourceId": resource_ids,
        "_ResourceId": resource_ids,
        "ResourceProviderValue": json_values,
        "SubscriptionId": json_values,
        "ResourceGroup": json_values,
        "CategoryValue": json_values,
        "Level": json_values,
        "EventDataId": json_values,
        "TenantId": json_values,
        "Hierarchy": json_values,
        "HTTPRequest": json_values,
        "EventSubmissionTimestamp": times,
    }
).map(
    lambda d: {
        "Type": "AzureActivity",
        "TimeGenerated": "2025-05-28T09:00:00Z",
        "OperationNameValue": "X/y/write",
        **d,
    }
)


def _check(results: list[Any], expected: int) -> None:
    assert len(results) == expected
    for r in results:
        assert isinstance(r, RESULT)
        if isinstance(r, DeadLetter):
            assert r.code in ALLOWED_DEAD, (r.code, r.reason)


@SETTINGS
@given(json_values)
def test_arbitrary_json_never_raises(value: Any) -> None:
    results = list(NORM.records([value], "prop"))
    assert all(isinstance(r, RESULT) for r in results)
    if isinstance(value, dict) and CONNECTOR.unwrap(value) is None:
        assert len(results) == 1


@SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    assert all(isinstance(r, RESULT) for r in NORM.blob(data, "prop.bin"))


@SETTINGS
@given(st.lists(diagnostic_records, min_size=1, max_size=5))
def test_diagnostic_records_one_result_each(records: list[dict[str, Any]]) -> None:
    _check(list(NORM.records([{"records": records}], "prop")), len(records))
    lines = b"\n".join(orjson.dumps(r) for r in records)
    _check(list(NORM.blob(lines, "PT1H.json")), len(records))


@SETTINGS
@given(st.lists(rest_records, min_size=1, max_size=5))
def test_rest_events_one_result_each(records: list[dict[str, Any]]) -> None:
    _check(list(NORM.records([{"value": records, "nextLink": None}], "prop")), len(records))


@SETTINGS
@given(st.lists(log_analytics_rows, min_size=1, max_size=5))
def test_log_analytics_rows_one_result_each(rows: list[dict[str, Any]]) -> None:
    _check(list(NORM.records(rows, "prop")), len(rows))
    names = sorted({k for r in rows for k in r})
    doc = {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [{"name": n, "type": "string"} for n in names],
                "rows": [[r.get(n) for n in names] for r in rows],
            }
        ]
    }
    _check(list(NORM.records([doc], "prop")), len(rows))
