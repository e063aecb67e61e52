"""Azure Activity Log record -> event dict (schemas.Event shape), one small function per field group.

The three record shapes are first read into one ``Fields`` view (parse.py); everything below works on
that view, so a diagnostic record, a REST event and a Log Analytics row with the same content map to the
same event (and, where they carry the same eventDataId, the same id).

Decisions worth knowing (also in the package README):
- Start/Accept/In Progress rows of an operation are NonEvent("azure.activity.intermediate"): the terminal
  row (Success/Failure/Canceled) is the event, linked to them by how.correlation_id.
- Alert/Recommendation/ServiceHealth/ResourceHealth/Security events are single events; their status
  (Active, Activated, Resolved, Updated, InProgress) is not an outcome, so outcome is unknown.
- Canceled is a failure with error code "Canceled".
- callerIpAddress "0.0.0.0" is what Azure writes when there is no caller address (service-generated
  events such as Advisor recommendations): it is not a source, so where.source.ip is None.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson

from connectors.base import MapContext
from connectors.common import (
    activity_from_operation,
    client_from_user_agent,
    first_texts,
    privilege_changes,
    source_fields,
    text,
)
from connectors.errors import MappingError, NonEvent
from connectors.timeutil import parse_time, parse_time_opt
from schemas.ids import event_id

from . import tables as T
from .parse import Fields, fields_of
from .resource_id import ResourceId, parse_resource_id
from .targets import BUILTIN_ROLES, GRANTEE_TYPES, PRIVILEGES, TARGETS

FORMAT = "azure.activity"
INTERMEDIATE = NonEvent("azure.activity.intermediate")
_NO_RESOURCE = ResourceId(None, None, None, None, None, None)
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_UNSPECIFIED_IPS = frozenset({"0.0.0.0", "::"})


def map_record(record: dict[str, Any], ctx: MapContext, unresolved: bool = False) -> dict[str, Any] | NonEvent:
    """``unresolved``: the record is an intermediate row whose terminal row never came (lone_start.py):
    map it as the operation's event with outcome unknown."""
    f = fields_of(record)
    status = status_word(f.status)
    category_key = _category_key(f.category)
    if status in T.INTERMEDIATE and category_key not in T.NON_OPERATION_CATEGORIES and not unresolved:
        return INTERMEDIATE
    operation = f.operation
    if not operation:
        raise MappingError("missing_operation", f"no operationName ({_operation_field(f)})")
    time, time_text = parse_time(f.time, f.time_field)
    props = f.properties or {}

    rid_text = resource_id_text(f, props)
    rid = parse_resource_id(rid_text) if rid_text else _NO_RESOURCE
    subscription = rid.subscription or _lower(f.subscription_hint)
    region = region_from_location(f.location) or region_from_location(text(props.get("resourceLocation")))

    outcome, error = ("unknown", None) if unresolved else outcome_from_status(status, f, props)
    service, action, activity, category, read_only = what_from_operation(
        operation, category_key, rid.namespace or f.provider_hint or _namespace_from_category(f.category)
    )
    actor, session, auth, ip_from_token = who_from_identity(f)
    if actor["type"] == "unknown" and category_key in T.PLATFORM_CATEGORIES and not f.caller:
        actor["type"] = "cloud_service"
    source = source_from_caller_ip(f.ip or ip_from_token)
    what: dict[str, Any] = {
        "action": action,
        "operation": operation,
        "service": service,
        "activity": activity,
        "category": category,
        "read_only": read_only,
        "outcome": outcome,
        "error": error,
        "resources": resources_from(rid_text, rid, subscription, props),
        "request": body_text(props.get("requestbody", props.get("requestBody"))),
        "response": body_text(props.get("responseBody", props.get("responsebody"))),
    }
    key = action.lower()
    targets, privileges = TARGETS.get(key), PRIVILEGES.get(key)
    if targets or privileges:
        roots = {
            "req": props.get("requestbody", props.get("requestBody")),
            "resp": props.get("responseBody", props.get("responsebody")),
        }
        if targets:
            resources_from_targets(targets, roots, what["resources"])
        if privileges:
            what["privilege_changes"] = role_assignments(privileges, roots, rid_text)
    if f.authorization is not None:
        what["authorization"] = authorization_from(f.authorization, outcome, error)
    plane = T.PLANE_BY_EVENT_CATEGORY.get(category_key)
    if plane is not None:
        what["plane"] = plane

    id_time = time.isoformat() + _ticks_beyond_micro(time_text)
    return {
        "id": event_id(
            FORMAT,
            f.native_id,
            f.correlation_id,
            operation.lower(),
            status or "",
            id_time,
            rid_text.lower() if rid_text else None,
        ),
        "when": {
            "time": time,
            "time_text": time_text,
            "observed": parse_time_opt(f.observed) if f.observed is not None else None,
            "ingested": ctx.ingested,
        },
        "who": {"actor": actor, "session": session},
        "what": what,
        "where": {
            "provider": "azure",
            "account": subscription,
            "org": org_from_tenant(f) or rid.tenant,
            "region": region,
            "source": source,
        },
        "how": how_from_request(f, props, actor, auth),
        "source": {
            "format": FORMAT,
            "native_id": f.native_id,
            "log": f.category,
            "shape": f"{ctx.envelope}/{f.shape}" if ctx.envelope else f.shape,
            "location": ctx.location,
        },
        "raw": ctx.raw,
    }


# --- status and outcome -----------------------------------------------------------------------------


def status_word(status: str | None) -> str | None:
    """Canonical status word (success, failure, canceled, start, accept, in_progress, or the status
    lower-cased), the same for 'Success' (diagnostic record) and 'Succeeded' (REST, Log Analytics)."""
    if not status:
        return None
    word = _STATUS_AS_WRITTEN.get(status)
    if word is not None:
        return word
    s = status.strip().lower()
    return T.STATUS.get(s, s)


# The spellings Azure actually writes (Success, SUCCEEDED ...) looked up without lower-casing.
_STATUS_AS_WRITTEN = {
    **{k.title(): v for k, v in T.STATUS.items()},
    **{k.upper(): v for k, v in T.STATUS.items()},
    **T.STATUS,
}


@lru_cache(maxsize=1024)
def _category_key(category: str | None) -> str:
    return category.replace(" ", "").lower() if category else ""


def outcome_from_status(
    status: str | None, f: Fields, props: dict[str, Any]
) -> tuple[str, dict[str, Any] | None]:
    if status == "success":
        return "success", None
    if status == "failure" or status == "canceled":
        return "failure", error_from_failure(f, props, canceled=status == "canceled")
    if status is None:
        # Storage resource logs have no resultType: the HTTP status (or metricResponseType) says it.
        http = _http_status(f.status_code) or _http_status(f.substatus)
        if http is not None:
            return ("success", None) if http < 400 else ("failure", error_from_failure(f, props, False))
        metric = text(props.get("metricResponseType"))
        if metric:
            if metric.lower() == "success":
                return "success", None
            return "failure", error_from_failure(f, props, False, fallback=metric)
    # Active, Activated, Resolved, Updated ... describe an alert or a health state, not a result.
    return "unknown", None


def _http_status(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 100 <= value <= 599 else None
    if isinstance(value, str) and len(value) == 3 and value.isdigit():
        return int(value)
    return None


def error_from_failure(
    f: Fields, props: dict[str, Any], canceled: bool, fallback: str | None = None
) -> dict[str, Any] | None:
    """statusMessage is often JSON text: {"error": {"code": "AuthorizationFailed", "message": "..."}}."""
    code, message = _status_message(props.get("statusMessage"))
    if code is None:
        code = (
            ("Canceled" if canceled else None)
            or text(props.get("statusCode"))
            or f.status_text
            or f.substatus
            or fallback
            or text(f.status_code)
        )
    if code is None and message is None:
        return None
    return {"code": code, "message": message}


def _status_message(value: Any) -> tuple[str | None, str | None]:
    doc: Any = value
    if isinstance(value, str):
        if value[:1] != "{":
            return None, value or None
        try:
            doc = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None, value
    if not isinstance(doc, dict):
        return None, text(doc)
    err = doc.get("error")
    if isinstance(err, dict):
        return text(err.get("code")), text(err.get("message"))
    return text(doc.get("code")), text(doc.get("message")) or (text(value) if doc else None)


# --- what ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def what_from_operation(
    operation: str, category_key: str, fallback_namespace: str | None
) -> tuple[str | None, str, str, str, bool | None]:
    """(service, action, activity, category, read_only): all functions of the operation name (and the
    event category), so computed once per distinct name."""
    service, action = service_and_action(operation, fallback_namespace)
    return (
        service,
        action,
        activity_of(operation),
        category_of(service, operation, category_key),
        read_only_of(operation),
    )


def service_and_action(operation: str, fallback_namespace: str | None) -> tuple[str | None, str]:
    """what.service = the resource-provider namespace; action = "<namespace>:<rest>" lower-cased, so
    Microsoft.Insights/actionGroups/delete and microsoft.insights/actiongroups/delete are one action.
    Storage data-plane operation names (GetBlob, PutBlob) carry no namespace: the resource's is used."""
    op = operation.strip()
    head, sep, tail = op.partition("/")
    namespace, rest = (head, tail) if sep and "." in head else (fallback_namespace, op)
    if namespace is None:
        return None, "unknown:" + rest.lower()
    return namespace, namespace.lower() + ":" + rest.lower()


def _namespace_from_category(category: str | None) -> str | None:
    if category and category.lower().startswith("storage"):
        return "Microsoft.Storage"
    return None


@lru_cache(maxsize=65536)
def activity_of(operation: str) -> str:
    """activity_from_operation on the verb of the name, letter case ignored.

    Azure names end in /read, /write, /delete or /action; for /action the verb is the segment before it
    (listKeys/action is a read). Names arrive in any case (LISTKEYS, listkeys, listKeys), which hides the
    camel-case word boundary, so the longest verb prefix of the lower-cased segment decides."""
    segments = operation.strip().lower().split("/")
    verb = segments[-1]
    if verb == "action" and len(segments) > 1:
        verb = segments[-2]
    for k in range(min(len(verb), 24), 1, -1):
        activity = activity_from_operation(verb[:k])
        if activity != "other":
            return activity
    return "other"


def read_only_of(operation: str) -> bool | None:
    activity = activity_of(operation)
    if activity == "read":
        return True
    if activity == "other":
        return None
    return False


def category_of(service: str | None, operation: str, category_key: str) -> str:
    op = operation.lower()
    if "diagnosticsettings" in op or "logprofiles" in op:
        return "logging"
    by_event = T.CATEGORY_BY_EVENT_CATEGORY.get(category_key)
    if by_event is not None:
        return by_event
    if service is None:
        return "other"
    ns = service.lower()
    if ns == "microsoft.authorization" and ("/policy" in op or "/locks/" in op):
        return "configuration"
    if ns == "microsoft.storage" and "/" not in op:
        return "data_access"  # storage data-plane requests (GetBlob, PutBlob ...)
    return T.CATEGORY_BY_NAMESPACE.get(ns, "other")


def resource_id_text(f: Fields, props: dict[str, Any]) -> str | None:
    rid = f.resource_id
    if rid:
        return rid.strip() or None
    entity = text(props.get("entity"))
    return entity if entity and entity[:1] == "/" else None


def resources_from(
    rid_text: str | None, rid: ResourceId, subscription: str | None, props: dict[str, Any]
) -> list[dict[str, Any]]:
    """The resource the operation acted on. Its region is properties.resourceLocation when given: the
    record's own location is where the event was processed ("global" for Resource Manager), not where
    the resource is (activity-log-schema, "Schema from storage account and event hubs")."""
    if not props:  # the common Administrative record: just the resource id
        if rid_text:
            return [
                {"type": rid.type, "id": rid_text, "name": rid.name, "account": subscription, "region": None}
            ]
        return []
    region = region_from_location(text(props.get("resourceLocation")))
    out: list[dict[str, Any]] = []
    account_name = text(props.get("accountName"))
    if rid_text:
        out.append(
            {"type": rid.type, "id": rid_text, "name": rid.name, "account": subscription, "region": region}
        )
    elif account_name:
        out.append(
            {
                "type": "Microsoft.Storage/storageAccounts",
                "id": None,
                "name": account_name,
                "account": subscription,
                "region": region,
            }
        )
    object_key = text(props.get("objectKey"))
    if object_key:
        # Storage resource logs: the object the request touched (/account/container/path).
        service_type = (text(props.get("serviceType")) or "blob").lower()
        out.append(
            {
                "type": T.STORAGE_OBJECT_TYPE.get(service_type),
                "id": object_key,
                "name": object_key.rstrip("/").rsplit("/", 1)[-1] or None,
                "account": subscription,
                "region": region,
            }
        )
    return out


def body_text(value: Any) -> str | None:
    """requestbody/responseBody: JSON text kept as it is (it is compact already); an object as compact
    JSON; empty strings (the REST sample's "requestbody": "") as None."""
    if value is None:
        return None
    if isinstance(value, str):
        v = value.strip()
        if not v:
            return None
        if "\n" in v and v[:1] in "{[":
            try:
                return orjson.dumps(orjson.loads(v)).decode()
            except orjson.JSONDecodeError:
                return v
        return v
    return text(value)


# --- who ----------------------------------------------------------------------------------------------


def _claim(c: dict[str, Any], long_key: str, short_key: str) -> str | None:
    """A claim under its v1.0 URI name or its short JWT name, as text."""
    v = c.get(long_key) or c.get(short_key)
    return v if v.__class__ is str else text(v)


def _one(c: dict[str, Any], key: str) -> str | None:
    v = c.get(key)
    return v if v.__class__ is str else text(v)


def _lower(v: str | None) -> str | None:
    return v.strip().lower() if v else None


def _is_guid(v: str | None) -> bool:
    return v is not None and len(v) == 36 and _GUID.fullmatch(v) is not None


def _is_cloud_service(v: str | None) -> bool:
    """Azure itself acting: "Microsoft.Advisor", "Microsoft.Insights/alertRules", "Azure Policy"."""
    if not v or "@" in v:
        return False
    low = v.strip().lower()
    return low.startswith("microsoft.") or low in T.CLOUD_SERVICE_CALLERS


def _email(v: str | None) -> str | None:
    if v and "@" in v:
        v = v.strip()
        # Guests' name claim reads "live.com#user@example.com": the address follows the '#'.
        return v.rsplit("#", 1)[-1] if "#" in v else v
    return None


def who_from_identity(
    f: Fields,
) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None, str | None]:
    """(actor, session, how.auth, the token's ipaddr) from the claims, the caller and the RBAC evidence."""
    c = f.claims
    caller = f.caller
    if c is None and f.identity is not None and ("type" in f.identity or "requester" in f.identity):
        return who_from_storage_identity(f.identity, caller)
    if c is None:
        return who_from_caller(caller, f.authorization), None, None, None

    upn = _claim(c, *T.UPN)
    email_claim = _claim(c, *T.EMAIL)
    name = _one(c, T.NAME) or None
    xml_name = _one(c, T.XML_NAME)
    oid = _lower(_claim(c, *T.OBJECT_ID))
    app_id = _lower(_claim(c, *T.APP_ID))
    spn = _one(c, T.SPN)
    mirid = _one(c, T.MANAGED_IDENTITY)
    evidence_type, evidence_id = _evidence(f.authorization)

    actor_type = actor_type_from_claims(c, upn, email_claim, name, app_id, spn, mirid, caller)
    if actor_type == "unknown" and evidence_type is not None:
        actor_type = evidence_type
    if actor_type == "unknown" and caller:
        actor_type = _type_from_caller(caller)

    email = _email(upn) or _email(email_claim) or _email(xml_name) or _email(name) or _email(caller)
    actor = {
        "type": actor_type,
        "id": oid or evidence_id or (_lower(caller) if _is_guid(caller) else None),
        "name": name
        or (xml_name.strip() if xml_name else None)
        or upn
        or email_claim
        or spn
        or (mirid.rstrip("/").rsplit("/", 1)[-1] if mirid else None)
        or (caller if caller and not _is_guid(caller) else None),
        "email": email,
        "account": _lower(_claim(c, *T.TENANT_ID)),
        "credential_id": _claim(c, *T.TOKEN_ID),
        "credential_type": "temporary",  # an Entra ID access token
        "app_id": app_id,
    }
    amr = _claim(c, *T.AUTH_METHODS)
    mfa = _mfa(amr) if amr else None
    auth = {"method": amr, "mfa": mfa} if amr else None
    issuer = _one(c, T.ISSUER)
    created = _issued_at(_one(c, T.ISSUED_AT))
    session_id = _one(c, T.SESSION_ID)
    session = (
        {"id": session_id, "issuer": issuer, "mfa": mfa, "created": created}
        if issuer or created or session_id or mfa is not None
        else None
    )
    return actor, session, auth, _one(c, T.IP_ADDRESS)


@lru_cache(maxsize=256)
def _mfa(amr: str) -> bool:
    """authnmethodsreferences is a list ("pwd,mfa", "rsa,mfa"; JSON text in some exports)."""
    return "mfa" in amr.lower().replace('"', "").replace("[", "").replace("]", "").replace(" ", "").split(",")


@lru_cache(maxsize=4096)
def _issued_at(iat: str | None) -> datetime | None:
    """The token's iat (epoch seconds as text). One token serves many calls, so the values repeat."""
    return parse_time_opt(int(iat)) if iat and iat.isdigit() and len(iat) < 12 else None


def actor_type_from_claims(
    c: dict[str, Any],
    upn: str | None,
    email_claim: str | None,
    name: str | None,
    app_id: str | None,
    spn: str | None,
    mirid: str | None,
    caller: str | None,
) -> str:
    if _is_cloud_service(email_claim) or _is_cloud_service(spn) or _is_cloud_service(caller):
        return "cloud_service"
    idtyp = _one(c, T.IDENTITY_TYPE)
    if idtyp == "app":
        return "service"
    if idtyp == "user":
        return "human"
    if mirid:
        return "service"  # managed identity
    # A user token carries a UPN or a delegated scope (scp); an app-only token has neither.
    if upn or _claim(c, *T.SCOPE) or _email(email_claim):
        return "human"
    if app_id:
        return "service"
    if _email(name):
        return "human"
    return "unknown"


def _evidence(authorization: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """The role assignment that allowed the call. Assigned to a User or ServicePrincipal directly, its
    principal is the caller; assigned to a Group it says nothing about who the caller is."""
    if not authorization:
        return None, None
    ev = authorization.get("evidence")
    if not isinstance(ev, dict):
        return None, None
    ptype = text(ev.get("principalType"))
    if ptype == "User":
        return "human", _lower(text(ev.get("principalId")))
    if ptype == "ServicePrincipal":
        return "service", _lower(text(ev.get("principalId")))
    return None, None


def _type_from_caller(caller: str) -> str:
    if _is_cloud_service(caller):
        return "cloud_service"
    if "@" in caller:
        return "human"
    if _is_guid(caller):
        return "service"
    return "unknown"


def who_from_caller(caller: str | None, authorization: dict[str, Any] | None) -> dict[str, Any]:
    """No claims: the caller alone (an e-mail -> human, a GUID -> service principal object id)."""
    evidence_type, evidence_id = _evidence(authorization)
    if not caller:
        return {"type": evidence_type or "unknown", "id": evidence_id}
    guid = _is_guid(caller)
    actor_type = _type_from_caller(caller)
    if actor_type == "unknown" and evidence_type is not None:
        actor_type = evidence_type
    return {
        "type": actor_type,
        "id": _lower(caller) if guid else evidence_id,
        "name": None if guid else caller,
        "email": _email(caller),
    }


def who_from_storage_identity(
    identity: dict[str, Any], caller: str | None
) -> tuple[dict[str, Any], None, dict[str, Any] | None, None]:
    """Storage resource logs: identity {type: OAuth|SAS|AccountKey|Anonymous, tokenHash, requester}."""
    kind = text(identity.get("type"))
    requester = identity.get("requester")
    actor: dict[str, Any] = {"type": "unknown"}
    if isinstance(requester, dict):
        upn = text(requester.get("upn"))
        app_id = _lower(text(requester.get("appId")))
        actor = {
            "type": "human" if upn else ("service" if app_id else "unknown"),
            "id": _lower(text(requester.get("objectId"))),
            "name": upn,
            "email": _email(upn),
            "account": _lower(text(requester.get("tenantId"))),
            "app_id": app_id,
        }
    elif kind and kind.lower() == "anonymous":
        actor = {"type": "anonymous"}
    elif caller:
        actor = who_from_caller(caller, None)
    actor["credential_id"] = text(identity.get("tokenHash"))
    if kind and kind.lower() != "anonymous":
        actor["credential_type"] = T.STORAGE_CREDENTIAL_TYPE.get(kind.lower(), "unknown")
    return actor, None, ({"method": kind, "mfa": None} if kind else None), None


# --- where ----------------------------------------------------------------------------------------------


def source_from_caller_ip(value: str | None) -> dict[str, Any]:
    """where.source from callerIpAddress: an address (with a port or a prefix), a network range
    ("127.0.0.0/8" is a range, not an address: where.source.network) or a host name; 0.0.0.0 means
    'no address'."""
    out = source_fields(value)
    return {"ip": None, "domain": None} if out["ip"] in _UNSPECIFIED_IPS else out


# --- role assignments, authorization, further targets ----------------------------------------------------


def role_assignments(rules: tuple[Any, ...], roots: dict[str, Any], rid_text: str | None) -> list[dict[str, Any]]:
    """Role assignments written or deleted, with the built-in role's name and the scope (from the body,
    else the part of the resource id before the assignment)."""
    changes = privilege_changes(rules, roots)
    for c in changes:
        role = c["role"]
        if role:
            c["role_name"] = BUILTIN_ROLES.get(role.rstrip("/").rsplit("/", 1)[-1].lower())
        grantee = c["grantee"]
        if grantee is not None:
            if grantee["type"] is not None:
                grantee["type"] = GRANTEE_TYPES.get(grantee["type"], grantee["type"])
            grantee["id"] = grantee["id"].lower() if _is_guid(grantee["id"]) else grantee["id"]
            grantee["name"] = None  # the body names the principal by object id only
        if c["scope"] is None and rid_text:
            cut = rid_text.lower().find("/providers/microsoft.authorization/")
            c["scope"] = rid_text[:cut] if cut > 0 else None
    return changes


def authorization_from(
    authorization: dict[str, Any], outcome: str, error: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """identity.authorization: the action checked on a scope. Evidence (the caller's role assignment)
    means it was granted; an AuthorizationFailed error means it was not."""
    action = text(authorization.get("action"))
    if action is None:
        return []
    granted: bool | None = None
    if isinstance(authorization.get("evidence"), dict):
        granted = True
    elif error is not None and (error.get("code") or "").startswith("Authorization"):
        granted = False
    return [{"permission": action, "granted": granted, "resource": text(authorization.get("scope"))}]


def resources_from_targets(rules: tuple[Any, ...], roots: dict[str, Any], out: list[dict[str, Any]]) -> None:
    seen = {(r["id"] or "").lower() for r in out}
    for rule in rules:
        for value in first_texts(roots, rule.paths):
            if value.lower() in seen:
                continue
            seen.add(value.lower())
            rid = parse_resource_id(value)
            out.append({
                "type": rid.type if rule.type == "scope" else rule.type,
                "id": value,
                "name": rid.name or rid.resource_group or rid.subscription,
                "account": rid.subscription,
                "region": None,
            })


@lru_cache(maxsize=1024)
def region_from_location(location: str | None) -> str | None:
    """ARM region names: "West Europe" and "westeurope" are one region; "global" stays "global"."""
    if not location:
        return None
    return location.replace(" ", "").lower() or None


def org_from_tenant(f: Fields) -> str | None:
    """The tenant the event happened in: tenantId; else the root of the management-group hierarchy
    ("<tenant>/<mg>/.../<subscription>"), whose id is the tenant id."""
    if f.tenant:
        return _lower(f.tenant)
    h = f.hierarchy
    if h and "/" in h:
        return _lower(h.split("/", 1)[0])
    return None


# --- how ------------------------------------------------------------------------------------------------


def how_from_request(
    f: Fields, props: dict[str, Any], actor: dict[str, Any], auth: dict[str, Any] | None
) -> dict[str, Any]:
    http = f.http_request
    if not props and http is None:
        return {
            "user_agent": None,
            "client": client_of(actor, None),
            "auth": auth,
            "tls": None,
            "request_id": None,
            "correlation_id": f.correlation_id,
        }
    user_agent = text(props.get("userAgentHeader"))
    request_id = (
        text(props.get("serviceRequestId"))
        or (text(http.get("clientRequestId")) if http is not None else None)
        or text(props.get("clientRequestId"))
    )
    tls = text(props.get("tlsVersion"))
    return {
        "user_agent": user_agent,
        "client": client_of(actor, user_agent),
        "auth": auth,
        "tls": {"version": tls} if tls else None,
        "request_id": request_id,
        "correlation_id": f.correlation_id,
    }


def client_of(actor: dict[str, Any], user_agent: str | None) -> str:
    if actor.get("type") == "cloud_service":
        return "cloud_service"
    if user_agent:
        return client_from_user_agent(user_agent)
    app_id = actor.get("app_id")
    if app_id:
        return T.CLIENT_BY_APP_ID.get(app_id, "unknown")
    return "unknown"


# --- ids and helpers -----------------------------------------------------------------------------------


def _ticks_beyond_micro(time_text: str | None) -> str:
    """The digits past microseconds (Azure writes 100 ns ticks), so ids tell them apart."""
    dot = time_text.find(".") if time_text else -1
    if time_text is None or dot < 0:
        return ""
    start = dot + 7
    end = start
    n = len(time_text)
    while end < n and time_text[end].isdigit():
        end += 1
    return time_text[start:end].rstrip("0")


def _operation_field(f: Fields) -> str:
    return {"rest_api": "operationName.value", "log_analytics": "OperationNameValue"}.get(
        f.shape, "operationName"
    )
