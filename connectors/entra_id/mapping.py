"""Entra ID record -> event dict, one small function per field group (decisions in README.md)."""

from __future__ import annotations

import re
from typing import Any

from connectors.base import MapContext
from connectors.common import as_bool, as_list, client_from_user_agent, compact_json, ip_or_domain, text
from connectors.errors import MappingError
from connectors.kit import compact, privilege_change
from connectors.timeutil import parse_time
from schemas.ids import event_id

from . import tables as T
from .parse import View, view_of

_KEY_ID = re.compile(r"KeyIdentifier=([0-9A-Za-z-]+)")


def map_record(record: dict[str, Any], ctx: MapContext) -> dict[str, Any]:
    v = view_of(record)
    if v.category == T.AUDIT_CATEGORY:
        return map_audit(v, ctx)
    return map_signin(v, ctx)


# --- shared -----------------------------------------------------------------------------------------


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def when_from(v: View, prop: str) -> dict[str, Any]:
    # The properties' own timestamp is the same in every shape; the record time is when it was logged.
    raw = v.props.get(prop)
    field = f"properties.{prop}"
    if raw is None or raw == "":
        raw, field = v.time, v.time_field
    time, time_text = parse_time(raw, field)
    return {"time": time, "time_text": time_text}


def source_from(ip_value: Any) -> dict[str, Any]:
    ip, domain = ip_or_domain(text(ip_value))
    return {"ip": ip, "domain": domain}


def _native_id(v: View) -> str:
    nid = text(v.props.get("id"))
    if nid is None:
        raise MappingError("missing_id", f"{v.category} record without properties.id (the sign-in or audit id)")
    return nid


# --- sign-ins ---------------------------------------------------------------------------------------


def outcome_from_status(v: View) -> tuple[str, dict[str, Any] | None, str | None]:
    """resultType "0" (or status.errorCode 0) is success; any other code is a failure with its reason."""
    status = _obj(v.props.get("status"))
    code = status.get("errorCode")
    if code is None:
        code = v.result_type
    code_text = text(code)
    if code_text is None:
        return "unknown", None, None
    if code_text == "0":
        return "success", None, None
    reason = text(status.get("failureReason")) or text(v.result_description)
    return "failure", compact({"code": code_text, "message": reason}), reason


def who_from_signin(v: View, actor_type: str) -> dict[str, Any]:
    p = v.props
    if actor_type == "human":
        upn = text(p.get("userPrincipalName"))
        return compact({
            "type": "human",
            "id": text(p.get("userId")),
            "unique_id": text(p.get("userId")),
            "name": text(p.get("userDisplayName")) or upn,
            "email": upn if upn and "@" in upn else None,
            "account": text(p.get("homeTenantId")) or text(v.tenant),
            "app_id": text(p.get("appId")),
        }) or {"type": "human"}
    cred = text(p.get("servicePrincipalCredentialKeyId"))
    return compact({
        "type": "service",
        "id": text(p.get("servicePrincipalId")),
        "unique_id": text(p.get("servicePrincipalId")),
        "name": text(p.get("servicePrincipalName")) or text(p.get("appDisplayName")),
        "account": text(v.tenant),
        "app_id": text(p.get("appId")),
        "credential_id": cred,
        "credential_type": "long_lived" if cred else None,
    }) or {"type": "service"}


def auth_from_signin(v: View, interactive_default: bool, outcome: str, failure_reason: str | None) -> dict[str, Any]:
    p = v.props
    steps = [_obj(s) for s in as_list(p.get("authenticationDetails"))]
    first = next((text(s.get("authenticationMethod")) for s in steps if s.get("authenticationMethod")), None)
    mfa_steps = [s for s in steps if (text(s.get("authenticationMethod")) or "").lower() not in T.FIRST_FACTORS
                 and s.get("authenticationMethod")]
    mfa_detail = _obj(p.get("mfaDetail"))
    mfa_method = text(mfa_detail.get("authMethod")) or next(
        (text(s.get("authenticationMethod")) for s in mfa_steps), None)
    required = (text(p.get("authenticationRequirement")) or "").lower()
    mfa_required = (required == T.MFA_REQUIRED) if required else None
    mfa_ok = any(as_bool(s.get("succeeded")) for s in mfa_steps)
    if mfa_required and outcome == "success" and not mfa_steps:
        # Satisfied by a claim in the token (MFA done earlier in the session): Entra says so in status.
        mfa_ok = "mfa" in (text(_obj(p.get("status")).get("additionalDetails")) or "").lower()
    interactive = as_bool(p.get("isInteractive"))
    ca = text(p.get("conditionalAccessStatus"))
    risk = (text(p.get("riskLevelDuringSignIn")) or text(p.get("riskLevelAggregated")) or "").lower() or None
    device = _obj(p.get("deviceDetail"))
    method = first
    if method is None and p.get("clientCredentialType"):
        method = T.CLIENT_CREDENTIAL_METHODS.get(str(p["clientCredentialType"]), text(p["clientCredentialType"]))
    return compact({
        "method": method,
        "mfa": mfa_ok if (mfa_required or mfa_steps) else (False if interactive_default else None),
        "interactive": interactive if interactive is not None else interactive_default,
        "mfa_required": mfa_required,
        "mfa_method": mfa_method,
        "failure_reason": failure_reason,
        "conditional_access": T.CONDITIONAL_ACCESS.get(ca.lower(), ca) if ca else None,
        "risk_level": risk if risk in T.RISK_LEVELS else None,
        "app_name": text(p.get("appDisplayName")),
        "client_app": text(p.get("clientAppUsed")),
        "device": compact({
            "id": text(device.get("deviceId")),
            "name": text(device.get("displayName")),
            "os": text(device.get("operatingSystem")),
            "browser": text(device.get("browser")),
            "compliant": as_bool(device.get("isCompliant")),
            "managed": as_bool(device.get("isManaged")),
            "trust_type": text(device.get("trustType")),
        }),
        "location": location_from(_obj(p.get("location"))),
    }) or {}


def location_from(loc: dict[str, Any]) -> dict[str, Any] | None:
    geo = _obj(loc.get("geoCoordinates"))
    lat, lon = geo.get("latitude"), geo.get("longitude")
    return compact({
        "country": text(loc.get("countryOrRegion")),
        "region": text(loc.get("state")),
        "city": text(loc.get("city")),
        "lat": float(lat) if isinstance(lat, int | float) and not isinstance(lat, bool) else None,
        "lon": float(lon) if isinstance(lon, int | float) and not isinstance(lon, bool) else None,
    })


def map_signin(v: View, ctx: MapContext) -> dict[str, Any]:
    kind, action, actor_type, interactive_default = T.SIGNIN_CATEGORIES[v.category]
    p = v.props
    nid = _native_id(v)
    when = when_from(v, "createdDateTime")
    outcome, error, reason = outcome_from_status(v)
    auth = auth_from_signin(v, interactive_default, outcome, reason)
    ua = text(p.get("userAgent"))
    risk_tags = ["risky_sign_in"] if auth.get("risk_level") in T.RISKY else []
    if auth.get("conditional_access") == "failure":
        risk_tags.append("conditional_access_blocked")
    resource = compact({"type": "application", "id": text(p.get("resourceId")),
                        "name": text(p.get("resourceDisplayName"))})
    return {
        "id": event_id(T.FORMAT, nid, kind),
        "when": {**when, "ingested": ctx.ingested},
        "who": {"actor": who_from_signin(v, actor_type),
                "session": compact({"id": text(p.get("sessionId")), "issuer": text(p.get("tokenIssuerType")),
                                    "mfa": auth.get("mfa")})},
        "what": {
            "action": action,
            "operation": "Sign-in activity",
            "service": "Microsoft Entra ID",
            "activity": "login",
            "category": "authentication",
            "read_only": False,
            "outcome": outcome,
            "error": error,
            "resources": [resource] if resource else [],
            "risk_tags": risk_tags,
            "plane": "management",
        },
        "where": {"provider": T.PROVIDER, "account": text(v.tenant), "source": source_from(p.get("ipAddress") or v.caller_ip)},
        "how": {"user_agent": ua, "client": client_from_user_agent(ua), "auth": auth,
                "request_id": nid, "correlation_id": text(p.get("correlationId"))},
        "source": {"format": T.FORMAT, "native_id": nid, "log": v.category, "shape": v.shape, "location": ctx.location},
        "raw": ctx.raw,
    }


# --- directory audit ---------------------------------------------------------------------------------


def who_from_initiator(v: View) -> tuple[dict[str, Any], Any]:
    by = _obj(v.props.get("initiatedBy"))
    user = _obj(by.get("user"))
    if user:
        upn = text(user.get("userPrincipalName"))
        return compact({"type": "human", "id": text(user.get("id")), "unique_id": text(user.get("id")),
                        "name": text(user.get("displayName")) or upn,
                        "email": upn if upn and "@" in upn else None, "account": text(v.tenant)}) or {"type": "human"}, \
            user.get("ipAddress")
    app = _obj(by.get("app"))
    if app:
        return compact({"type": "service", "id": text(app.get("servicePrincipalId")),
                        "name": text(app.get("displayName")) or text(app.get("servicePrincipalName")),
                        "app_id": text(app.get("appId")), "account": text(v.tenant)}) or {"type": "service"}, None
    return {"type": "unknown"}, None


def _modified(target: dict[str, Any]) -> dict[str, str]:
    """modifiedProperties as name -> new value (JSON-quoted strings unquoted)."""
    out = {}
    for m in as_list(target.get("modifiedProperties")):
        m = _obj(m)
        name = text(m.get("displayName"))
        new = text(m.get("newValue"))
        if name and new:
            out[name] = new.strip().strip('"')
    return out


def resources_from(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for t in targets:
        r = compact({"type": T.TARGET_TYPES.get((text(t.get("type")) or "").lower(), text(t.get("type"))),
                     "id": text(t.get("id")),
                     "name": text(t.get("userPrincipalName")) or text(t.get("displayName"))})
        if r:
            out.append(r)
    return out


def _grantee(t: dict[str, Any] | None) -> dict[str, Any] | None:
    if not t:
        return None
    return compact({"type": T.TARGET_TYPES.get((text(t.get("type")) or "").lower(), text(t.get("type"))),
                    "id": text(t.get("id")), "name": text(t.get("userPrincipalName")) or text(t.get("displayName"))})


def privilege_changes_from(operation: str, spec: tuple[str, str, str] | None,
                           targets: list[dict[str, Any]], tenant: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The table's change for this activity, read from the targets; also an issued key id, if any."""
    if spec is None:
        return [], None
    op, kind, source = spec
    by_type: dict[str, dict[str, Any]] = {}
    for t in targets:
        by_type.setdefault((text(t.get("type")) or "").lower(), t)
    principal = by_type.get("user") or by_type.get("serviceprincipal") or by_type.get("group") or (
        targets[0] if targets else None)
    mods: dict[str, str] = {}
    for t in targets:
        mods.update(_modified(t))
    scope = f"/tenants/{tenant}" if tenant else "/"
    if source == "role":
        role_target = by_type.get("role")
        role = mods.get("Role.TemplateId") or mods.get("Role.ObjectID") or (text(role_target.get("id")) if role_target else None)
        role_name = mods.get("Role.DisplayName") or (text(role_target.get("displayName")) if role_target else None)
        return [privilege_change(op, kind, role=role, role_name=role_name, grantee=_grantee(principal),
                                 scope=mods.get("DirectoryScopeId") or scope)], None
    if source == "group":
        group = by_type.get("group")
        member = by_type.get("user") or by_type.get("serviceprincipal") or by_type.get("device")
        return [privilege_change(op, kind, role=text(group.get("id")) if group else mods.get("Group.ObjectID"),
                                 role_name=(text(group.get("displayName")) if group else None) or mods.get("Group.DisplayName"),
                                 grantee=_grantee(member), scope=scope)], None
    if source == "credential":
        app = by_type.get("application") or by_type.get("serviceprincipal") or principal
        blob = " ".join(mods.values())
        m = _KEY_ID.search(blob)
        return [privilege_change(op, kind, grantee=_grantee(app), scope=scope)], (m.group(1) if m else None)
    if source == "method":
        method = next((mods[k] for k in ("StrongAuthenticationMethod", "MethodType", "AuthenticationMethod",
                                          "StrongAuthenticationPhoneAppDetail") if k in mods), None)
        return [privilege_change(op, kind, role=method, grantee=_grantee(by_type.get("user") or principal),
                                 scope=scope)], None
    if source == "user":
        return [privilege_change(op, kind, role=T.USER_CHANGE_ROLE.get(operation), grantee=_grantee(principal),
                                 scope=scope)], None
    return [privilege_change(op, kind, role=text(principal.get("id")) if principal else None,
                             grantee=_grantee(principal), scope=scope)], None


def map_audit(v: View, ctx: MapContext) -> dict[str, Any]:
    p = v.props
    operation = text(p.get("activityDisplayName"))
    if operation is None:
        raise MappingError("missing_operation", "AuditLogs record without properties.activityDisplayName")
    nid = _native_id(v)
    when = when_from(v, "activityDateTime")
    activity, category, spec = T.AUDIT.get(operation, ("other", "iam", None))
    targets = [_obj(t) for t in as_list(p.get("targetResources"))]
    changes, key_id = privilege_changes_from(operation, spec, targets, text(v.tenant))
    result = (text(p.get("result")) or "").lower()
    outcome = T.AUDIT_RESULTS.get(result, "unknown")
    reason = text(p.get("resultReason"))
    actor, ip = who_from_initiator(v)
    details = [{"key": text(_obj(d).get("key")) or "", "value": text(_obj(d).get("value"))}
               for d in as_list(p.get("additionalDetails")) if _obj(d).get("key")]
    ua = next((d["value"] for d in details if d["key"] == "User-Agent"), None)
    return {
        "id": event_id(T.FORMAT, nid, "audit"),
        "when": {**when, "ingested": ctx.ingested},
        "who": {"actor": actor},
        "what": {
            "action": "entra:" + "".join(w[:1].upper() + w[1:] for w in re.split(r"[^0-9A-Za-z]+", operation) if w),
            "operation": operation,
            "service": text(p.get("loggedByService")) or "Core Directory",
            "activity": activity,
            "category": category,
            "read_only": False,
            "outcome": outcome,
            "error": compact({"code": result, "message": reason}) if outcome == "failure" else None,
            "resources": resources_from(targets),
            "privilege_changes": changes,
            "issued": {"credential_id": key_id} if key_id else None,
            "details": details,
            "request": compact_json([_modified(t) for t in targets if _modified(t)]),
            "plane": "management",
        },
        "where": {"provider": T.PROVIDER, "account": text(v.tenant), "source": source_from(ip or v.caller_ip)},
        "how": {"user_agent": ua, "client": client_from_user_agent(ua), "request_id": nid,
                "correlation_id": text(p.get("correlationId"))},
        "source": {"format": T.FORMAT, "native_id": nid, "log": "AuditLogs", "shape": v.shape,
                   "location": ctx.location},
        "raw": ctx.raw,
    }
