"""Wire shapes of Azure Activity Logs: envelopes, recognition, and one field view over the three record shapes.

Envelopes (``unwrap``):
- ``{"records": [...]}``: diagnostic settings to Event Hubs, and the storage-account export
  (``insights-activity-logs/.../PT1H.json``) when a line holds a whole batch -> envelope "event_hub".
  The storage export in JSON Lines (one record a line, the format since Nov 2018) needs no envelope.
- ``{"value": [...], "nextLink": ...}``: a page of the REST API "Activity Logs - List" -> "rest_api_page".
- ``{"tables": [{"name", "columns": [{"name", "type"}], "rows": [[...]]}]}``: a Log Analytics query API
  response -> its rows as dicts, "log_analytics_query".

Record shapes (detected per record, the user never says which):
- "diagnostic_record": ``time``, ``operationName`` (string), ``resultType``, ``identity.claims`` ...
- "rest_api": ``eventTimestamp``, ``operationName.value``, ``status.value``, ``claims``, ``eventDataId`` ...
- "log_analytics": the AzureActivity table: ``TimeGenerated``, ``OperationNameValue``, ``Claims_d`` ...
"""

from __future__ import annotations

from typing import Any

import orjson

from connectors.base import Unwrapped
from connectors.common import text
from connectors.errors import MappingError

DIAGNOSTIC = "diagnostic_record"
REST = "rest_api"
LOG_ANALYTICS = "log_analytics"

_PAGE_KEYS = frozenset({"value", "nextLink", "@odata.nextLink", "@odata.context", "odata.nextLink"})


# --- envelopes -------------------------------------------------------------------------------------


def unwrap(doc: dict[str, Any]) -> Unwrapped | None:
    records = doc.get("records")
    if isinstance(records, list) and "operationName" not in doc:
        return Unwrapped("event_hub", records)
    value = doc.get("value")
    if isinstance(value, list) and doc.keys() <= _PAGE_KEYS:
        return Unwrapped("rest_api_page", value)
    tables = doc.get("tables")
    if isinstance(tables, list) and tables and isinstance(tables[0], dict) and "rows" in tables[0]:
        return Unwrapped("log_analytics_query", rows_of_tables(tables))
    return None


def rows_of_tables(tables: list[Any]) -> list[Any]:
    """Log Analytics query API tables -> one dict per row, keyed by column name."""
    out: list[Any] = []
    for t_index, table in enumerate(tables):
        if not isinstance(table, dict):
            raise MappingError("bad_envelope", f"tables[{t_index}] is not an object")
        columns = table.get("columns")
        rows = table.get("rows")
        if not isinstance(columns, list) or not isinstance(rows, list):
            raise MappingError("bad_envelope", f"tables[{t_index}] has no columns/rows lists")
        names = []
        for c in columns:
            name = c.get("name") if isinstance(c, dict) else c
            if not isinstance(name, str):
                raise MappingError("bad_envelope", f"tables[{t_index}].columns has a column without a name")
            names.append(name)
        for row in rows:
            # A row that is not a list stays as it is: it becomes a dead letter of its own.
            out.append(dict(zip(names, row, strict=False)) if isinstance(row, list) else row)
    return out


# --- recognition -----------------------------------------------------------------------------------


def claims(r: dict[str, Any]) -> bool:
    if "operationName" in r:
        return (
            "time" in r
            or "eventTimestamp" in r
            or "resourceId" in r
            or "correlationId" in r
            or ("resultType" in r)
        )
    return (
        # Azure resource-log common schema (time + resourceId) without an operationName: ours to
        # dead-letter with the reason ("no operationName"), not an unknown shape.
        ("time" in r and "resourceId" in r)
        or "OperationNameValue" in r
        or r.get("Type") == "AzureActivity"
        or "eventDataId" in r
        or "EventDataId" in r
    )


def shape_of(r: dict[str, Any]) -> str:
    if (
        "OperationNameValue" in r
        or "TimeGenerated" in r
        or "EventDataId" in r
        or r.get("Type") == "AzureActivity"
    ):
        return LOG_ANALYTICS
    if "eventTimestamp" in r or "eventDataId" in r or "submissionTimestamp" in r:
        return REST
    return DIAGNOSTIC


# --- the common view -------------------------------------------------------------------------------


class Fields:
    """What the mapper needs, read from whichever shape the record has. Values are raw (not yet
    validated) except where noted; dict-valued ones are dicts or None.

    Defaults are class attributes, so an extractor sets only what its record has (cheaper than
    initialising every field per record)."""

    authorization: dict[str, Any] | None = None
    caller: str | None = None
    category: str | None = None
    claims: dict[str, Any] | None = None
    correlation_id: str | None = None
    hierarchy: str | None = None
    http_request: dict[str, Any] | None = None
    identity: dict[str, Any] | None = None
    ip: str | None = None
    location: str | None = None
    native_id: str | None = None
    observed: Any = None
    operation: str | None = None
    properties: dict[str, Any] | None = None
    provider_hint: str | None = None
    resource_id: str | None = None
    shape: str = DIAGNOSTIC
    status: str | None = None
    status_code: Any = None  # storage resource logs: the HTTP status of the request
    status_text: str | None = None  # storage resource logs: e.g. AuthorizationPermissionMismatch
    substatus: str | None = None
    subscription_hint: str | None = None
    tenant: str | None = None
    time: Any = None
    time_field: str = "time"


def as_dict(value: Any) -> dict[str, Any] | None:
    """A nested object, or the JSON text of one (Log Analytics keeps Claims/Properties as strings)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value[:1] == "{":
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def value_of(v: Any) -> str | None:
    """REST ``{"value": ..., "localizedValue": ...}`` pairs, or a plain value, as text."""
    if v.__class__ is str:
        return v or None
    if isinstance(v, dict):
        return text(v.get("value")) or text(v.get("localizedValue"))
    return text(v)


def fields_from_diagnostic(r: dict[str, Any]) -> Fields:
    # The hot path of the hot shape: strings are taken as they are, anything else goes through text().
    f = Fields()
    g = r.get
    f.time = g("time")
    v = g("operationName")
    f.operation = v if v.__class__ is str and v else value_of(v)
    props = g("properties")
    if props is not None and props.__class__ is not dict:
        props = as_dict(props)
    f.properties = props
    # resultType is the authoritative word; a few exporters (and the corpus) add a REST-style status.
    v = g("resultType")
    f.status = v if v.__class__ is str and v else (value_of(v) or value_of(g("status")))
    v = g("resultSignature")
    f.substatus = v if v.__class__ is str and v else value_of(v)
    v = g("category")
    category = v if v.__class__ is str and v else value_of(v)
    if props:
        # The record's own category is "Administrative"/"Write"...; eventCategory, when present, is the
        # Activity Log category proper (activity-log-schema, "Schema from storage account and event hubs").
        category = text(props.get("eventCategory")) or category
        f.hierarchy = text(props.get("hierarchy"))
    f.category = category
    identity = g("identity")
    if identity is not None:
        if identity.__class__ is dict:
            f.identity = identity
            f.claims = as_dict(identity.get("claims"))
            f.authorization = as_dict(identity.get("authorization"))
        elif isinstance(identity, str) and identity:
            f.caller = identity
    v = g("callerIpAddress")
    f.ip = v if v.__class__ is str and v else text(v)
    v = g("correlationId")
    f.correlation_id = v if v.__class__ is str and v else text(v)
    v = g("resourceId")
    f.resource_id = v if v.__class__ is str and v else text(v)
    v = g("tenantId")
    f.tenant = v if v.__class__ is str and v else text(v)
    v = g("location")
    f.location = v if v.__class__ is str and v else text(v)
    if "statusCode" in r:
        # Storage resource logs (StorageRead/Write/Delete) arrive the same way and carry no resultType.
        f.status_code = r["statusCode"]
        f.status_text = text(g("statusText"))
    return f


def fields_from_rest(r: dict[str, Any]) -> Fields:
    f = Fields()
    f.shape = REST
    f.time = r.get("eventTimestamp")
    f.time_field = "eventTimestamp"
    f.observed = r.get("submissionTimestamp")
    f.operation = value_of(r.get("operationName"))
    f.status = value_of(r.get("status"))
    f.substatus = value_of(r.get("subStatus"))
    f.category = value_of(r.get("category"))
    f.caller = text(r.get("caller"))
    f.claims = as_dict(r.get("claims"))
    f.authorization = as_dict(r.get("authorization"))
    http = as_dict(r.get("httpRequest"))
    f.http_request = http
    if http is not None:
        f.ip = text(http.get("clientIpAddress"))
    f.correlation_id = text(r.get("correlationId"))
    f.native_id = text(r.get("eventDataId"))
    f.resource_id = text(r.get("resourceId"))
    f.provider_hint = value_of(r.get("resourceProviderName"))
    f.subscription_hint = text(r.get("subscriptionId"))
    f.tenant = text(r.get("tenantId"))
    props = as_dict(r.get("properties"))
    f.properties = props
    if props is not None:
        f.hierarchy = text(props.get("hierarchy"))
    return f


def fields_from_log_analytics(r: dict[str, Any]) -> Fields:
    f = Fields()
    f.shape = LOG_ANALYTICS
    f.time = r.get("TimeGenerated")
    f.time_field = "TimeGenerated"
    f.observed = r.get("EventSubmissionTimestamp")
    # OperationNameValue is the identifier; OperationName is the deprecated (often localized) column.
    f.operation = text(r.get("OperationNameValue")) or text(r.get("OperationName"))
    f.status = text(r.get("ActivityStatusValue")) or text(r.get("ActivityStatus"))
    f.substatus = text(r.get("ActivitySubstatusValue")) or text(r.get("ActivitySubstatus"))
    f.category = text(r.get("CategoryValue")) or text(r.get("Category"))
    f.caller = text(r.get("Caller"))
    f.claims = as_dict(r.get("Claims_d")) or as_dict(r.get("Claims"))
    f.authorization = as_dict(r.get("Authorization_d")) or as_dict(r.get("Authorization"))
    http = as_dict(r.get("HTTPRequest"))
    f.http_request = http
    f.ip = text(r.get("CallerIpAddress"))
    if f.ip is None and http is not None:
        f.ip = text(http.get("clientIpAddress"))
    f.correlation_id = text(r.get("CorrelationId"))
    f.native_id = text(r.get("EventDataId"))
    f.resource_id = text(r.get("ResourceId")) or text(r.get("_ResourceId"))
    f.provider_hint = text(r.get("ResourceProviderValue")) or text(r.get("ResourceProvider"))
    f.subscription_hint = text(r.get("SubscriptionId"))
    # TenantId in a Log Analytics table is the *workspace* id, not the Entra tenant (AzureActivity
    # table reference): it must not become where.org. The tenant comes from the hierarchy root below.
    props = as_dict(r.get("Properties_d")) or as_dict(r.get("Properties"))
    f.properties = props
    f.hierarchy = text(r.get("Hierarchy")) or (text(props.get("hierarchy")) if props is not None else None)
    return f


FIELDS_BY_SHAPE = {
    DIAGNOSTIC: fields_from_diagnostic,
    REST: fields_from_rest,
    LOG_ANALYTICS: fields_from_log_analytics,
}


def fields_of(r: dict[str, Any]) -> Fields:
    return FIELDS_BY_SHAPE[shape_of(r)](r)
