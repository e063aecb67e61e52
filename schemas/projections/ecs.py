"""Event -> ECS 9 (Elastic Common Schema).

``cloud.account.id`` is the account acted on (``where.account``); the caller's own account goes to
``cloud.origin.account.id`` (and ``user`` fields), so a cross-account call is not filed under the
caller's account. ``event.action``/``event.provider`` carry the operation and service as the cloud
names them, as Elastic's cloud integrations do; everything ECS has no field for lives under
``cloudaudit.*`` (a custom namespace), with its cloudaudit name.
"""

from __future__ import annotations

from typing import Any

from schemas.projections import tables as t

Json = dict[str, Any]


def _clean(d: Json) -> Json:
    # Keeps what is truthy, False and 0; drops None, "", [] and {} (cheaper than comparing with each).
    return {k: v for k, v in d.items() if v or v is False or v == 0}


def event_fields(event: Json, keep_raw: bool) -> Json:
    what = event["what"]
    when = event["when"]
    category = list(t.ECS_CATEGORY.get(what.get("category") or "other", ()))
    category.append(t.ECS_API_CATEGORY)
    types = list(t.ECS_TYPE.get(what.get("activity") or "other", ("info",)))
    for c in what.get("privilege_changes") or []:
        extra = t.ECS_PRIVILEGE_TYPE.get(c.get("op", ""))
        if extra and extra not in types:
            types.append(extra)
    return _clean({
        "kind": "event",
        "category": category,
        "type": types,
        "action": what.get("operation"),
        "outcome": t.ECS_OUTCOME.get(what.get("outcome") or "unknown", "unknown"),
        "provider": what.get("service"),
        "id": event.get("id"),
        "dataset": event["source"].get("format"),
        "module": event["where"].get("provider"),
        "created": when.get("observed"),
        "ingested": when.get("ingested"),
        "original": event.get("raw") if keep_raw else None,
    })


def _target(event: Json) -> Json:
    """The user a call acts on: the first privilege change's grantee, else a user-like resource."""
    for c in event["what"].get("privilege_changes") or []:
        g = c.get("grantee") or {}
        if g.get("id") or g.get("name"):
            roles = [x.get("role_name") or x.get("role") for x in event["what"]["privilege_changes"]
                     if (x.get("grantee") or {}) == g and (x.get("role_name") or x.get("role"))]
            return _clean({"id": g.get("id"), "name": g.get("name"), "roles": roles})
    for r in event["what"].get("resources") or []:
        rtype = (r.get("type") or "").lower()
        if any(word in rtype for word in ("user", "service_account", "serviceaccount")):
            return _clean({"id": r.get("id"), "name": r.get("name")})
    return {}


def _who_parts(event: Json) -> tuple[Json, Json | None, list[str], Json]:
    """(user without target, cloud.origin, related users of the actor, cloudaudit actor part): they
    depend on who.actor only, made once per distinct actor (see ocsf._actor_parts)."""
    actor = event["who"].get("actor") or {}
    try:
        key = tuple(actor.values())
        hit = _WHO.get(key)
    except TypeError:
        return _make_who(actor)
    if hit is None:
        if len(_WHO) >= _WHO_MAX:
            _WHO.clear()
        hit = _WHO[key] = _make_who(actor)
    return hit


_WHO: dict[tuple[Any, ...], tuple[Json, Json | None, list[str], Json]] = {}
_WHO_MAX = 4096
_ACTOR_EXTRAS = ("type", "account", "credential_id", "credential_type", "app_id", "unique_id", "namespace")


def _make_who(actor: Json) -> tuple[Json, Json | None, list[str], Json]:
    user = _clean({"id": actor.get("id"), "name": actor.get("name"), "email": actor.get("email"),
                   "domain": actor.get("account")})
    origin = {"account": {"id": actor["account"]}} if actor.get("account") else None
    users = [u for u in (actor.get("name"), actor.get("id"), actor.get("email")) if u]
    extras = _clean({k: actor.get(k) for k in _ACTOR_EXTRAS})
    return user, origin, users, extras


def user_fields(event: Json) -> Json:
    user = _who_parts(event)[0]
    target = _target(event)
    return {**user, "target": target} if target else user


def source_fields(event: Json) -> Json:
    src = event["where"].get("source") or {}
    out: Json = {}
    ip, domain = src.get("ip"), src.get("domain")
    if ip:
        out["ip"] = ip
    if domain:
        out["domain"] = domain
    if ip or domain:
        out["address"] = ip or domain
    geo = src.get("geo")
    if geo:
        location = {"lat": geo["lat"], "lon": geo["lon"]} \
            if geo.get("lat") is not None and geo.get("lon") is not None else None
        g = _clean({"country_iso_code": geo.get("country"), "region_name": geo.get("region"),
                    "city_name": geo.get("city"), "location": location})
        if g:
            out["geo"] = g
    if src.get("asn") is not None or src.get("as_org"):
        out["as"] = _clean({"number": src.get("asn"),
                            "organization": {"name": src["as_org"]} if src.get("as_org") else None})
    return out


def cloud_fields(event: Json) -> Json:
    where = event["where"]
    out: Json = {}
    provider = where.get("provider")
    if provider:
        out["provider"] = provider
    if where.get("region"):
        out["region"] = where["region"]
    account = where.get("account")
    context = where.get("account_context")
    if account or (context and context.get("name")):
        out["account"] = _clean({"id": account, "name": context.get("name") if context else None})
    if provider == "gcp" and account:
        out["project"] = {"id": account}
    if event["what"].get("service"):
        out["service"] = {"name": event["what"]["service"]}
    origin = _who_parts(event)[1]
    if origin:
        out["origin"] = {**origin, "provider": provider} if provider else origin
    return out


def related_fields(event: Json) -> Json:
    users = list(_who_parts(event)[2])
    users += [p["id"] for p in event["who"].get("delegation") or () if p.get("id")]
    users += [g["id"] for c in event["what"].get("privilege_changes") or () if (g := c.get("grantee")) and g.get("id")]
    src = event["where"].get("source") or {}
    ips = [src["ip"]] if src.get("ip") else []
    ips += src.get("forwarded") or ()
    out: Json = {}
    if users:
        out["user"] = list(dict.fromkeys(users))
    if ips:
        out["ip"] = list(dict.fromkeys(ips))
    return out


# (native group, key, cloudaudit key): copied when set (values as the canonical event has them).
_CLOUDAUDIT: tuple[tuple[str, str, str], ...] = (
    *(("what", k, k) for k in ("action", "activity", "category", "read_only", "plane", "risk_tags", "resources",
                               "request", "response", "privilege_changes", "authorization", "issued", "details")),
    ("who", "session", "session"), ("who", "delegation", "delegation"), ("who", "invoked_by", "invoked_by"),
    ("who", "person", "person"),
    ("where", "org", "org"), ("where", "vpc_endpoint", "vpc_endpoint"), ("where", "account_context", "account_context"),
    ("how", "client", "client"), ("how", "auth", "auth"), ("how", "request_id", "request_id"),
    ("how", "correlation_id", "correlation_id"),
    ("when", "time_text", "time_text"),
    ("source", "native_id", "native_id"), ("source", "log", "log"), ("source", "shape", "shape"),
    ("source", "location", "location"),
)
_SOURCE_EXTRAS = ("cloud_provider", "cloud_service", "internal", "threat_tags", "network")


def cloudaudit_fields(event: Json) -> Json:
    """The native fields ECS has no field for, under their cloudaudit names (custom namespace)."""
    out: Json = {}
    if event.get("schema_version"):
        out["schema_version"] = event["schema_version"]
    for group, key, name in _CLOUDAUDIT:
        v = (event.get(group) or {}).get(key)
        if v or v is False:
            out[name] = v
    extras = _who_parts(event)[3]
    if extras:
        out["actor"] = extras
    src = event["where"].get("source") or {}
    source = {k: v for k in _SOURCE_EXTRAS if (v := src.get(k)) or v is False}
    if source:
        out["source"] = source
    return out


def project(event: Json, keep_raw: bool = False) -> Json:
    """One canonical event (dict) -> one ECS document (nested objects, as Elasticsearch indexes them)."""
    what = event["what"]
    how = event.get("how") or {}
    out: Json = {
        "@timestamp": event["when"]["time"],
        "ecs": {"version": t.ECS_VERSION},
        "event": event_fields(event, keep_raw),
    }
    for name, part in (("user", user_fields(event)), ("source", source_fields(event)),
                       ("cloud", cloud_fields(event))):
        if part:
            out[name] = part
    if event["where"].get("org"):
        out["organization"] = {"id": event["where"]["org"]}
    related = related_fields(event)
    if related:
        out["related"] = related
    if how.get("user_agent"):
        out["user_agent"] = {"original": how["user_agent"]}
    tls = how.get("tls")
    if tls and (tls.get("version") or tls.get("cipher")):
        version = (tls.get("version") or "").removeprefix("TLSv")
        out["tls"] = _clean({"version": version or None, "cipher": tls.get("cipher"),
                             "version_protocol": "tls" if version else None})
    err = what.get("error")
    if err and (err.get("code") or err.get("message")):
        out["error"] = _clean({"code": err.get("code"), "message": err.get("message")})
    if how.get("correlation_id"):
        out["trace"] = {"id": how["correlation_id"]}
    out[t.ECS_CUSTOM_NAMESPACE] = cloudaudit_fields(event)
    return out
