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


def user_fields(event: Json) -> Json:
    actor = event["who"].get("actor") or {}
    return _clean({
        "id": actor.get("id"),
        "name": actor.get("name"),
        "email": actor.get("email"),
        "domain": actor.get("account"),
        "target": _target(event),
    })


def source_fields(event: Json) -> Json:
    src = event["where"].get("source") or {}
    geo = src.get("geo") or {}
    location = {"lat": geo["lat"], "lon": geo["lon"]} if geo.get("lat") is not None and geo.get("lon") is not None \
        else None
    return _clean({
        "ip": src.get("ip"),
        "domain": src.get("domain"),
        "address": src.get("ip") or src.get("domain"),
        "geo": _clean({
            "country_iso_code": geo.get("country"), "region_name": geo.get("region"),
            "city_name": geo.get("city"), "location": location,
        }),
        "as": _clean({"number": src.get("asn"), "organization": _clean({"name": src.get("as_org")})}),
    })


def cloud_fields(event: Json) -> Json:
    where = event["where"]
    actor = event["who"].get("actor") or {}
    context = where.get("account_context") or {}
    provider = where.get("provider")
    return _clean({
        "provider": provider,
        "region": where.get("region"),
        "account": _clean({"id": where.get("account"), "name": context.get("name")}),
        "project": _clean({"id": where.get("account")}) if provider == "gcp" else None,
        "service": _clean({"name": event["what"].get("service")}),
        "origin": _clean({"account": _clean({"id": actor.get("account")}), "provider": provider})
        if actor.get("account") else None,
    })


def related_fields(event: Json) -> Json:
    actor = event["who"].get("actor") or {}
    users = [actor.get("name"), actor.get("id"), actor.get("email")]
    users += [p.get("id") for p in event["who"].get("delegation") or []]
    users += [(c.get("grantee") or {}).get("id") for c in event["what"].get("privilege_changes") or []]
    src = event["where"].get("source") or {}
    ips = [src.get("ip"), *(src.get("forwarded") or [])]
    return _clean({
        "user": list(dict.fromkeys(u for u in users if u)),
        "ip": list(dict.fromkeys(i for i in ips if i)),
    })


def cloudaudit_fields(event: Json) -> Json:
    """The native fields ECS has no field for, under their cloudaudit names (custom namespace)."""
    what = event["what"]
    who = event["who"]
    how = event.get("how") or {}
    src = event["where"].get("source") or {}
    actor = who.get("actor") or {}
    return _clean({
        "schema_version": event.get("schema_version"),
        "action": what.get("action"),
        "activity": what.get("activity"),
        "category": what.get("category"),
        "read_only": what.get("read_only"),
        "plane": what.get("plane"),
        "risk_tags": what.get("risk_tags"),
        "resources": what.get("resources"),
        "request": what.get("request"),
        "response": what.get("response"),
        "privilege_changes": what.get("privilege_changes"),
        "authorization": what.get("authorization"),
        "issued": what.get("issued"),
        "details": what.get("details"),
        "actor": _clean({k: actor.get(k) for k in ("type", "account", "credential_id", "credential_type", "app_id",
                                                  "unique_id", "namespace")}),
        "session": who.get("session"),
        "delegation": who.get("delegation"),
        "invoked_by": who.get("invoked_by"),
        "person": who.get("person"),
        "org": event["where"].get("org"),
        "vpc_endpoint": event["where"].get("vpc_endpoint"),
        "account_context": event["where"].get("account_context"),
        "source": _clean({k: src.get(k) for k in ("cloud_provider", "cloud_service", "internal", "threat_tags",
                                                  "network")}),
        "client": how.get("client"),
        "auth": how.get("auth"),
        "request_id": how.get("request_id"),
        "correlation_id": how.get("correlation_id"),
        "time_text": event["when"].get("time_text"),
        "native_id": event["source"].get("native_id"),
        "log": event["source"].get("log"),
        "shape": event["source"].get("shape"),
        "location": event["source"].get("location"),
    })


def project(event: Json, keep_raw: bool = False) -> Json:
    """One canonical event (dict) -> one ECS document (nested objects, as Elasticsearch indexes them)."""
    what = event["what"]
    how = event.get("how") or {}
    err = what.get("error") or {}
    tls = how.get("tls") or {}
    version = (tls.get("version") or "").removeprefix("TLSv")
    return _clean({
        "@timestamp": event["when"]["time"],
        "ecs": {"version": t.ECS_VERSION},
        "event": event_fields(event, keep_raw),
        "user": user_fields(event),
        "source": source_fields(event),
        "cloud": cloud_fields(event),
        "organization": _clean({"id": event["where"].get("org")}),
        "related": related_fields(event),
        "user_agent": _clean({"original": how.get("user_agent")}),
        "tls": _clean({"version": version or None, "cipher": tls.get("cipher"),
                       "version_protocol": "tls" if version else None}),
        "error": _clean({"code": err.get("code"), "message": err.get("message")}),
        "trace": _clean({"id": how.get("correlation_id")}),
        t.ECS_CUSTOM_NAMESPACE: cloudaudit_fields(event),
    })
