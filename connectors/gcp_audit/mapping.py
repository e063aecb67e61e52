"""GCP Cloud Audit Logs: one LogEntry with an AuditLog payload to one event dict (schemas.Event shape).

One small function per question (when, what, outcome, who, where, how); ``map_record`` puts them together.
Facts that only depend on a string that repeats across records (a method name, a log name, a caller
email) are computed once and cached, which keeps the per-record cost to dictionary lookups.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import unquote

import orjson

from connectors.base import MapContext
from connectors.common import (
    LONG_KEY_CACHE,
    activity_from_operation,
    as_list,
    client_from_user_agent,
    compact_json,
    first_texts,
    source_fields,
)
from connectors.errors import MappingError
from connectors.gcp_audit.parse import payload_and_shape
from connectors.gcp_audit.tables import (
    COMPUTE_NETWORK_COLLECTIONS,
    DATA_SERVICES,
    GOOGLE_MANAGED_DOMAINS,
    GOOGLE_MANAGED_EMAILS,
    IAM_POLICY_METHODS,
    RPC_CODES,
    SERVICE_CATEGORY,
)
from connectors.gcp_audit.targets import K8S_PRINCIPALS, MEMBER_TYPES, PUBLIC_MEMBERS, TARGETS
from connectors.timeutil import parse_time, parse_time_opt
from schemas.ids import event_id

FORMAT = "gcp.audit"
_EMPTY: dict[str, Any] = {}  # read-only stand-in for an absent or wrong-typed object
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _s(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else _EMPTY


def _id_text(value: Any) -> str | None:
    """An id as text: ids arrive as strings, sometimes as numbers (project numbers, BigQuery rows)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


# --- the record --------------------------------------------------------------------------------


def map_record(record: dict[str, Any], ctx: MapContext) -> dict[str, Any]:
    p, shape, path = payload_and_shape(record, ctx.envelope)
    # Text and objects where they belong are taken inline (type() is); _s and _d handle the rest.
    method = p.get("methodName")
    if type(method) is not str or not method:
        method = _s(method)
        if method is None:
            raise MappingError("missing_operation", f"no {path}.methodName: the entry does not say what was done")
    when, id_time = when_from_entry(record, ctx)

    log_name = record.get("logName")
    if type(log_name) is not str or not log_name:
        log_name = _s(log_name) or _s(record.get("logname"))
    log = log_info(log_name) if log_name else _NO_LOG
    resource = record.get("resource")
    if type(resource) is not dict:
        resource = _d(resource)
    labels = resource.get("labels")
    if type(labels) is not dict:
        labels = _d(labels)
    service = p.get("serviceName")
    if type(service) is not str or not service:
        service = _s(service) or _s(record.get("serviceName"))  # Panther hoists it at times
    action, short, activity, svc = operation_names(method, service or _s(labels.get("service")))

    perms = permission_facts(p.get("authorizationInfo"), log.kind)
    outcome, error = outcome_from_status(p.get("status"), svc, short)
    who, actor_type = who_from_authentication(p.get("authenticationInfo"), log.kind, service, outcome)
    meta = p.get("metadata")
    if isinstance(meta, dict) and "identityDelegationChain" in meta and not who["delegation"]:
        who["delegation"] = delegation_from_metadata(meta.get("identityDelegationChain"), who["actor"])
    region = region_from_labels(labels, p)
    rm = p.get("requestMetadata")
    if type(rm) is not dict:
        rm = _d(rm)

    insert_id = record.get("insertId")
    if type(insert_id) is not str or not insert_id:
        insert_id = _id_text(insert_id)
        if insert_id is None:
            insert_id = _id_text(record.get("insertid"))
    # insertId is unique only within one log and timestamp (the corpus reuses them), so both go in.
    # The time is canonical (epoch seconds and nine fraction digits) so that the same entry read from a
    # GCS sink, a Pub/Sub sink or BigQuery gets the same id and deduplicates. Without an insertId only the
    # record itself tells entries apart.
    if insert_id is not None:
        eid = event_id(FORMAT, insert_id, log_name, id_time)
    else:
        eid = event_id(FORMAT, None, log_name, id_time, ctx.raw)

    request = p.get("request")
    if request is None:
        request = p.get("requestJson")  # BigQuery sink: the request as a JSON string
    response = p.get("response")
    if response is None:
        response = p.get("responseJson")

    resource_name = p.get("resourceName")
    if type(resource_name) is not str or not resource_name:
        resource_name = _s(resource_name)
    resources = resources_from(resource_name, _s(resource.get("type")), labels, region)
    targets = _targets_for(action)
    if targets:
        resources_from_targets(targets, {"req": request, "resp": response, "rec": record}, resources)
    # The project the resource is in: logs routed into a central project carry the central project in
    # logName, the resource's own project in resource.labels.project_id.
    project = _id_text(labels.get("project_id"))
    in_project_log = log.account is not None and "/" not in log.account
    account = project if project and (in_project_log or log.account is None) else log.account
    log_id = log.log_id
    if in_project_log and project and project != log.account and log_name:
        log_id = unquote(log_name.lstrip("/"))  # the project the entry was logged in stays visible
    what: dict[str, Any] = {
        "action": action,
        "operation": method,
        "service": service,
        "activity": activity,
        "category": category_for(svc, short, log.kind, perms),
        "read_only": perms.read_only,
        "outcome": outcome,
        "error": error,
        "resources": resources,
        "request": compact_json(request) or None,
        "response": compact_json(response) or None,
    }
    authz = p.get("authorizationInfo")
    if authz and isinstance(authz, list):
        what["authorization"] = authorization_from(authz, outcome == "failure")
    if "serviceData" in p or "metadata" in p:
        changes = privilege_changes_from(p, resource_name)
        if changes:
            what["privilege_changes"] = changes
    if log.kind == "data_access":
        what["plane"] = "data"
    elif log.kind in ("activity", "system_event", "policy"):
        what["plane"] = "management"
    return {
        "id": eid,
        "when": when,
        "who": who,
        "what": what,
        "where": {
            "provider": "gcp",
            "account": account,
            "org": log.org or org_from_entry(labels, p, log.kind),
            "region": region,
            "source": source_from_caller(rm),
        },
        "how": how_from_request_metadata(rm, record, actor_type, svc),
        "source": {
            "format": FORMAT,
            "native_id": insert_id,
            "log": log_id,
            "shape": shape,
            "location": ctx.location,
        },
        "raw": ctx.raw,
    }


# --- when --------------------------------------------------------------------------------------


def when_from_entry(record: dict[str, Any], ctx: MapContext) -> tuple[dict[str, Any], str]:
    """When it happened (``timestamp``), when Logging received it (``receiveTimestamp``), and the
    canonical time text for the event id.

    ``timestamp`` is optional in a LogEntry: when a writer omits it, Logging stamps the entry with the
    time it received it (LogEntry reference). So when it is missing here we do what Logging does and use
    ``receiveTimestamp``, which also stays in ``when.observed``. Fields a collector added (Panther's
    ``p_event_time``) are not the source's word and are ignored, as in the other connectors. A
    ``timestamp`` that is present but unreadable is a broken record, never replaced.
    """
    receive = record.get("receiveTimestamp")
    if receive is None:
        receive = record.get("receivetimestamp")
    value = record.get("timestamp")
    if value is None or value == "":
        field, value = "receiveTimestamp", receive
        if value is None or value == "":
            raise MappingError("missing_time", "no timestamp (nor receiveTimestamp to stand in)")
        try:
            dt, keep = parse_time(value, field)
        except MappingError as exc:
            raise MappingError(exc.code, f"no timestamp, and {exc.reason}") from None
    else:
        dt, keep = parse_time(value, "timestamp")
    when = {"time": dt, "time_text": keep, "observed": parse_time_opt(receive), "ingested": ctx.ingested}
    return when, _canonical_time(dt, keep)


def _canonical_time(dt: datetime, keep: str | None) -> str:
    """Epoch seconds and nine fraction digits: one text per instant, whatever the wire format."""
    td = dt - _EPOCH
    if keep is None:
        frac = f"{dt.microsecond:06d}000"
    else:  # more than six fraction digits in the source: keep them all (up to nanoseconds)
        dot = keep.find(".")
        digits = keep[dot + 1 : dot + 10]
        if not digits.isdigit():
            n = 0
            while n < len(digits) and digits[n].isdigit():
                n += 1
            digits = digits[:n]
        frac = digits.ljust(9, "0")
    return f"{td.days * 86400 + td.seconds}.{frac}"


# --- what --------------------------------------------------------------------------------------

_VERSION = re.compile(r"v\d+(?:p\d+)?(?:(?:alpha|beta)\d*)?|(?:alpha|beta)\d*")
_REGION_PREFIX = re.compile(r"[a-z]+-[a-z]+\d+-")


@lru_cache(maxsize=8192)
def operation_names(method: str, service: str | None) -> tuple[str, str, str, str]:
    """(action, short method, activity, service short name) for a methodName and serviceName."""
    svc = service_short_name(service) if service else _service_from_method(method)
    short = short_method(method, svc)
    return f"{svc}:{short}", short, activity_from_operation(short), svc


def service_short_name(service: str) -> str:
    """``compute.googleapis.com`` -> ``compute``; a regional name such as
    ``us-central1-ssh-serialport.googleapis.com`` -> ``ssh-serialport`` (one action, whatever the region);
    GKE's Kubernetes audit entries (serviceName ``k8s.io``) -> ``k8s``."""
    s = service.strip().lower().removesuffix(".googleapis.com")
    if s == "k8s.io":
        return "k8s"
    m = _REGION_PREFIX.match(s)
    if m and m.end() < len(s):
        s = s[m.end() :]
    return s or "unknown"


def _service_from_method(method: str) -> str:
    # No serviceName: REST-style names ("compute.instances.list") start with the service; RPC-style
    # names ("GetIamPolicy", "TagKeys.ListTagKeys") do not say, and we do not guess.
    first = method.split(".", 1)[0]
    if "." in method and first[:1].islower() and first != "google" and not _VERSION.fullmatch(first):
        return first
    return "unknown"


def short_method(method: str, svc: str) -> str:
    """The method without its package prefix, so that ``<service>:<short>`` reads like an API call.

    * RPC-style names keep everything from the first CamelCase segment (the interface, if any, and the
      method): ``google.iam.admin.v1.CreateServiceAccountKey`` -> ``CreateServiceAccountKey``,
      ``google.logging.v2.ConfigServiceV2.DeleteSink`` -> ``ConfigServiceV2.DeleteSink``,
      ``SetIamPolicy`` -> ``SetIamPolicy``.
    * REST-style (all lower-case segments) drop everything up to the last version segment (``v1``,
      ``beta``, ``v1beta1``), then a leading ``google``/``cloud`` and the service's own name:
      ``v1.compute.firewalls.insert`` -> ``firewalls.insert``, ``beta.compute.instances.insert`` ->
      ``instances.insert``, ``storage.objects.get`` and ``google.storage.objects.get`` -> ``objects.get``.
    * Anything else is kept whole (``jobservice.insert``).
    """
    segs = method.split(".")
    for i, seg in enumerate(segs):
        if seg[:1].isupper():
            return ".".join(segs[i:])
    cut = 0
    for i, seg in enumerate(segs):
        if _VERSION.fullmatch(seg):
            cut = i + 1
    rest = segs[cut:]
    while len(rest) > 1 and rest[0] in ("google", "cloud"):
        rest = rest[1:]
    if len(rest) > 1 and rest[0] == svc:
        rest = rest[1:]
    return ".".join(rest) or method


@lru_cache(maxsize=8192)
def base_category(svc: str, short: str) -> str:
    last = short.rsplit(".", 1)[-1].lower()
    if last in IAM_POLICY_METHODS:
        return "iam"  # who may access the resource, whatever the service
    if svc == "compute":
        collection = short.split(".", 1)[0] if "." in short else ""
        return "network" if collection in COMPUTE_NETWORK_COLLECTIONS else "compute"
    return SERVICE_CATEGORY.get(svc, "other")


def category_for(svc: str, short: str, log_kind: str | None, perms: PermissionFacts) -> str:
    category = base_category(svc, short)
    # Reads and writes of user data in a data service are data_access; a Data Access entry that only
    # checked ADMIN_READ permissions (a bucket's settings) keeps the service's category.
    if (
        log_kind == "data_access"
        and svc in DATA_SERVICES
        and category != "iam"
        and (perms.data or not perms.typed)
    ):
        return "data_access"
    return category


class PermissionFacts(NamedTuple):
    read_only: bool | None
    typed: bool  # some AuthorizationInfo says its permissionType
    data: bool  # some permissionType is DATA_READ / DATA_WRITE


# The twelve possible answers, built once.
_PERMISSION_FACTS = {
    (r, t, d): PermissionFacts(r, t, d) for r in (None, True, False) for t in (True, False) for d in (True, False)
}

# Permission verbs that only read (bigquery.tables.getData is BigQuery's data read).
_READ_VERBS = frozenset({"get", "list", "getData", "getIamPolicy"})


def permission_facts(authz: Any, log_kind: str | None) -> PermissionFacts:
    """What authorizationInfo and the log the entry is in say about reading and data.

    read_only is said only where the source says it: AuthorizationInfo.permissionType (ADMIN_READ,
    DATA_READ, ADMIN_WRITE, DATA_WRITE); the Admin Activity and System Event logs, which by definition
    hold only changes; a Data Access entry whose permissions are all .get/.list reads. Otherwise None.
    """
    if not authz:  # no authorizationInfo: the log alone says it
        if log_kind == "activity" or log_kind == "system_event":
            return _WRITE_UNTYPED
        return _UNSAID
    typed = read_types = write_types = data = 0
    reads = writes = 0
    if isinstance(authz, list):
        for a in authz:
            if not isinstance(a, dict):
                continue
            t = a.get("permissionType")
            if isinstance(t, str) and t:
                typed += 1
                if t.endswith("_READ"):
                    read_types += 1
                elif t.endswith("_WRITE"):
                    write_types += 1
                if t.startswith("DATA_"):
                    data += 1
            perm = a.get("permission")
            if isinstance(perm, str) and perm:
                if perm[perm.rfind(".") + 1 :] in _READ_VERBS:
                    reads += 1
                else:
                    writes += 1
    read_only: bool | None = None
    if typed:
        if read_types == typed:
            read_only = True
        elif write_types:
            read_only = False
    elif log_kind == "activity" or log_kind == "system_event":
        read_only = False
    elif log_kind == "data_access" and reads and not writes:
        read_only = True
    return _PERMISSION_FACTS[read_only, typed > 0, data > 0]


_WRITE_UNTYPED = _PERMISSION_FACTS[False, False, False]
_UNSAID = _PERMISSION_FACTS[None, False, False]


def outcome_from_status(status: Any, svc: str, short: str) -> tuple[str, dict[str, Any] | None]:
    """AuditLog.status is a google.rpc.Status: absent, ``{}`` or code 0 is OK; any other code failed."""
    if status is None:
        code: Any = None
    elif isinstance(status, dict):
        code = status.get("code")
    else:
        return "unknown", None
    if code is None or code == 0 or code == "0" or code == "OK":
        # Workspace sign-in logs name the failure in the method, with no status.
        if svc == "login" and short.endswith("loginFailure"):
            return "failure", None
        return "success", None
    if isinstance(code, bool):
        return "unknown", None
    if isinstance(code, int):
        name = RPC_CODES.get(code, str(code))
    elif isinstance(code, str):
        name = RPC_CODES.get(int(code), code) if code.isdigit() else code
    else:
        return "unknown", None
    return "failure", {"code": name, "message": _s(status.get("message"))}


def resources_from(name: str | None, rtype: str | None, labels: dict[str, Any], region: str | None) -> list[dict[str, Any]]:
    """The target: resourceName (the full resource name) and the monitored resource's type."""
    if name is None and rtype is None:
        return []
    short = account = rregion = None
    if name is not None:
        short, account, rregion = resource_name_facts(name)
    return [
        {
            "type": rtype,
            "id": name,
            "name": short,
            "account": account or _id_text(labels.get("project_id")),
            "region": rregion or region,
        }
    ]


_PARENTS = ("projects", "organizations", "folders", "billingAccounts")


@lru_cache(maxsize=LONG_KEY_CACHE)
def resource_name_facts(name: str) -> tuple[str | None, str | None, str | None]:
    """(short name, account, region) from a full resource name such as
    ``projects/p/regions/us-central1/subnetworks/default``."""
    segs = name.split("/")
    account = None
    if len(segs) >= 2 and segs[0] in _PARENTS:
        account = _parent_account(segs[0], segs[1])
    region = None
    for i in range(len(segs) - 1):
        if segs[i] in ("locations", "regions", "zones"):
            region = segs[i + 1] or None
            break
    if "/objects/" in name:  # object names contain slashes
        short: str | None = name.split("/objects/", 1)[1]
    else:
        short = segs[-1]
    return short or None, account, region


@lru_cache(maxsize=8192)
def _targets_for(action: str) -> tuple[Any, ...] | None:
    return TARGETS.get(action.lower())


def resources_from_targets(
    rules: tuple[Any, ...], roots: dict[str, Any], out: list[dict[str, Any]]
) -> None:
    """Append the further targets TARGETS names (the request or response), once per id."""
    seen = {r["id"] for r in out}
    for rule in rules:
        for value in first_texts(roots, rule.paths):
            if value in seen:
                continue
            seen.add(value)
            short, account, region = resource_name_facts(value.removeprefix("//").split("googleapis.com/", 1)[-1])
            out.append({"type": rule.type, "id": value, "name": short, "account": account, "region": region})


def authorization_from(authz: list[Any], failed: bool) -> list[dict[str, Any]]:
    """authorizationInfo as checks: a denied permission is ``granted: false``. Proto3 JSON leaves a false
    ``granted`` out, so on a failed call an absent ``granted`` is a denial; elsewhere it is unknown."""
    out = []
    absent = False if failed else None
    for a in authz:
        if isinstance(a, dict):
            granted = a.get("granted")
            out.append({
                "permission": _s(a.get("permission")),
                "granted": granted if isinstance(granted, bool) else absent,
                "resource": _s(a.get("resource")),
            })
    return out


def privilege_changes_from(p: dict[str, Any], scope: str | None) -> list[dict[str, Any]]:
    """serviceData.policyDelta (IAM AuditData; BigQuery writes metadata.datasetChange): bindingDeltas
    are role bindings added or removed, auditConfigDeltas are Data Access logging turned on or off (an
    exempted member is one whose reads stop being logged)."""
    delta = _d(_d(p.get("serviceData")).get("policyDelta"))
    if not delta:
        delta = _d(_d(p.get("metadata")).get("datasetChange"))
        if not delta:
            return []
    out: list[dict[str, Any]] = []
    for b in as_list(delta.get("bindingDeltas")):
        if not isinstance(b, dict):
            continue
        condition = _d(b.get("condition"))
        out.append({
            "op": _DELTA_OPS.get(str(b.get("action")).upper(), "replace"),
            "kind": "role_binding",
            "role": _s(b.get("role")),
            "grantee": grantee_of(_s(b.get("member"))),
            "scope": scope,
            "condition": _s(condition.get("expression")) or _s(condition.get("title")),
        })
    for a in as_list(delta.get("auditConfigDeltas")):
        if not isinstance(a, dict):
            continue
        service, log_type = _s(a.get("service")), _s(a.get("logType"))
        out.append({
            "op": _DELTA_OPS.get(str(a.get("action")).upper(), "replace"),
            "kind": "audit_config",
            "role": "/".join(x for x in (service, log_type) if x) or None,
            "grantee": grantee_of(_s(a.get("exemptedMember"))),
            "scope": scope,
        })
    return out


_DELTA_OPS = {"ADD": "add", "REMOVE": "remove"}


@lru_cache(maxsize=16384)
def grantee_of(member: str | None) -> dict[str, Any] | None:
    """``user:x@example.com`` -> {type: user, id: the member, name: x@example.com}."""
    if member is None:
        return None
    if member in PUBLIC_MEMBERS:
        return {"type": "public", "id": member, "name": member}
    prefix, sep, rest = member.partition(":")
    if not sep:
        return {"type": None, "id": member, "name": member}
    return {"type": MEMBER_TYPES.get(prefix, prefix), "id": member, "name": rest.split("?", 1)[0] or None}


def _parent_account(kind: str, ident: str) -> str | None:
    # A project is named by its id, as rules write it; the other parents keep their kind, since a bare
    # number could be an organization, a folder or a project number.
    if not ident or ident in ("-", "_"):
        return None
    return ident if kind == "projects" else f"{kind}/{ident}"


# --- who ---------------------------------------------------------------------------------------

_SERVICE_AGENT = re.compile(r"service-(?:org-|folder-)?\d+")


@lru_cache(maxsize=65536)
def email_type(email: str) -> str:
    """human, service or cloud_service for a principal email.

    Service accounts end in gserviceaccount.com. Google-managed service agents act for a Google service,
    not for a customer's workload: service-PROJECT_NUMBER@..., anything @gcp-sa-*, the
    @system.gserviceaccount.com and @cloudservices.gserviceaccount.com accounts, and system@google.com.
    """
    e = email.lower()
    if e in GOOGLE_MANAGED_EMAILS:
        return "cloud_service"
    local, at, domain = e.partition("@")
    if not at:
        domain = e  # malformed (no @): judge by what is there
    if domain.endswith("gserviceaccount.com"):
        if domain in GOOGLE_MANAGED_DOMAINS or domain.startswith("gcp-sa-") or (at and _SERVICE_AGENT.fullmatch(local)):
            return "cloud_service"
        return "service"
    return "human"


def _local_part(email: str) -> str | None:
    return email.partition("@")[0] or None


def _subject_name(subject: str) -> str | None:
    # principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/subject/abc
    # -> "abc" (a subject may itself contain slashes: GitHub's "repo:org/repo:ref:..."); a principalSet
    # -> its last segment.
    i = subject.find("/subject/")
    if i >= 0:
        return subject[i + 9 :] or None
    return subject.rstrip("/").rsplit("/", 1)[-1] or None


class PrincipalFacts(NamedTuple):
    type: str
    id: str | None
    name: str | None
    account: str | None
    federated: bool
    namespace: str | None = None
    email: bool = True  # whether the principalEmail is an e-mail address (GKE identities are not)


@lru_cache(maxsize=65536)
def principal_facts(email: str | None, subject: str | None) -> PrincipalFacts:
    """Who a principalEmail / principalSubject pair is. The id is the principalSubject when there is one
    (``user:alice@example.com``, ``principal://...``), else the email in the same member form
    (``user:``/``serviceAccount:``), so one principal has one id whether or not the entry names its subject.
    GKE writes Kubernetes identities in principalEmail (``system:serviceaccount:NS:NAME``,
    ``system:anonymous``, ``system:node:...``): they are typed by K8S_PRINCIPALS and are not e-mails."""
    if email and email.startswith("system:") and not subject:
        return _k8s_principal(email)
    if subject and subject.startswith(("principal://", "principalSet://")):
        # Workload identity federation (a workload) or workforce identity federation (a person):
        # short-lived federated tokens, no email.
        typ = "human" if "/workforcePools/" in subject else "service"
        return PrincipalFacts(typ, subject, _subject_name(subject), None, True)
    federated = False
    name = _local_part(email) if email else None
    if subject and subject.startswith("user:"):
        typ = "human"
        name = name or _local_part(subject[5:])
    elif subject and subject.startswith("serviceAccount:"):
        rest = subject[15:]
        if "[" in rest:
            # Legacy GKE workload identity: serviceAccount:PROJECT.svc.id.goog[namespace/ksa]
            typ, federated = "service", True
            name = name or rest[rest.find("[") + 1 :].rstrip("]") or None
        else:
            typ = email_type(email or rest)
            typ = "service" if typ == "human" else typ  # the subject says it is a service account
            name = name or _local_part(rest)
    elif email:
        typ = email_type(email)
    else:
        typ = "unknown"  # a subject form we do not know: keep it as the id, say nothing more
    account = _service_account_project(email) if email and typ == "service" else None
    return PrincipalFacts(typ, subject or _member_id(email, typ), name, account, federated)


def _member_id(email: str | None, typ: str) -> str | None:
    if email is None or "@" not in email:
        return email
    if email.lower().endswith("gserviceaccount.com"):
        return "serviceAccount:" + email
    return "user:" + email if typ == "human" else email


def _k8s_principal(name: str) -> PrincipalFacts:
    typ = next(t for prefix, t in _K8S_BY_LENGTH if name.startswith(prefix))
    if name.startswith("system:serviceaccount:"):
        namespace, _, account_name = name[len("system:serviceaccount:") :].partition(":")
        return PrincipalFacts(typ, name, account_name or None, None, False, namespace or None, False)
    return PrincipalFacts(typ, name, name.rsplit(":", 1)[-1] or None, None, False, None, False)


_K8S_BY_LENGTH = sorted(K8S_PRINCIPALS.items(), key=lambda kv: -len(kv[0]))


def _service_account_project(email: str) -> str | None:
    local, _, domain = email.lower().partition("@")
    if domain.endswith(".iam.gserviceaccount.com"):
        return domain[: -len(".iam.gserviceaccount.com")] or None
    if domain == "appspot.gserviceaccount.com":  # the App Engine default account is PROJECT_ID@appspot
        return local or None
    return None


def who_from_authentication(
    auth: Any, log_kind: str | None, service: str | None, outcome: str
) -> tuple[dict[str, Any], str]:
    """The actor (principalEmail / principalSubject), its credential, and the delegation chain."""
    a = auth if type(auth) is dict else _d(auth)
    email = a.get("principalEmail")
    if type(email) is not str or not email:
        email = _s(email)
    subject = a.get("principalSubject")
    if subject is not None:
        subject = _s(subject)
    if email or subject:
        facts = principal_facts(email, subject)
    elif log_kind == "system_event" and service:
        # System Event entries are Google acting on its own (live migration, preemption): the service.
        facts = PrincipalFacts("cloud_service", service, service, None, False)
    elif isinstance(auth, dict) and not any(auth.values()) and log_kind == "data_access" and outcome == "success":
        # An empty authenticationInfo on a data read that succeeded: a public (allUsers) resource.
        facts = _ANONYMOUS
    else:
        facts = _UNKNOWN

    info = a.get("serviceAccountDelegationInfo")
    chain = delegation_chain(info) if info else []
    key = a.get("serviceAccountKeyName")
    if key is not None:
        key = _s(key)
    if chain:
        # The acting principal closes the chain (schema: original caller first, acting principal last).
        chain.append({"id": facts.id, "type": facts.type, "name": facts.name, "email": email})
        credential_type: str | None = "temporary"  # impersonation hands out short-lived tokens
    elif key:
        credential_type = "long_lived"  # a service account key
    elif facts.federated:
        credential_type = "temporary"  # federated tokens from STS
    else:
        credential_type = None
    actor = {
        "type": facts.type,
        "id": facts.id,
        "name": facts.name,
        "email": email if facts.email else None,
        "namespace": facts.namespace,
        "account": facts.account,
        "credential_id": key,
        "credential_type": credential_type,
        "app_id": _s(oauth.get("oauthClientId")) if isinstance(oauth := a.get("oauthInfo"), dict) else None,
    }
    return {"actor": actor, "delegation": chain}, facts.type


_ANONYMOUS = PrincipalFacts("anonymous", None, None, None, False)


def delegation_from_metadata(chain: Any, actor: dict[str, Any]) -> list[dict[str, Any]]:
    """metadata.identityDelegationChain (iamcredentials GenerateAccessToken, SignBlob ...): the service
    accounts the caller went through, in order (``projects/-/serviceAccounts/SA``). The hops follow the
    caller, who is first; the account whose token is minted is the resource."""
    if not isinstance(chain, list) or not chain:
        return []
    hops = [{"id": actor.get("id"), "type": actor.get("type"), "name": actor.get("name"), "email": actor.get("email")}]
    for link in chain:
        if isinstance(link, str) and link:
            email = link.rsplit("/", 1)[-1]
            f = principal_facts(email, None)
            hops.append({"id": f.id, "type": f.type, "name": f.name, "email": email})
    return hops if len(hops) > 1 else []

_UNKNOWN = PrincipalFacts("unknown", None, None, None, False)


def delegation_chain(info: Any) -> list[dict[str, Any]]:
    """serviceAccountDelegationInfo as hops {id, type, name, email}, original caller first.

    The AuditLog reference (AuthenticationInfo.service_account_delegation_info) says the authorities
    "are guaranteed to be sorted based on the original ordering of the identity delegation events": the
    first entry is the first delegation, made by the original caller (the user behind
    ``gcloud --impersonate-service-account``), so the logged order is already ours and is kept, not
    reversed. Empty entries say nothing and are skipped.
    """
    if not isinstance(info, list) or not info:
        return []
    chain: list[dict[str, Any]] = []
    for hop in info:
        if not isinstance(hop, dict):
            continue
        subject = _s(hop.get("principalSubject"))
        first = hop.get("firstPartyPrincipal")
        email = _s(first.get("principalEmail")) if isinstance(first, dict) else None
        if email or subject:
            f = principal_facts(email, subject)
            # A first-party principal that names the Google service it runs for is that service.
            if isinstance(first, dict) and "serviceMetadata" in first:
                chain.append({"id": email or f.id, "type": "cloud_service", "name": f.name, "email": email})
            else:
                chain.append({"id": f.id, "type": f.type, "name": f.name, "email": email})
            continue
        claims = _third_party_claims(hop.get("thirdPartyPrincipal"))
        if claims:
            sub = _s(claims.get("sub"))
            chain.append({"id": sub, "type": "unknown", "name": None, "email": None})
    return chain


def _third_party_claims(tpp: Any) -> dict[str, Any]:
    if not isinstance(tpp, dict):
        return _EMPTY
    claims = tpp.get("thirdPartyClaims")
    if claims is None:
        claims = tpp.get("thirdPartyClaimsJson")  # BigQuery sink
    if isinstance(claims, str):
        try:
            claims = orjson.loads(claims)
        except orjson.JSONDecodeError:
            return _EMPTY
    return claims if isinstance(claims, dict) else _EMPTY


# --- where -------------------------------------------------------------------------------------


class LogInfo(NamedTuple):
    account: str | None  # the project id, or organizations/O, folders/F, billingAccounts/B
    org: str | None  # the organization id, for organization-level logs
    log_id: str | None  # decoded: cloudaudit.googleapis.com/activity
    kind: str | None  # activity, data_access, system_event, policy


_NO_LOG = LogInfo(None, None, None, None)


@lru_cache(maxsize=4096)
def log_info(log_name: str) -> LogInfo:
    """``organizations/123/logs/cloudaudit.googleapis.com%2Factivity`` -> where it was logged and which
    audit log it is. The log id is URL-encoded in logName; a leading slash is ignored, as Logging does."""
    s = log_name.lstrip("/")
    parent, sep, log_id = s.partition("/logs/")
    if not sep:  # seen in hand-written data: projects/p/cloudaudit.googleapis.com%2Factivity
        parent, _, log_id = s.rpartition("/")
    segs = parent.split("/")
    account = org = None
    if len(segs) == 2 and segs[0] in _PARENTS:
        account = _parent_account(segs[0], segs[1])
        org = segs[1] if segs[0] == "organizations" and segs[1] else None
    decoded = unquote(log_id) if log_id else None
    kind = None
    if decoded and decoded.startswith("cloudaudit.googleapis.com/"):
        kind = decoded[len("cloudaudit.googleapis.com/") :] or None
    return LogInfo(account, org, decoded, kind)


def region_from_labels(labels: dict[str, Any], p: dict[str, Any]) -> str | None:
    """The monitored resource's location / region / zone label (a zone is kept as is), else the
    AuditLog's resourceLocation."""
    for key in ("location", "region", "zone"):
        v = labels.get(key)
        if isinstance(v, str) and v:
            return v
    locations = _d(p.get("resourceLocation")).get("currentLocations")
    if isinstance(locations, list) and locations and isinstance(locations[0], str) and locations[0]:
        return locations[0]
    return None


def org_from_entry(labels: dict[str, Any], p: dict[str, Any], log_kind: str | None) -> str | None:
    """The organization, when a project-level entry names it: an organization resource's label, or the
    organization whose VPC Service Controls perimeter denied the call (Policy Denied log)."""
    org = labels.get("organization_id") if labels else None
    if org is None and log_kind == "policy":
        org = _d(_d(p.get("metadata")).get("securityPolicyInfo")).get("organizationId")
    return _id_text(org)


def source_from_caller(rm: dict[str, Any]) -> dict[str, Any]:
    """callerIp is an address, or "private" / "gce-internal-ip" (redacted: Google's own network, a VM
    without an external address elsewhere) which are not addresses and go to domain, like a host name.

    requestMetadata.callerNetwork (the caller's VPC network) is not mapped to where.vpc_endpoint: that
    field is an endpoint id (AWS vpcEndpointId), and a network is a different thing; it stays in raw.
    """
    caller = rm.get("callerIp")
    if caller is None:
        caller = rm.get("callerIP")  # Panther's spelling
    return source_fields(caller)


# --- how ---------------------------------------------------------------------------------------


def how_from_request_metadata(
    rm: dict[str, Any], record: dict[str, Any], actor_type: str, svc: str
) -> dict[str, Any]:
    ua = rm.get("callerSuppliedUserAgent")
    if type(ua) is not str or not ua:
        ua = _s(ua)
    # A Google service agent's call is the service's, whatever library it used.
    client = "cloud_service" if actor_type == "cloud_service" else client_from_user_agent(ua)
    if client == "console" and svc == "k8s":
        client = "other"  # the Kubernetes API has no console: a browser agent there calls it directly
    attributes = rm.get("requestAttributes")
    operation = record.get("operation")
    return {
        "user_agent": ua,
        "client": client,
        "request_id": _id_text(attributes.get("id")) if isinstance(attributes, dict) else None,
        # Long-running operations log their first and last entries with the same operation.id.
        "correlation_id": _id_text(operation.get("id")) if isinstance(operation, dict) else None,
    }
