"""Event -> OCSF 1.8.0 (``cloud`` profile).

The projection works on the canonical event as JSON (a dict, as sinks and cold storage have it), so a
sink can project the lines it is given without building the pydantic model again. The class and
activity come from the tables in ``schemas.projections.tables``; every field keeps its meaning:
``cloud.account`` is where the call happened (``where.account``), the caller's account is
``actor.user.account``; what OCSF has no attribute for goes to ``unmapped`` under its cloudaudit name,
so nothing a rule needs is lost. Enrichments (identity, account, network context) are carried as OCSF
``enrichments``; the who/where values a hunt pivots on are ``observables``.

Cost: a sink projects every event it sends, so the projection is built for speed. The tables are
compiled once, at import, into what an event needs at run time (the class header per class decision,
the metadata prefix per source format, the observables' type pairs, the (native key, OCSF name) pairs);
the parts of an event that repeat across a batch and take few values (the class header per action, the
user object and its observables per principal, the cloud object per account and region) are made once
and shared, read-only, by the events that have them (bounded memos, cleared when full). What differs per
event, or takes too many values for a memo to pay (ids, times, sessions, addresses, resources,
authorization checks), is built directly. A projected event is therefore read-only: its nested objects
may be shared with other projected events.
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
_EMPTY: Json = {}  # stands in for a missing object; never written to
_MEMO_MAX = 4096  # entries per memo; a memo is cleared when full

_fromisoformat = datetime.fromisoformat


def _epoch_ms(text: str) -> int:
    return int(_fromisoformat(text).timestamp() * 1000)


# Session creation and ingest times repeat across a batch (event and delivery times do not: _epoch_ms).
@lru_cache(maxsize=65536)
def _ms(text: str | None) -> int | None:
    return _epoch_ms(text) if text else None


def _clean(d: Json) -> Json:
    """Drop None, empty strings, lists and dicts (OCSF has no nulls to say 'not known')."""
    # Keeps what is truthy, False and 0; drops None, "", [] and {} (cheaper than comparing with each;
    # None, the most common, first: comparing it with 0 is the slow part).
    return {k: v for k, v in d.items() if v is not None and (v or v is False or v == 0)}


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


def _put(memo: dict[Any, Any], key: Any, value: Any) -> Any:
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = value
    return value


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


# (action, category, activity[, privilege ops...]) -> (class_uid, activity_id, the header up to severity)
_HEADS: dict[tuple[Any, ...], tuple[int, int, Json]] = {}


def _head(event: Json, key: tuple[Any, ...]) -> tuple[int, int, Json]:
    class_uid, activity_id = ocsf_class(event)
    class_name, category_uid, category_name, _ = t.OCSF_CLASSES[class_uid]
    return _put(_HEADS, key, (class_uid, activity_id, {
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "category_name": category_name,
        "activity_id": activity_id,
        "type_uid": class_uid * 100 + activity_id,
        "severity_id": 1,
        "severity": "Informational",
    }))


# --- objects -----------------------------------------------------------------------------------------


# The user object (but its credential) and its observables depend on who.actor's identity fields
# only, and a batch holds many events of few principals (each session and key of its own): they are
# made once per principal and shared, read-only, by the events' projections.
_USERS: dict[tuple[Any, ...], tuple[Json, list[Json], str | None]] = {}


def _user_parts(actor: Json) -> tuple[Json, list[Json], str | None]:
    """(user object, the user's observables, the e-mail when OCSF's email_t rejects it)."""
    get = actor.get
    key = (get("id"), get("unique_id"), get("name"), get("email"), get("type"), get("account"))
    hit = _USERS.get(key)
    if hit is None:
        email = get("email")
        bad_email = email if email and not _email(email) else None
        hit = _put(_USERS, key, (_user_base(actor), _actor_observables(actor), bad_email))
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
    actor = event["who"].get("actor") or _EMPTY
    user = _user_parts(actor)[0]
    credential = actor.get("credential_id")
    return {**user, "credential_uid": credential} if credential else user


def session_from_who(who: Json) -> Json:
    s = who.get("session")
    actor = who.get("actor") or _EMPTY
    out: Json = {}
    if s:
        get = s.get
        if v := get("id"):
            out["uid"] = v
        if v := get("name"):
            out["uid_alt"] = v
        if v := get("issuer"):
            out["issuer"] = v
        if (v := get("mfa")) is not None:
            out["is_mfa"] = v
        if v := get("created"):
            out["created_time"] = _ms(v)
    if actor.get("credential_type") == "temporary" and (v := actor.get("credential_id")):
        out["credential_uid"] = v
    return out


_DECISION: dict[Any, str] = {True: "granted", False: "denied"}


def _authorization(a: Json) -> Json:
    """One authorization check -> OCSF authorization (empty when it says nothing)."""
    out: Json = {}
    if decision := _DECISION.get(a.get("granted")):
        out["decision"] = decision
    policy: Json = {}
    if v := a.get("permission"):
        policy["name"] = v
    if v := a.get("resource"):
        policy["uid"] = v
    if policy:
        out["policy"] = policy
    return out


def authorizations_from(event: Json) -> list[Json]:
    return [a for c in event["what"].get("authorization") or () if (a := _authorization(c))]


def _src_endpoint(event: Json, where: Json, src: Json) -> Json:
    out: Json = {}
    get = src.get
    if v := get("ip"):
        out["ip"] = v
    if v := get("domain"):
        out["domain"] = v
    if v := where.get("vpc_endpoint"):
        out["uid"] = v
    geo = get("geo")
    if geo and (geo.get("country") or geo.get("region") or geo.get("city")):
        out["location"] = _clean({
            "country": geo.get("country"), "region": geo.get("region"), "city": geo.get("city"),
            "lat": geo.get("lat"), "long": geo.get("lon"),
        })
    asn = get("asn")
    if asn is not None or get("as_org"):
        out["autonomous_system"] = _clean({"number": asn, "name": get("as_org")})
    if v := get("forwarded"):
        out["intermediate_ips"] = v
    if v := get("network"):
        out["subnet_uid"] = v
    if "ip" not in out and "domain" not in out and "uid" not in out:
        # API Activity requires a source endpoint; a call with no address says so rather than guessing.
        out["name"] = event["who"].get("invoked_by") or "unknown"
    return out


def src_endpoint_from_where(event: Json) -> Json:
    where = event["where"]
    return _src_endpoint(event, where, where.get("source") or _EMPTY)


def _api(what: Json, how: Json) -> Json:
    get = what.get
    out: Json = {"operation": get("operation")}
    if v := get("service"):
        out["service"] = {"name": v}
    # request/response data stay the compact JSON text they are (OCSF json_t takes text): parsing and
    # re-serializing them would be most of the projection's cost, for the same content.
    if request_id := how.get("request_id"):
        out["request"] = {"uid": request_id, "data": request} if (request := get("request")) else {"uid": request_id}
    err = get("error")
    response = _clean({"error": err.get("code"), "message": err.get("message")}) if err else {}
    if v := get("response"):
        response["data"] = v
    if response:
        out["response"] = response
    return out


def api_from_what(event: Json) -> Json:
    return _api(event["what"], event.get("how") or _EMPTY)


def _resource(r: Json) -> Json:
    out: Json = {}
    get = r.get
    if v := get("id"):
        out["uid"] = v
    if v := get("name"):
        out["name"] = v
    if v := get("type"):
        out["type"] = v
    if v := get("region"):
        out["region"] = v
    if v := get("account"):
        out["owner"] = {"account": {"uid": v}}
    if tags := get("tags"):
        kept = [tag for tag in (_clean({"name": tag["key"], "value": tag.get("value")}) for tag in tags)
                if "value" in tag]
        if kept:
            out["tags"] = kept
    return out


def resources_from_what(event: Json) -> list[Json]:
    return [_resource(r) for r in event["what"].get("resources") or () if r.get("id") or r.get("name")]


_CLOUDS: dict[tuple[Any, ...], Json] = {}


def _cloud(where: Json) -> Json:
    """The cloud object (shared, read-only, by the events of one account and region)."""
    get = where.get
    context = get("account_context")
    key = (get("provider"), get("region"), get("account"), get("org"), context.get("name") if context else None)
    hit = _CLOUDS.get(key)
    if hit is None:
        hit = _put(_CLOUDS, key, _make_cloud(where))
    return hit


def cloud_from_where(event: Json) -> Json:
    return _cloud(event["where"])


def _make_cloud(where: Json) -> Json:
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


# source.format -> the metadata attributes every event of the format has (version, profiles, product).
_PRODUCTS = {fmt: {"name": name, "vendor_name": vendor} for fmt, (name, vendor) in t.OCSF_PRODUCT.items()}
_PROFILES = list(t.OCSF_PROFILES)
_META_PREFIXES: dict[str, Json] = {}
# (native source key, OCSF metadata attribute)
_METADATA_SOURCE = (("native_id", "original_event_uid"), ("log", "log_name"), ("location", "log_source"),
                    ("shape", "log_format"))


def _meta_prefix(fmt: str) -> Json:
    hit = _META_PREFIXES.get(fmt)
    if hit is None:
        hit = _put(_META_PREFIXES, fmt, {
            "version": t.OCSF_VERSION,
            "profiles": _PROFILES,
            "product": _PRODUCTS.get(fmt) or {"name": fmt, "vendor_name": "unknown"},
        })
    return hit


def _metadata(event: Json, source: Json, when: Json, how: Json, operation: Any) -> Json:
    out = _meta_prefix(source.get("format") or "unknown").copy()
    out["uid"] = event.get("id")
    get = source.get
    for key, name in _METADATA_SOURCE:
        if v := get(key):
            out[name] = v
    if operation:
        out["event_code"] = operation
    get = when.get
    if v := get("time_text"):
        out["original_time"] = v
    if v := get("observed"):
        out["logged_time"] = _epoch_ms(v)
    if v := get("ingested"):
        out["processed_time"] = _ms(v)  # one ingest time per file read: cached
    if v := how.get("correlation_id"):
        out["correlation_uid"] = v
    return out


def metadata_from_source(event: Json) -> Json:
    return _metadata(event, event["source"], event["when"], event.get("how") or _EMPTY,
                     event["what"].get("operation"))


_NETWORK_CONTEXT = ("geo", "asn", "as_org", "cloud_provider", "cloud_service", "internal", "threat_tags")


def _network_context(src: Json) -> bool:
    """Whether the source carries network context (what the network enrichment's data keeps)."""
    get = src.get
    for k in _NETWORK_CONTEXT:
        v = get(k)
        if v is not None and (v or v is False or v == 0):
            return True
    return False


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
        net = {k: v for k in _NETWORK_CONTEXT if (v := src.get(k)) is not None and (v or v is False or v == 0)}
        if net:
            out.append({"name": "src_endpoint.ip", "value": src["ip"], "type": "network", "data": net})
    return out


def _obs(kind: str, name: str, value: Any) -> Json:
    type_id, type_name = t.OCSF_OBSERVABLE[kind]
    return {"name": name, "type_id": type_id, "type": type_name, "value": str(value)}


# The observables' (type_id, type) per kind, from the table.
_O_IP, _O_HOST, _O_CREDENTIAL, _O_ACCOUNT, _O_RESOURCE, _O_USER = (
    t.OCSF_OBSERVABLE[k] for k in ("ip", "hostname", "credential", "account_uid", "resource_uid", "user_uid"))


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


_RESOURCE_NAMES = tuple(f"resources[{i}].uid" for i in range(64))


def _resource_obs(i: int, uid: Any) -> Json:
    name = _RESOURCE_NAMES[i] if i < len(_RESOURCE_NAMES) else f"resources[{i}].uid"
    return {"name": name, "type_id": _O_RESOURCE[0], "type": _O_RESOURCE[1], "value": str(uid)}


def _observables(what: Json, where: Json, src: Json, actor: Json, actor_obs: list[Json]) -> list[Json]:
    out = []
    if v := src.get("ip"):
        out.append({"name": "src_endpoint.ip", "type_id": _O_IP[0], "type": _O_IP[1], "value": str(v)})
    if v := src.get("domain"):
        out.append({"name": "src_endpoint.domain", "type_id": _O_HOST[0], "type": _O_HOST[1], "value": str(v)})
    out += actor_obs
    if v := actor.get("credential_id"):
        out.append({"name": "actor.user.credential_uid", "type_id": _O_CREDENTIAL[0], "type": _O_CREDENTIAL[1],
                    "value": str(v)})
    if v := where.get("account"):
        out.append({"name": "cloud.account.uid", "type_id": _O_ACCOUNT[0], "type": _O_ACCOUNT[1], "value": str(v)})
    for ip in src.get("forwarded") or ():
        out.append({"name": "src_endpoint.intermediate_ips", "type_id": _O_IP[0], "type": _O_IP[1],
                    "value": str(ip)})
    resources = what.get("resources")
    if resources:
        for i, r in enumerate(resources):
            if v := r.get("id"):
                out.append(_resource_obs(i, v))
    for c in what.get("privilege_changes") or ():
        grantee = c.get("grantee")
        if grantee and (v := grantee.get("id")):
            out.append({"name": "user.uid", "type_id": _O_USER[0], "type": _O_USER[1], "value": str(v)})
    return out


def observables_from(event: Json) -> list[Json]:
    where = event["where"]
    actor = event["who"].get("actor") or _EMPTY
    return _observables(event["what"], where, where.get("source") or _EMPTY, actor, _user_parts(actor)[1])


# Native fields OCSF has no attribute for, kept under their cloudaudit names.
_UNMAPPED_WHAT = ("action", "activity", "category", "read_only", "plane", "risk_tags", "privilege_changes",
                  "authorization", "details")


def _unmapped(event: Json, what: Json, who: Json, how: Json, actor: Json, bad_email: str | None) -> Json:
    out: Json = {}
    get = what.get
    for key in _UNMAPPED_WHAT:
        v = get(key)
        if v or v is False:
            out[key] = v
    if v := get("issued"):
        out["issued"] = _clean(v)
    if (v := get("request")) and not how.get("request_id"):
        out["request"] = v
    if v := who.get("delegation"):
        out["delegation"] = v
    get = actor.get
    if v := get("type"):
        out["actor_type"] = v
    if bad_email:
        out["actor_email"] = bad_email
    if v := get("credential_type"):
        out["credential_type"] = v
    if v := get("namespace"):
        out["namespace"] = v
    session = who.get("session")
    if session and (v := session.get("issuer_type")):
        out["session_issuer_type"] = v
    get = how.get
    if v := get("client"):
        out["client"] = v
    if v := get("auth"):
        out["auth"] = _clean(v)
    if v := get("tls"):
        out["tls"] = v
    out["format"] = event["source"].get("format")
    if v := event.get("schema_version"):
        out["schema_version"] = v
    return out


def unmapped_from(event: Json) -> Json:
    who = event["who"]
    actor = who.get("actor") or _EMPTY
    return _unmapped(event, event["what"], who, event.get("how") or _EMPTY, actor, _user_parts(actor)[2])


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


def auth_factors(method: str | None) -> list[Json] | None:
    """The second factor of a sign-in (how.auth.mfa_method) as OCSF auth_factors, from the table."""
    if not method:
        return None
    type_id = t.OCSF_AUTH_FACTORS.get(method.lower(), 99)
    return [{"factor_type_id": type_id, "factor_type": method if type_id == 99 else t.OCSF_FACTOR_TYPES[type_id]}]


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
            "auth_factors": auth_factors(auth.get("mfa_method")),
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
    """One canonical event (dict) -> one OCSF 1.8.0 event of its class (read-only: see the module doc)."""
    what = event["what"]
    who = event["who"]
    where = event["where"]
    how = event.get("how") or _EMPTY
    get = what.get

    action = get("action", "")
    changes = get("privilege_changes")
    key = (action, get("category", "other"), get("activity", "other"))
    if changes:
        key += tuple([c.get("op", "") for c in changes])
    head = _HEADS.get(key)
    if head is None:
        head = _head(event, key)
    class_uid, _, out = head
    out = out.copy()
    out["time"] = _epoch_ms(event["when"]["time"])
    out["status_id"], out["status"] = t.OCSF_STATUS.get(get("outcome") or "unknown", (0, "Unknown"))
    operation = get("operation")
    if operation:
        out["activity_name"] = operation
    err = get("error")
    if err:
        if v := err.get("code"):
            out["status_code"] = v
        if v := err.get("message"):
            out["status_detail"] = v
    out["metadata"] = _metadata(event, event["source"], event["when"], how, operation)
    out["cloud"] = _cloud(where)

    actor = who.get("actor") or _EMPTY
    user, actor_obs, bad_email = _user_parts(actor)
    if credential := actor.get("credential_id"):
        user = {**user, "credential_uid": credential}
    actor_out: Json = {"user": user}
    session = session_from_who(who)
    if session:
        actor_out["session"] = session
    if v := who.get("invoked_by"):
        actor_out["invoked_by"] = v
    if v := actor.get("app_id"):
        actor_out["app_uid"] = v
    if checks := get("authorization"):
        authorizations = [a for c in checks if (a := _authorization(c))]
        if authorizations:
            actor_out["authorizations"] = authorizations
    s = who.get("session")
    if s and (issuer_type := s.get("issuer_type")):
        actor_out["idp"] = {"name": issuer_type, "issuer": v} if (v := s.get("issuer")) else {"name": issuer_type}
    out["actor"] = actor_out

    src = where.get("source") or _EMPTY
    out["src_endpoint"] = _src_endpoint(event, where, src)
    out["api"] = _api(what, how)
    resources = get("resources")
    if resources:
        projected = [_resource(r) for r in resources if r.get("id") or r.get("name")]
        if projected:
            out["resources"] = projected
    http = {}
    if v := how.get("user_agent"):
        http["user_agent"] = v
    if v := how.get("request_id"):
        http["uid"] = v
    if v := src.get("forwarded"):
        http["x_forwarded_for"] = v
    if http:
        out["http_request"] = http
    if who.get("person") or where.get("account_context") or (src.get("ip") and _network_context(src)):
        out["enrichments"] = enrichments_from(event)
    observables = _observables(what, where, src, actor, actor_obs)
    if observables:
        out["observables"] = observables
    out["unmapped"] = _unmapped(event, what, who, how, actor, bad_email)
    if class_uid != t.API_ACTIVITY:
        out.update(class_fields(class_uid, event))
        if class_uid in t.OCSF_NO_RESOURCES and "resources" in out:
            out["unmapped"]["resources"] = out.pop("resources")
        if "auth_factors" in out:  # the factor has its OCSF place: not unmapped too
            unmapped_auth = out["unmapped"]["auth"]
            del unmapped_auth["mfa_method"]
            if not unmapped_auth:
                del out["unmapped"]["auth"]
    if keep_raw and (v := event.get("raw")):
        out["raw_data"] = v
    return out


def class_schema_name(class_uid: int) -> str:
    return t.OCSF_CLASSES[class_uid][3]
