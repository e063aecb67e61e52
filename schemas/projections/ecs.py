"""Event -> ECS 9 (Elastic Common Schema).

``cloud.account.id`` is the account acted on (``where.account``); the caller's own account goes to
``cloud.origin.account.id`` (and ``user`` fields), so a cross-account call is not filed under the
caller's account. ``event.action``/``event.provider`` carry the operation and service as the cloud
names them, as Elastic's cloud integrations do; everything ECS has no field for lives under
``cloudaudit.*`` (a custom namespace), with its cloudaudit name.

Cost: as in ``schemas.projections.ocsf``, the tables are compiled once into what an event needs (the
``cloudaudit.*`` copy plan as runs of keys per native group), and what repeats across a batch (the
``event`` header per action and outcome, the user and related users per principal, the ``cloud``
object per account and region) is made once and shared, read-only, by the projected events.
"""

from __future__ import annotations

from typing import Any

from schemas.projections import tables as t

Json = dict[str, Any]

_EMPTY: Json = {}  # stands in for a missing object; never written to
_MEMO_MAX = 4096  # entries per memo; a memo is cleared when full


def _clean(d: Json) -> Json:
    # Keeps what is truthy, False and 0; drops None, "", [] and {} (cheaper than comparing with each;
    # None, the most common, first: comparing it with 0 is the slow part).
    return {k: v for k, v in d.items() if v is not None and (v or v is False or v == 0)}


def _put(memo: dict[Any, Any], key: Any, value: Any) -> Any:
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = value
    return value


# --- event.* -----------------------------------------------------------------------------------------

# (category, activity, operation, outcome, service[, privilege ops...]) -> event.kind .. event.provider
_EVENT_HEADS: dict[tuple[Any, ...], Json] = {}


def _event_head(what: Json, key: tuple[Any, ...]) -> Json:
    category = list(t.ECS_CATEGORY.get(what.get("category") or "other", ()))
    category.append(t.ECS_API_CATEGORY)
    types = list(t.ECS_TYPE.get(what.get("activity") or "other", ("info",)))
    for c in what.get("privilege_changes") or []:
        extra = t.ECS_PRIVILEGE_TYPE.get(c.get("op", ""))
        if extra and extra not in types:
            types.append(extra)
    return _put(_EVENT_HEADS, key, _clean({
        "kind": "event",
        "category": category,
        "type": types,
        "action": what.get("operation"),
        "outcome": t.ECS_OUTCOME.get(what.get("outcome") or "unknown", "unknown"),
        "provider": what.get("service"),
    }))


def _event(event: Json, what: Json, when: Json, keep_raw: bool) -> Json:
    get = what.get
    key: tuple[Any, ...] = (get("category"), get("activity"), get("operation"), get("outcome"), get("service"))
    changes = get("privilege_changes")
    if changes:
        key += tuple([c.get("op", "") for c in changes])
    head = _EVENT_HEADS.get(key)
    if head is None:
        head = _event_head(what, key)
    out = head.copy()
    v = event.get("id")
    if v is not None and (v or v is False or v == 0):
        out["id"] = v
    if v := event["source"].get("format"):
        out["dataset"] = v
    if v := event["where"].get("provider"):
        out["module"] = v
    get = when.get
    if v := get("observed"):
        out["created"] = v
    if v := get("ingested"):
        out["ingested"] = v
    if keep_raw and (v := event.get("raw")):
        out["original"] = v
    return out


def event_fields(event: Json, keep_raw: bool) -> Json:
    return _event(event, event["what"], event["when"], keep_raw)


# --- user.*, related.user ----------------------------------------------------------------------------

_USER_LIKE_WORDS = ("user", "service_account", "serviceaccount")
_USER_LIKE: dict[Any, bool] = {}


def _user_like(rtype: Any) -> bool:
    """Whether a resource type names a user (``user.target`` then is that resource); cached per type."""
    hit = _USER_LIKE.get(rtype)
    if hit is None:
        text = (rtype or "").lower()
        hit = _put(_USER_LIKE, rtype, any(word in text for word in _USER_LIKE_WORDS))
    return hit


def _target(what: Json) -> Json:
    """The user a call acts on: the first privilege change's grantee, else a user-like resource."""
    changes = what.get("privilege_changes")
    if changes:
        for c in changes:
            g = c.get("grantee") or {}
            if g.get("id") or g.get("name"):
                roles = [x.get("role_name") or x.get("role") for x in changes
                         if (x.get("grantee") or {}) == g and (x.get("role_name") or x.get("role"))]
                return _clean({"id": g.get("id"), "name": g.get("name"), "roles": roles})
    for r in what.get("resources") or ():
        if _user_like(r.get("type")):
            return _clean({"id": r.get("id"), "name": r.get("name")})
    return {}


# The user object, cloud.origin and the actor's related users depend on who.actor's identity fields
# only: made once per principal and shared, read-only (credentials vary per event: cloudaudit.actor).
_WHO: dict[tuple[Any, ...], tuple[Json, Json | None, list[str]]] = {}
_ACTOR_EXTRAS = ("type", "account", "credential_id", "credential_type", "app_id", "unique_id", "namespace")


def _who_parts(actor: Json) -> tuple[Json, Json | None, list[str]]:
    get = actor.get
    key = (get("id"), get("name"), get("email"), get("account"))
    hit = _WHO.get(key)
    if hit is None:
        actor_id, name, email, account = key
        user = _clean({"id": actor_id, "name": name, "email": email, "domain": account})
        origin = {"account": {"id": account}} if account else None
        users = list(dict.fromkeys(u for u in (name, actor_id, email) if u))
        hit = _put(_WHO, key, (user, origin, users))
    return hit


def user_fields(event: Json) -> Json:
    user = _who_parts(event["who"].get("actor") or _EMPTY)[0]
    target = _target(event["what"])
    return {**user, "target": target} if target else user


# --- source.*, cloud.* -------------------------------------------------------------------------------


def _source(src: Json) -> Json:
    out: Json = {}
    get = src.get
    ip, domain = get("ip"), get("domain")
    if ip:
        out["ip"] = ip
    if domain:
        out["domain"] = domain
    if ip or domain:
        out["address"] = ip or domain
    geo = get("geo")
    if geo:
        location = {"lat": geo["lat"], "lon": geo["lon"]} \
            if geo.get("lat") is not None and geo.get("lon") is not None else None
        g = _clean({"country_iso_code": geo.get("country"), "region_name": geo.get("region"),
                    "city_name": geo.get("city"), "location": location})
        if g:
            out["geo"] = g
    asn = get("asn")
    if asn is not None or get("as_org"):
        out["as"] = _clean({"number": asn,
                            "organization": {"name": src["as_org"]} if get("as_org") else None})
    return out


def source_fields(event: Json) -> Json:
    return _source(event["where"].get("source") or _EMPTY)


_CLOUDS: dict[tuple[Any, ...], Json] = {}


def _cloud(where: Json, service: Any, origin: Json | None) -> Json:
    """cloud.* (shared, read-only, by the events of one account, region, service and caller account)."""
    get = where.get
    context = get("account_context")
    key = (get("provider"), get("region"), get("account"), context.get("name") if context else None, service,
           origin["account"]["id"] if origin else None)
    hit = _CLOUDS.get(key)
    if hit is None:
        hit = _put(_CLOUDS, key, _make_cloud(where, service, origin))
    return hit


def _make_cloud(where: Json, service: Any, origin: Json | None) -> Json:
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
    if service:
        out["service"] = {"name": service}
    if origin:
        out["origin"] = {**origin, "provider": provider} if provider else origin
    return out


def cloud_fields(event: Json) -> Json:
    origin = _who_parts(event["who"].get("actor") or _EMPTY)[1]
    return _cloud(event["where"], event["what"].get("service"), origin)


def _related(who: Json, what: Json, src: Json, actor_users: list[str]) -> Json:
    users = actor_users
    delegation = who.get("delegation")
    changes = what.get("privilege_changes")
    if delegation or changes:
        users = list(users)
        users += [p["id"] for p in delegation or () if p.get("id")]
        users += [g["id"] for c in changes or () if (g := c.get("grantee")) and g.get("id")]
        users = list(dict.fromkeys(users))
    out: Json = {}
    if users:
        out["user"] = users
    ip = src.get("ip")
    forwarded = src.get("forwarded")
    if forwarded:
        out["ip"] = list(dict.fromkeys([ip, *forwarded] if ip else forwarded))
    elif ip:
        out["ip"] = [ip]
    return out


def related_fields(event: Json) -> Json:
    who = event["who"]
    where = event["where"]
    return _related(who, event["what"], where.get("source") or _EMPTY,
                    _who_parts(who.get("actor") or _EMPTY)[2])


# --- cloudaudit.* ------------------------------------------------------------------------------------

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


def _plan(table: tuple[tuple[str, str, str], ...]) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """The copy table compiled into runs of consecutive entries of one native group (order kept)."""
    runs: list[tuple[str, list[tuple[str, str]]]] = []
    for group, key, name in table:
        if not runs or runs[-1][0] != group:
            runs.append((group, []))
        runs[-1][1].append((key, name))
    return tuple((group, tuple(pairs)) for group, pairs in runs)


_CLOUDAUDIT_PLAN = _plan(_CLOUDAUDIT)


def _cloudaudit(event: Json, actor: Json, src: Json) -> Json:
    """The native fields ECS has no field for, under their cloudaudit names (custom namespace)."""
    out: Json = {}
    if v := event.get("schema_version"):
        out["schema_version"] = v
    for group, pairs in _CLOUDAUDIT_PLAN:
        part = event.get(group)
        if part:
            get = part.get
            for key, name in pairs:
                v = get(key)
                if v or v is False:
                    out[name] = v
    extras = {}
    get = actor.get
    for key in _ACTOR_EXTRAS:
        v = get(key)
        if v is not None and (v or v is False or v == 0):
            extras[key] = v
    if extras:
        out["actor"] = extras
    get = src.get
    source = {}
    for key in _SOURCE_EXTRAS:
        v = get(key)
        if v or v is False:
            source[key] = v
    if source:
        out["source"] = source
    return out


def cloudaudit_fields(event: Json) -> Json:
    return _cloudaudit(event, event["who"].get("actor") or _EMPTY, event["where"].get("source") or _EMPTY)


# --- the projection ----------------------------------------------------------------------------------


def project(event: Json, keep_raw: bool = False) -> Json:
    """One canonical event (dict) -> one ECS document (nested objects, as Elasticsearch indexes them;
    read-only: nested objects may be shared with other projected events)."""
    what = event["what"]
    who = event["who"]
    where = event["where"]
    when = event["when"]
    how = event.get("how") or _EMPTY
    actor = who.get("actor") or _EMPTY
    src = where.get("source") or _EMPTY
    user, origin, actor_users = _who_parts(actor)
    out: Json = {
        "@timestamp": when["time"],
        "ecs": {"version": t.ECS_VERSION},
        "event": _event(event, what, when, keep_raw),
    }
    target = _target(what)
    if target:
        out["user"] = {**user, "target": target}
    elif user:
        out["user"] = user
    source = _source(src)
    if source:
        out["source"] = source
    cloud = _cloud(where, what.get("service"), origin)
    if cloud:
        out["cloud"] = cloud
    if v := where.get("org"):
        out["organization"] = {"id": v}
    related = _related(who, what, src, actor_users)
    if related:
        out["related"] = related
    get = how.get
    if v := get("user_agent"):
        out["user_agent"] = {"original": v}
    tls = get("tls")
    if tls and (tls.get("version") or tls.get("cipher")):
        version = (tls.get("version") or "").removeprefix("TLSv")
        out["tls"] = _clean({"version": version or None, "cipher": tls.get("cipher"),
                             "version_protocol": "tls" if version else None})
    err = what.get("error")
    if err and (err.get("code") or err.get("message")):
        out["error"] = _clean({"code": err.get("code"), "message": err.get("message")})
    if v := get("correlation_id"):
        out["trace"] = {"id": v}
    out[t.ECS_CUSTOM_NAMESPACE] = _cloudaudit(event, actor, src)
    return out
