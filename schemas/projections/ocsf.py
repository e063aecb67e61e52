"""Event -> OCSF 1.8.0 (``cloud`` profile).

The projection works on the canonical event as JSON (a dict, as sinks and cold storage have it), so a
sink can project the lines it is given without building the pydantic model again. The class and
activity come from the tables in ``schemas.projections.tables``; every field keeps its meaning:
``cloud.account`` is where the call happened (``where.account``), the caller's account is
``actor.user.account``; what OCSF has no attribute for goes to ``unmapped`` under its cloudaudit name,
so nothing a rule needs is lost. Enrichments (identity, account, network context) are carried as OCSF
``enrichments``; the who/where values a hunt pivots on are ``observables``.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson

from schemas.projections import tables as t

Json = dict[str, Any]

# OCSF's email_t pattern: an address it would reject stays in unmapped.actor_email.
_EMAIL = re.compile(t.OCSF_EMAIL_PATTERN)


def _epoch_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


# Session creation times repeat across a batch (event, delivery and ingest times do not: _epoch_ms).
@lru_cache(maxsize=65536)
def _ms(text: str | None) -> int | None:
    return _epoch_ms(text) if text else None


def _clean(d: Json) -> Json:
    """Drop None, empty strings, lists and dicts (OCSF has no nulls to say 'not known')."""
    # Keeps what is truthy, False and 0; drops None, "", [] and {} (cheaper than comparing with each).
    return {k: v for k, v in d.items() if v or v is False or v == 0}


@lru_cache(maxsize=16384)
def _email(text: str | None) -> str | None:
    return text if text and _EMAIL.match(text) else None


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


# --- class choice ------------------------------------------------------------------------------------


def ocsf_class(event: Json) -> tuple[int, int]:
    """(class_uid, activity_id) for an event, from the tables."""
    what = event["what"]
    action = what.get("action", "")
    auth = t.AUTH_ACTIONS.get(action)
    if auth is None:
        auth = t.AUTH_BY_ACTIVITY.get((what.get("category", "other"), what.get("activity", "other")))
    if auth is not None:
        return t.AUTHENTICATION, auth
    changes = what.get("privilege_changes") or []
    if changes:
        ops = {t.PRIVILEGE_OPS.get(c.get("op", ""), 99) for c in changes}
        return t.USER_ACCESS, ops.pop() if len(ops) == 1 else 99
    account = t.ACCOUNT_ACTIONS.get(action)
    if account is not None:
        return t.ACCOUNT_CHANGE, account
    return t.API_ACTIVITY, t.API_ACTIVITIES.get(what.get("activity", "other"), 99)


# --- objects -----------------------------------------------------------------------------------------


# The user object (but its credential) and its observables depend on who.actor's identity fields
# only, and a batch holds many events of few principals (each session and key of its own): they are
# made once per principal and shared, read-only, by the events' projections. Bounded: cleared when full.
_USERS: dict[tuple[Any, ...], tuple[Json, list[Json]]] = {}
_USERS_MAX = 4096
_IDENTITY = ("id", "unique_id", "name", "email", "type", "account")


def _user_parts(actor: Json) -> tuple[Json, list[Json]]:
    key = tuple(actor.get(k) for k in _IDENTITY)
    hit = _USERS.get(key)
    if hit is None:
        if len(_USERS) >= _USERS_MAX:
            _USERS.clear()
        hit = _USERS[key] = (_user_base(actor), _actor_observables(actor))
    return hit


def _user_base(actor: Json) -> Json:
    type_id, type_name = t.OCSF_USER_TYPE.get(actor.get("type") or "unknown", (0, "Unknown"))
    user = _clean({
        "uid": actor.get("id"),
        "uid_alt": actor.get("unique_id"),
        "name": actor.get("name"),
        "email_addr": _email(actor.get("email")),
        "type_id": type_id,
        "type": type_name,
        "account": {"uid": actor["account"]} if actor.get("account") else None,
    })
    if not ({"uid", "name", "account"} & user.keys()):
        user["name"] = "unknown"  # the user object needs one of uid/name/account; say it plainly
    return user


def user_from_actor(event: Json) -> Json:
    actor = event["who"].get("actor") or {}
    user = _user_parts(actor)[0]
    credential = actor.get("credential_id")
    return {**user, "credential_uid": credential} if credential else user


def session_from_who(who: Json) -> Json:
    s = who.get("session")
    actor = who.get("actor") or {}
    out: Json = {}
    if s:
        if s.get("id"):
            out["uid"] = s["id"]
        if s.get("name"):
            out["uid_alt"] = s["name"]
        if s.get("issuer"):
            out["issuer"] = s["issuer"]
        if s.get("mfa") is not None:
            out["is_mfa"] = s["mfa"]
        if s.get("created"):
            out["created_time"] = _ms(s["created"])
    if actor.get("credential_type") == "temporary" and actor.get("credential_id"):
        out["credential_uid"] = actor["credential_id"]
    return out


def actor_from_who(event: Json) -> Json:
    who = event["who"]
    actor = who.get("actor") or {}
    out: Json = {"user": user_from_actor(event)}
    session = session_from_who(who)
    if session:
        out["session"] = session
    if who.get("invoked_by"):
        out["invoked_by"] = who["invoked_by"]
    if actor.get("app_id"):
        out["app_uid"] = actor["app_id"]
    if event["what"].get("authorization"):
        authorizations = authorizations_from(event)
        if authorizations:
            out["authorizations"] = authorizations
    s = who.get("session")
    if s and s.get("issuer_type"):
        out["idp"] = {"name": s["issuer_type"], "issuer": s["issuer"]} if s.get("issuer") else {"name": s["issuer_type"]}
    return out


def src_endpoint_from_where(event: Json) -> Json:
    where = event["where"]
    src = where.get("source") or {}
    out: Json = {}
    if src.get("ip"):
        out["ip"] = src["ip"]
    if src.get("domain"):
        out["domain"] = src["domain"]
    if where.get("vpc_endpoint"):
        out["uid"] = where["vpc_endpoint"]
    geo = src.get("geo")
    if geo and (geo.get("country") or geo.get("region") or geo.get("city")):
        out["location"] = _clean({
            "country": geo.get("country"), "region": geo.get("region"), "city": geo.get("city"),
            "lat": geo.get("lat"), "long": geo.get("lon"),
        })
    if src.get("asn") is not None or src.get("as_org"):
        out["autonomous_system"] = _clean({"number": src.get("asn"), "name": src.get("as_org")})
    if src.get("forwarded"):
        out["intermediate_ips"] = src["forwarded"]
    if src.get("network"):
        out["subnet_uid"] = src["network"]
    if not out.keys() & {"ip", "domain", "uid"}:
        # API Activity requires a source endpoint; a call with no address says so rather than guessing.
        out["name"] = event["who"].get("invoked_by") or "unknown"
    return out


def api_from_what(event: Json) -> Json:
    what = event["what"]
    how = event.get("how") or {}
    out: Json = {"operation": what.get("operation")}
    if what.get("service"):
        out["service"] = {"name": what["service"]}
    # request/response data stay the compact JSON text they are (OCSF json_t takes text): parsing and
    # re-serializing them would be most of the projection's cost, for the same content.
    if how.get("request_id"):
        out["request"] = {"uid": how["request_id"], "data": what["request"]} if what.get("request") \
            else {"uid": how["request_id"]}
    err = what.get("error")
    response = _clean({"error": err.get("code"), "message": err.get("message")}) if err else {}
    if what.get("response"):
        response["data"] = what["response"]
    if response:
        out["response"] = response
    return out


def resources_from_what(event: Json) -> list[Json]:
    out = []
    for r in event["what"].get("resources") or []:
        if not (r.get("id") or r.get("name")):
            continue
        tags = [_clean({"name": tag["key"], "value": tag.get("value")}) for tag in r.get("tags") or []]
        out.append(_clean({
            "uid": r.get("id"),
            "name": r.get("name"),
            "type": r.get("type"),
            "region": r.get("region"),
            "owner": {"account": {"uid": r["account"]}} if r.get("account") else None,
            "tags": [tag for tag in tags if "value" in tag],
        }))
    return out


_CLOUDS: dict[tuple[Any, ...], Json] = {}


def cloud_from_where(event: Json) -> Json:
    """The cloud object (shared, read-only, by the events of one account and region)."""
    where = event["where"]
    context = where.get("account_context")
    key = (where.get("provider"), where.get("region"), where.get("account"), where.get("org"),
           context.get("name") if context else None)
    hit = _CLOUDS.get(key)
    if hit is None:
        if len(_CLOUDS) >= _USERS_MAX:
            _CLOUDS.clear()
        hit = _CLOUDS[key] = _make_cloud(event)
    return hit


def _make_cloud(event: Json) -> Json:
    where = event["where"]
    provider = where.get("provider") or ""
    type_id, type_name = t.OCSF_ACCOUNT_TYPE.get(provider, (0, "Unknown"))
    context = where.get("account_context") or {}
    account = _clean({"uid": where.get("account"), "name": context.get("name")})
    if account:
        account.update(type_id=type_id, type=type_name)
    return _clean({
        "provider": t.OCSF_PROVIDER.get(provider, provider),
        "region": where.get("region"),
        "account": account,
        "project_uid": where.get("account") if provider == "gcp" else None,
        "org": _clean({"uid": where.get("org")}),
    })


_PRODUCTS = {fmt: {"name": name, "vendor_name": vendor} for fmt, (name, vendor) in t.OCSF_PRODUCT.items()}
_METADATA_SOURCE = (("native_id", "original_event_uid"), ("log", "log_name"), ("location", "log_source"),
                    ("shape", "log_format"))


def metadata_from_source(event: Json) -> Json:
    source = event["source"]
    when = event["when"]
    fmt = source.get("format") or "unknown"
    out: Json = {
        "version": t.OCSF_VERSION,
        "profiles": list(t.OCSF_PROFILES),
        "product": _PRODUCTS.get(fmt) or {"name": fmt, "vendor_name": "unknown"},
        "uid": event.get("id"),
    }
    for key, name in _METADATA_SOURCE:
        if source.get(key):
            out[name] = source[key]
    if event["what"].get("operation"):
        out["event_code"] = event["what"]["operation"]
    if when.get("time_text"):
        out["original_time"] = when["time_text"]
    if when.get("observed"):
        out["logged_time"] = _epoch_ms(when["observed"])
    if when.get("ingested"):
        out["processed_time"] = _epoch_ms(when["ingested"])
    how = event.get("how")
    if how and how.get("correlation_id"):
        out["correlation_uid"] = how["correlation_id"]
    return out


_NETWORK_CONTEXT = ("geo", "asn", "as_org", "cloud_provider", "cloud_service", "internal", "threat_tags")


def enrichments_from(event: Json) -> list[Json]:
    """Identity, account and network context as OCSF enrichments (name = the attribute enriched)."""
    out: list[Json] = []
    who = event["who"]
    where = event["where"]
    person = who.get("person")
    if person:
        actor = who.get("actor") or {}
        value = actor.get("id") or actor.get("name") or person.get("id") or "unknown"
        out.append({"name": "actor.user.uid", "value": value, "type": "identity", "data": _clean(person)})
    context = where.get("account_context")
    if context:
        value = where.get("account") or context.get("id") or "unknown"
        out.append({"name": "cloud.account.uid", "value": value, "type": "account", "data": _clean(context)})
    src = where.get("source") or {}
    if src.get("ip"):
        net = {k: v for k in _NETWORK_CONTEXT if (v := src.get(k)) or v is False or v == 0}
        if net:
            out.append({"name": "src_endpoint.ip", "value": src["ip"], "type": "network", "data": net})
    return out


def _obs(kind: str, name: str, value: Any) -> Json:
    type_id, type_name = t.OCSF_OBSERVABLE[kind]
    return {"name": name, "type_id": type_id, "type": type_name, "value": str(value)}


def _actor_observables(actor: Json) -> list[Json]:
    out = []
    for kind, name, value in (
        ("user_uid", "actor.user.uid", actor.get("id")),
        ("user_name", "actor.user.name", actor.get("name")),
        ("email", "actor.user.email_addr", actor.get("email")),
    ):
        if value:
            out.append(_obs(kind, name, value))
    return out


def observables_from(event: Json) -> list[Json]:
    out = []
    src = event["where"].get("source") or {}
    if src.get("ip"):
        out.append(_obs("ip", "src_endpoint.ip", src["ip"]))
    if src.get("domain"):
        out.append(_obs("hostname", "src_endpoint.domain", src["domain"]))
    actor = event["who"].get("actor") or {}
    out += _user_parts(actor)[1]
    if actor.get("credential_id"):
        out.append(_obs("credential", "actor.user.credential_uid", actor["credential_id"]))
    if event["where"].get("account"):
        out.append(_obs("account_uid", "cloud.account.uid", event["where"]["account"]))
    for ip in src.get("forwarded") or []:
        out.append(_obs("ip", "src_endpoint.intermediate_ips", ip))
    for i, r in enumerate(event["what"].get("resources") or []):
        if r.get("id"):
            out.append(_obs("resource_uid", f"resources[{i}].uid", r["id"]))
    for c in event["what"].get("privilege_changes") or []:
        grantee = c.get("grantee") or {}
        if grantee.get("id"):
            out.append(_obs("user_uid", "user.uid", grantee["id"]))
    return out


def authorizations_from(event: Json) -> list[Json]:
    out = []
    for a in event["what"].get("authorization") or []:
        decision = {True: "granted", False: "denied"}.get(a.get("granted"))  # type: ignore[call-overload]
        policy = _clean({"name": a.get("permission"), "uid": a.get("resource")})
        out.append(_clean({"decision": decision, "policy": policy}))
    return [a for a in out if a]


# Native fields OCSF has no attribute for, kept under their cloudaudit names.
_UNMAPPED_WHAT = ("action", "activity", "category", "read_only", "plane", "risk_tags", "privilege_changes",
                  "authorization", "details")


def unmapped_from(event: Json) -> Json:
    what = event["what"]
    who = event["who"]
    how = event.get("how") or {}
    actor = who.get("actor") or {}
    out: Json = {}
    for key in _UNMAPPED_WHAT:
        v = what.get(key)
        if v or v is False:
            out[key] = v
    if what.get("issued"):
        out["issued"] = _clean(what["issued"])
    if what.get("request") and not how.get("request_id"):
        out["request"] = what["request"]
    if who.get("delegation"):
        out["delegation"] = who["delegation"]
    if actor.get("type"):
        out["actor_type"] = actor["type"]
    email = actor.get("email")
    if email and not _email(email):
        out["actor_email"] = email
    if actor.get("credential_type"):
        out["credential_type"] = actor["credential_type"]
    if actor.get("namespace"):
        out["namespace"] = actor["namespace"]
    session = who.get("session")
    if session and session.get("issuer_type"):
        out["session_issuer_type"] = session["issuer_type"]
    if how.get("client"):
        out["client"] = how["client"]
    if how.get("auth"):
        out["auth"] = _clean(how["auth"])
    if how.get("tls"):
        out["tls"] = how["tls"]
    out["format"] = event["source"].get("format")
    if event.get("schema_version"):
        out["schema_version"] = event["schema_version"]
    return out


# --- class-specific parts ----------------------------------------------------------------------------


def _account_target(event: Json) -> Json:
    """The account an Account Change acts on: a user-like resource, a request key, else the actor."""
    for r in event["what"].get("resources") or []:
        rtype = (r.get("type") or "").lower()
        if any(word in rtype for word in ("user", "service_account", "serviceaccount", "identit")):
            user = _clean({"uid": r.get("id"), "name": r.get("name"), "account": _clean({"uid": r.get("account")})})
            if user:
                return user
    request = _json(event["what"].get("request"))
    if isinstance(request, dict):
        for key in t.ACCOUNT_TARGET_KEYS:
            value = request.get(key)
            if isinstance(value, str) and value:
                return {"name": value}
    return user_from_actor(event)


def _grantee_user(change: Json) -> Json:
    g = change.get("grantee") or {}
    user = _clean({"uid": g.get("id"), "name": g.get("name"), "type": g.get("type")})
    if "type" in user:
        user["type_id"] = 99  # OCSF's user types (user/admin/system/service) do not name grantee kinds
    if not ({"uid", "name"} & user.keys()):
        user["name"] = "unknown"
    return user


def class_fields(class_uid: int, event: Json) -> Json:
    what = event["what"]
    how = event.get("how") or {}
    if class_uid == t.AUTHENTICATION:
        auth = how.get("auth") or {}
        session = event["who"].get("session") or {}
        mfa = auth.get("mfa") if auth.get("mfa") is not None else session.get("mfa")
        return _clean({
            "user": user_from_actor(event),
            "service": {"name": auth.get("app_name") or what.get("service") or what["action"].split(":")[0]},
            "is_mfa": mfa,
            "session": session_from_who(event["who"]),
            "status_detail": auth.get("failure_reason") or (what.get("error") or {}).get("message"),
        })
    if class_uid == t.ACCOUNT_CHANGE:
        return {"user": _account_target(event)}
    if class_uid == t.USER_ACCESS:
        changes = what["privilege_changes"]
        first = changes[0]
        privileges = [c.get("role_name") or c.get("role") or c.get("kind") or "unknown" for c in changes]
        scope = first.get("scope")
        return _clean({
            "user": _grantee_user(first),
            "privileges": privileges,
            "resource": {"uid": scope} if scope else None,
        })
    return {}


# --- the projection ----------------------------------------------------------------------------------


def project(event: Json, keep_raw: bool = False) -> Json:
    """One canonical event (dict) -> one OCSF 1.8.0 event of its class."""
    class_uid, activity_id = ocsf_class(event)
    class_name, category_uid, category_name, _ = t.OCSF_CLASSES[class_uid]
    what = event["what"]
    how = event.get("how") or {}
    status_id, status = t.OCSF_STATUS.get(what.get("outcome") or "unknown", (0, "Unknown"))
    err = what.get("error")
    out: Json = {
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "category_name": category_name,
        "activity_id": activity_id,
        "type_uid": class_uid * 100 + activity_id,
        "severity_id": 1,
        "severity": "Informational",
        "time": _epoch_ms(event["when"]["time"]),
        "status_id": status_id,
        "status": status,
    }
    if what.get("operation"):
        out["activity_name"] = what["operation"]
    if err:
        if err.get("code"):
            out["status_code"] = err["code"]
        if err.get("message"):
            out["status_detail"] = err["message"]
    out["metadata"] = metadata_from_source(event)
    out["cloud"] = cloud_from_where(event)
    out["actor"] = actor_from_who(event)
    out["src_endpoint"] = src_endpoint_from_where(event)
    out["api"] = api_from_what(event)
    if what.get("resources"):
        resources = resources_from_what(event)
        if resources:
            out["resources"] = resources
    source = event["where"].get("source") or {}
    http = {}
    if how.get("user_agent"):
        http["user_agent"] = how["user_agent"]
    if how.get("request_id"):
        http["uid"] = how["request_id"]
    if source.get("forwarded"):
        http["x_forwarded_for"] = source["forwarded"]
    if http:
        out["http_request"] = http
    enrichments = enrichments_from(event)
    if enrichments:
        out["enrichments"] = enrichments
    out["observables"] = observables_from(event)
    out["unmapped"] = unmapped_from(event)
    out.update(class_fields(class_uid, event))
    if class_uid in t.OCSF_NO_RESOURCES and "resources" in out:
        out["unmapped"]["resources"] = out.pop("resources")
    if keep_raw and event.get("raw"):
        out["raw_data"] = event["raw"]
    if not out["observables"]:
        del out["observables"]
    return out


def class_schema_name(class_uid: int) -> str:
    return t.OCSF_CLASSES[class_uid][3]
