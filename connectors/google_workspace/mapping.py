"""Google Workspace activity -> event dict, one small function per field group (decisions in README.md)."""

from __future__ import annotations

from typing import Any

from connectors.base import MapContext
from connectors.common import as_bool, compact_json, ip_or_domain, text
from connectors.errors import MappingError
from connectors.kit import compact, privilege_change
from connectors.timeutil import parse_time
from schemas.ids import event_id

from . import tables as T
from .parse import View, view_of


def map_record(record: dict[str, Any], ctx: MapContext) -> dict[str, Any]:
    v = view_of(record)
    if not v.events or not v.events[0][1]:
        raise MappingError("missing_operation", "Workspace activity without an event name (events[].name)")
    if v.app is None:
        raise MappingError("unknown_application", "Workspace activity without an application (id.applicationName)")
    event_type, name, params = v.events[0]
    name = str(name)
    time, time_text = parse_time(v.time, v.time_field)
    # Millisecond time: the precision both shapes share, so Logging and Reports copies get one id.
    id_time = time.replace(microsecond=time.microsecond // 1000 * 1000).isoformat()
    activity, category, outcome_rule, change = T.EVENTS.get((v.app, name), ("other", "other", "unknown", None))
    outcome = outcome_from(outcome_rule, params, v)
    auth = auth_from(v.app, name, params, outcome) if v.app in T.AUTH_APPS or category == "authentication" else None
    changes = changes_from(change, params, v)
    risky = name in T.SUSPICIOUS_EVENTS or as_bool(params.get("is_suspicious")) is True
    ip, domain = ip_or_domain(text(v.ip))
    return {
        "id": event_id(T.FORMAT, v.unique, id_time, v.app, name),
        "when": {"time": time, "time_text": time_text, "ingested": ctx.ingested},
        "who": {"actor": actor_from(v)},
        "what": {
            "action": f"workspace.{v.app}:{name}",
            "operation": name,
            "service": v.app,
            "activity": activity,
            "category": category,
            "read_only": False,
            "outcome": outcome,
            "error": compact({"code": text(params.get("login_failure_type")) or text(params.get("failure_type")),
                              "message": failure_reason(params, v)}) if outcome == "failure" else None,
            "resources": resources_from(params),
            "privilege_changes": changes,
            "risk_tags": ["risky_sign_in"] if risky else [],
            "details": details_from(event_type, params, v),
            "plane": "management",
        },
        "where": {"provider": T.PROVIDER, "account": v.customer, "org": v.org, "source": {"ip": ip, "domain": domain}},
        "how": {"auth": auth, "request_id": v.unique},
        "source": {"format": T.FORMAT, "native_id": v.unique, "log": v.app, "shape": v.shape, "location": ctx.location},
        "raw": ctx.raw,
    }


def actor_from(v: View) -> dict[str, Any]:
    # callerType KEY is an API key / OAuth client acting alone; everything else is a person's account.
    kind = "service" if (v.caller_type or "").upper() == "KEY" else ("human" if v.email else "unknown")
    return compact({"type": kind, "id": v.email or v.profile_id, "email": v.email, "unique_id": v.profile_id,
                    "account": v.customer}) or {"type": "unknown"}


def outcome_from(rule: str, params: dict[str, Any], v: View) -> str:
    if rule.startswith("param:"):
        word = (text(params.get(rule[6:])) or "").lower()
        return T.CHALLENGE_STATUS.get(word, "unknown")
    if rule == "success" and v.status_message:
        return "failure"
    return rule


def failure_reason(params: dict[str, Any], v: View) -> str | None:
    return (text(params.get("login_failure_type")) or text(params.get("failure_type"))
            or text(params.get("saml_status_code")) or _caa_reason(params) or v.status_message)


def _caa_reason(params: dict[str, Any]) -> str | None:
    unmet = params.get("CAA_ACCESS_LEVEL_UNSATISFIED")
    if unmet is None:
        return None
    return "access level not satisfied: " + (", ".join(map(str, unmet)) if isinstance(unmet, list) else str(unmet))


def _methods(params: dict[str, Any]) -> list[str]:
    m = params.get("login_challenge_method")
    if isinstance(m, list):
        return [str(x) for x in m]
    return [str(m)] if m is not None else []


def auth_from(app: str, name: str, params: dict[str, Any], outcome: str) -> dict[str, Any] | None:
    methods = _methods(params)
    second = [m for m in methods if m.lower() not in T.FIRST_FACTORS]
    is_second = as_bool(params.get("is_second_factor"))
    mfa: bool | None = None
    if second or is_second:
        mfa = outcome == "success"
    elif methods and outcome == "success":
        mfa = False
    caa = app == "context_aware_access"
    risky = name in T.SUSPICIOUS_EVENTS or as_bool(params.get("is_suspicious")) is True
    return compact({
        "method": text(params.get("login_type")) or (methods[0] if methods else None) or ("saml" if app == "saml" else None),
        "mfa": mfa,
        "interactive": T.INTERACTIVE.get(app),
        "mfa_method": second[0] if second else None,
        "failure_reason": (text(params.get("login_failure_type")) or text(params.get("failure_type"))
                           or text(params.get("saml_status_code")) or _caa_reason(params)) if outcome == "failure" else None,
        "conditional_access": ("failure" if outcome == "failure" else "success") if caa else None,
        "risk_level": T.SUSPICIOUS_RISK_LEVEL if risky else None,
        "app_name": text(params.get("application_name")) or text(params.get("app_name"))
        or text(params.get("CAA_APPLICATION")),
        "client_app": text(params.get("client_type")) or text(params.get("CAA_DEVICE_STATE")),
    })


def _param_text(params: dict[str, Any], key: str) -> str | None:
    val = params.get(key)
    if isinstance(val, list):
        return ",".join(map(str, val)) or None
    return text(val)


def changes_from(spec: tuple[str, str, str | None] | None, params: dict[str, Any], v: View) -> list[dict[str, Any]]:
    if spec is None:
        return []
    op, kind, role_rule = spec
    role = _param_text(params, role_rule[6:]) if role_rule and role_rule.startswith("param:") else role_rule
    if kind == "role_binding" and params.get("ROLE_ID") is not None:
        role = text(params["ROLE_ID"])  # the id is stable; ROLE_NAME goes to role_name
    grantee = next((compact({"type": t, "id": text(params[k]), "name": text(params.get("app_name")) if t == "application" else None})
                    for k, t in T.GRANTEE_PARAMS if params.get(k) is not None), None)
    if grantee is None and v.email:
        grantee = {"type": "user", "id": v.email}  # the actor's own account (2SV, app authorisation)
    return [privilege_change(op, kind, role=role, role_name=text(params.get("ROLE_NAME")) if kind == "role_binding" else None,
                             grantee=grantee, scope=f"customers/{v.customer}" if v.customer else None)]


def resources_from(params: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    seen = set()
    for key, kind in T.RESOURCE_PARAMS:
        val = text(params.get(key))
        if val and (kind, val) not in seen:
            seen.add((kind, val))
            out.append({"type": kind, "id": val})
    return out


def details_from(event_type: Any, params: dict[str, Any], v: View) -> list[dict[str, Any]]:
    out = [{"key": "event_type", "value": text(event_type)}] if event_type else []
    for k in sorted(params):
        out.append({"key": k, "value": text(params[k]) if not isinstance(params[k], list | dict) else compact_json(params[k])})
    for extra in v.events[1:]:
        out.append({"key": "also", "value": text(extra[1])})
    return out
