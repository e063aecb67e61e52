"""Wire shapes of Entra ID logs, recognised per record (never by file or route).

- ``diagnostic_record``: a diagnostic-settings record, on an Event Hub or in the storage-account export
  (``insights-logs-signinlogs/.../PT1H.json``): ``time``, ``category`` (SignInLogs, ...), ``tenantId``,
  ``resultType``, ``properties`` {...}. Batches ``{"records": [...]}`` are opened by the Azure Activity
  connector's ``unwrap``, whose envelopes Entra shares.
- ``log_analytics``: a row of the SigninLogs, AADNonInteractiveUserSignInLogs,
  AADServicePrincipalSignInLogs, AADManagedIdentitySignInLogs or AuditLogs table (a query API table, which
  the Azure connector opens too, or a workspace export line): ``Type`` names the table; PascalCase columns,
  JSON columns as objects or as strings.

Both are read into one ``View``: the category in diagnostic-settings terms and the properties under
their diagnostic names, so the mapper has one input and the two shapes give the same event.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import orjson

from . import tables as T

DIAGNOSTIC = "diagnostic_record"
LOG_ANALYTICS = "log_analytics"


def claims(r: dict[str, Any]) -> bool:
    t = r.get("Type")
    if isinstance(t, str):
        return t in T.LA_TABLES
    cat = r.get("category")
    if not isinstance(cat, str) or cat not in T.CATEGORIES:
        return False
    rid = r.get("resourceId")
    if isinstance(rid, str) and "microsoft.aadiam" in rid.lower():
        return True
    props = r.get("properties")
    return isinstance(props, dict) and not T.ENTRA_PROPERTY_KEYS.isdisjoint(props)


@dataclass(slots=True)
class View:
    shape: str
    category: str  # diagnostic-settings category name
    props: dict[str, Any]
    tenant: str | None
    time: Any  # the record's own timestamp, when the properties have none
    time_field: str
    result_type: Any  # diagnostic resultType / LA ResultType: "0" is success for sign-ins
    result_description: Any
    caller_ip: Any
    location_code: Any  # the two-letter country of the record (not a region)


def view_of(r: dict[str, Any]) -> View:
    t = r.get("Type")
    if isinstance(t, str):
        props: dict[str, Any] = {}
        for col, name in T.LA_COLUMNS.items():
            if col in r:
                v = r[col]
                if col in T.LA_JSON_COLUMNS and isinstance(v, str) and v[:1] in ("{", "["):
                    with contextlib.suppress(orjson.JSONDecodeError):
                        v = orjson.loads(v)
                props[name] = v
        return View(
            shape=LOG_ANALYTICS, category=T.LA_TABLES[t], props=props, tenant=r.get("TenantId") or r.get("AADTenantId"),
            time=r.get("TimeGenerated"), time_field="TimeGenerated", result_type=r.get("ResultType"),
            result_description=r.get("ResultDescription"), caller_ip=r.get("IPAddress"),
            location_code=r.get("Location"),
        )
    raw_props = r.get("properties")
    return View(
        shape=DIAGNOSTIC, category=r["category"], props=raw_props if isinstance(raw_props, dict) else {},
        tenant=r.get("tenantId"), time=r.get("time"), time_field="time", result_type=r.get("resultType"),
        result_description=r.get("resultDescription"), caller_ip=r.get("callerIpAddress"),
        location_code=r.get("location"),
    )
