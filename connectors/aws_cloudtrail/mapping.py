"""One CloudTrail record -> one event dict (the ``schemas.event.Event`` shape), or a NonEvent.

Read top to bottom like a table: ``map_record`` assembles the groups, and each group has its own small
function named after the question it answers. Field meanings follow the CloudTrail User Guide
("CloudTrail record contents", "CloudTrail userIdentity element", "IAM Identity Center sign-in
events"). Values arrive untyped (hand-written and data-lake records put numbers, nulls and objects
where strings belong), so every text field goes through ``_s`` and every object through ``_d``.

This runs once per record at tens of thousands of records a second, so the common case (a string
where a string belongs) is tested inline before calling a helper, and everything that depends only on
(eventSource, eventName) is computed once per pair.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from connectors.base import MapContext
from connectors.common import (
    activity_from_operation,
    as_bool,
    client_from_user_agent,
    compact_json,
    first_texts,
    privilege_changes,
    source_fields,
    text,
    texts_at,
)
from connectors.errors import MappingError, NonEvent
from connectors.timeutil import parse_time, parse_time_opt
from schemas.ids import event_id

from .parse import recase
from .tables import FORMAT, LOGIN_OPERATIONS, WORKLOAD_OIDC_ISSUERS, category_for
from .targets import ARN_TEMPLATES, GLOBAL_SERVICES, ISSUED_PATHS, PLANES, PRIVILEGES, TARGETS

INSIGHT = NonEvent("aws.cloudtrail.insight")
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"

_EMPTY: dict[str, Any] = {}
_FLAGS = {"true": True, "false": False}  # how CloudTrail spells booleans inside sessionContext


def _d(value: Any) -> dict[str, Any]:
    return value if type(value) is dict else _EMPTY


def _s(value: Any) -> str | None:
    if type(value) is str:
        return value or None
    return None if value is None else text(value)


# --- the record ---------------------------------------------------------------------------------


def map_record(record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | NonEvent:
    if ("eventName" not in record or "eventTime" not in record) and (
        "eventname" in record or "eventtime" in record
    ):
        record = recase(record)
    event_type = record.get("eventType")
    if event_type == "AwsCloudTrailInsight" or "insightDetails" in record:
        return INSIGHT  # a statistic about other events, not an action anyone took

    # The common case (text where text belongs) is tested inline; the helpers handle the rest.
    operation = record.get("eventName")
    if type(operation) is not str or not operation:
        operation = operation_from_event_name(operation)
    value = record.get("eventTime")
    if type(value) is str:
        time, time_text, time_key = _parse_event_time(value)
    else:
        time, time_text, time_key = time_from_event_time(value)
    source = record.get("eventSource")
    if type(source) is not str or not source:
        source = _s(source)
    native_id = record.get("eventID")
    if type(native_id) is not str or not native_id:
        native_id = _s(native_id)

    ui = record.get("userIdentity")
    if type(ui) is not dict:
        ui = _EMPTY
    who, sso = who_from_user_identity(ui, record)
    return {
        "id": event_id(FORMAT, native_id, time_key, source, operation),
        "when": {"time": time, "time_text": time_text, "ingested": ctx.ingested},
        "who": who,
        "what": what_from_record(record, source, operation, who),
        "where": where_from_record(record, ui, ctx.location),
        "how": how_from_record(record, ui, who, operation, sso, source),
        "source": {
            "format": FORMAT,
            "native_id": native_id,
            "log": event_type if type(event_type) is str and event_type else _s(event_type),
            "shape": ctx.envelope or "record",
            "location": ctx.location,
        },
        "raw": ctx.raw,
    }


def operation_from_event_name(value: Any) -> str:
    if type(value) is str and value:
        return value
    if value is None or value == "":
        raise MappingError("missing_operation", "no eventName: the record does not say what happened")
    raise MappingError("bad_operation", f"eventName is a {type(value).__name__}, not an operation name")


def time_from_event_time(value: Any) -> tuple[datetime, str | None, str]:
    """(UTC time, original text when finer than microseconds, the time as ISO text for the id)."""
    if type(value) is str:
        return _parse_event_time(value)
    time, time_text = parse_time(value, "eventTime")
    return time, time_text, time.isoformat()


# Busy accounts log many events per second, and every event of a session repeats its creationDate:
# parsing each distinct text once pays. Only successes are cached; a bad time raises every time.
@lru_cache(maxsize=16384)
def _parse_event_time(value: str) -> tuple[datetime, str | None, str]:
    time, time_text = parse_time(value, "eventTime")
    return time, time_text, time.isoformat()


@lru_cache(maxsize=16384)
def _parse_created(value: str) -> datetime | None:
    return parse_time_opt(value)


# --- what ---------------------------------------------------------------------------------------


def what_from_record(
    record: dict[str, Any], source: str | None, operation: str, who: dict[str, Any]
) -> dict[str, Any]:
    action, activity, category, targets, privileges, issued_paths = facts_for(source, operation)
    code = record.get("errorCode")
    message = record.get("errorMessage")
    error = None if code is None and message is None else error_from(code, message)
    read_only = record.get("readOnly")
    request = record.get("requestParameters")
    response = record.get("responseElements")
    resources = record.get("resources")
    resource_list = resources_from_record(resources) if resources else []
    what: dict[str, Any] = {
        "action": action,
        "operation": operation,
        "service": source,
        "activity": activity,
        "category": category,
        "read_only": read_only if type(read_only) is bool else as_bool(read_only),
        "outcome": outcome_from_status(record, response, operation, error),
        "error": error,
        "resources": resource_list,
        "request": compact_json(request) if request is not None else None,
        "response": compact_json(response) if response is not None else None,
    }
    if targets or privileges or issued_paths:
        roots = {"req": request, "resp": response, "rec": record, "who": who}
        if targets:
            resources_from_targets(targets, roots, record, resource_list, source)
        if privileges:
            what["privilege_changes"] = privilege_changes(privileges, roots)
        if issued_paths:
            what["issued"] = issued_from(issued_paths, roots)
    plane = record.get("eventCategory")
    if plane is not None:
        what["plane"] = PLANES.get(plane) if type(plane) is str else None
    extra = record.get("additionalEventData")
    if type(extra) is dict and extra:
        what["details"] = details_from(extra)
    return what


@lru_cache(maxsize=16384)
def facts_for(
    source: str | None, operation: str
) -> tuple[str, str, str, tuple[Any, ...], tuple[Any, ...], tuple[Any, ...] | None]:
    """names_for and rules_for of one (eventSource, eventName) pair, in one cache look-up."""
    action, activity, category = names_for(source, operation)
    return (action, activity, category, *rules_for(action))


@lru_cache(maxsize=16384)
def rules_for(action: str) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...] | None]:
    """(target rules, privilege rules, issued paths) of an action, from the tables in targets.py. Lambda's
    event names carry an API version (``UpdateFunctionCode20150331v2``) that the tables leave out."""
    key = action.lower()
    if key.startswith("lambda:"):
        key = _LAMBDA_VERSION.sub("", key)
    return TARGETS.get(key, ()), PRIVILEGES.get(key, ()), ISSUED_PATHS.get(key)


_LAMBDA_VERSION = re.compile(r"\d{8}(?:v\d+)?$")


def resources_from_targets(
    rules: tuple[Any, ...],
    roots: dict[str, Any],
    record: dict[str, Any],
    out: list[dict[str, Any]],
    service: str | None,
) -> None:
    """Append the targets the tables name (request or response parameters), once per id. ``service``
    is the record's eventSource as text."""
    account = _s(record.get("recipientAccountId"))
    region = _s(record.get("awsRegion"))
    regional = service is None or _service_prefix(service) not in GLOBAL_SERVICES
    seen = {r["id"] for r in out} if out else set()
    for rule in rules:
        for value in first_texts(roots, rule.paths):
            resource = target_resource(value, rule.type, account, region if regional else None)
            if resource["id"] not in seen:
                seen.add(resource["id"])
                out.append(resource)


@lru_cache(maxsize=1024)
def _service_prefix(service: str) -> str:
    return service.split(".", 1)[0]


def target_resource(value: str, rtype: str, account: str | None, region: str | None) -> dict[str, Any]:
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        tail = parts[5] if len(parts) > 5 else ""
        return {
            "type": rtype,
            "id": value,
            "name": tail.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1] or None,
            "account": (parts[4] or None) if len(parts) > 4 else account,
            "region": (parts[3] or None) if len(parts) > 3 else None,
        }
    template = ARN_TEMPLATES.get(rtype)
    if rtype == "AWS::Organizations::Account":
        account = value
    return {
        "type": rtype,
        "id": template.format(value) if template else value,
        "name": value,
        "account": account,
        "region": region if template is None else None,
    }


def issued_from(paths: tuple[Any, ...], roots: dict[str, Any]) -> dict[str, Any] | None:
    """The session (or key) the call handed out, so a later call by that key joins back to this one."""
    found = []
    for root, keys in paths:
        values = texts_at(roots.get(root), keys)
        found.append(values[0] if values else None)
    if found[0] is None and found[1] is None:
        return None
    return {"id": found[0], "credential_id": found[1], "expires": _expiry(found[2]) if found[2] else None}


# STS writes the expiry as "Sep 3, 2025, 2:15:00 PM" (UTC). strptime reads it in ~10 us; this pattern
# reads the same text in a fraction of that, and anything it does not match goes to strptime as before.
_STS_EXPIRY = re.compile(r"([A-Z][a-z]{2}) (\d{1,2}), (\d{4}), (\d{1,2}):(\d\d):(\d\d) ([AP])M")
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                       "Nov", "Dec"), 1)}


def _expiry(value: str) -> datetime | None:
    # STS writes the expiry as "Sep 3, 2025, 2:15:00 PM" (UTC); other services as ISO text.
    m = _STS_EXPIRY.fullmatch(value)
    if m is not None:
        month = _MONTHS.get(m[1])
        hour = int(m[4])
        if month is not None and 1 <= hour <= 12:
            try:
                return datetime(int(m[3]), month, int(m[2]), hour % 12 + (12 if m[7] == "P" else 0),
                                int(m[5]), int(m[6]), tzinfo=UTC)
            except ValueError:
                pass
    try:
        return datetime.strptime(value, "%b %d, %Y, %I:%M:%S %p").replace(tzinfo=UTC)
    except ValueError:
        return parse_time_opt(value)


def details_from(extra: dict[str, Any]) -> list[dict[str, Any]]:
    # additionalEventData as key/value pairs (non-text values as compact JSON).
    return [
        {"key": k, "value": v if type(v) is str else text(v)} for k, v in extra.items() if v is not None
    ]


@lru_cache(maxsize=16384)
def names_for(source: str | None, operation: str) -> tuple[str, str, str]:
    """(action, activity, category) for an eventSource and eventName. The action's service is the
    eventSource up to its first dot (``iam.amazonaws.com`` -> ``iam``); without an eventSource the
    operation alone is all the record says."""
    service = source.split(".", 1)[0].strip().lower() if source else None
    action = f"{service}:{operation}" if service else operation
    return action, activity_for(service, operation), category_for(service, operation)


def activity_for(service: str | None, operation: str) -> str:
    # Sign-in steps and credential hand-outs are logins whatever their verb says
    # (GetRoleCredentials, Federate, CredentialChallenge).
    if service is not None:
        logins = LOGIN_OPERATIONS.get(service)
        if logins is not None and operation in logins:
            return "login"
    return activity_from_operation(operation)


def error_from(code: Any, message: Any) -> dict[str, Any] | None:
    code, message = _s(code), _s(message)
    if code is None and message is None:
        return None
    if code is not None and message is None and len(code) == 3 and code[0] == "2" and code.isdigit():
        return None  # an HTTP 2xx status written as the errorCode: the call succeeded
    return {"code": code, "message": message}


def outcome_from_status(
    record: dict[str, Any], response: Any, operation: str, error: dict[str, Any] | None
) -> str:
    """CloudTrail writes errorCode/errorMessage only on failure. Sign-in events say it in their own
    words: a failed ConsoleLogin may carry only ``errorMessage: "Failed authentication"`` or only
    ``responseElements.ConsoleLogin: "Failure"``; IAM Identity Center sign-in steps put
    ``{"<eventName>": "Success"|"Failure"}`` in ``serviceEventDetails``."""
    if error is not None:
        code = error["code"]
        # Some services write the HTTP status as the errorCode, 2xx included ("200"): not an error.
        if code is None or not (len(code) == 3 and code[0] == "2" and code.isdigit()):
            return "failure"
    said = response.get("ConsoleLogin") if type(response) is dict else None
    if said is None:
        details = record.get("serviceEventDetails")
        said = details.get(operation) if type(details) is dict else None
    return "failure" if said == "Failure" else "success"


def resources_from_record(value: Any) -> list[dict[str, Any]]:
    if type(value) is not list:
        return []
    out = []
    for r in value:
        if type(r) is not dict:
            continue
        arn = _s(r.get("ARN")) or _s(r.get("arn"))
        out.append({
            "type": _s(r.get("type")),
            "id": arn,
            "account": _s(r.get("accountId")) or _s(r.get("accountid")),
            "region": _region_from_arn(arn),
        })
    return out


def _region_from_arn(arn: str | None) -> str | None:
    # arn:partition:service:region:account:resource; global resources leave the region empty.
    if arn is None or not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 4)
    return (parts[3] or None) if len(parts) > 4 else None


# --- who ----------------------------------------------------------------------------------------


def who_from_user_identity(ui: dict[str, Any], record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The acting principal, its session and the chain behind it. The second value tells whether the
    session came from IAM Identity Center (the auth method says so)."""
    kind = ui.get("type")
    principal = _PRINCIPAL_BY_TYPE.get(kind) if type(kind) is str else None
    if principal is None or kind == "AWSAccount":
        if _is_anonymous(ui, kind):
            principal = anonymous_principal
        elif kind == "IdentityCenterUser" or (kind is None and "onBehalfOf" in ui):
            principal = identity_center_user
        elif principal is None:
            principal = unknown_principal
    who, sso = principal(ui, record)
    # The stable unique id (AIDA… for users, AROA…:session for role sessions) beside the ARN.
    unique_id = ui.get("principalId")
    if type(unique_id) is str and unique_id and unique_id != who["actor"].get("id"):
        who["actor"]["unique_id"] = unique_id
    invoked_by = ui.get("invokedBy")
    if invoked_by is not None and (invoked_by := _s(invoked_by)) is not None:
        who["invoked_by"] = invoked_by
    return who, sso


def _is_anonymous(ui: dict[str, Any], kind: Any) -> bool:
    # Unauthenticated S3 requests: {"type": "AWSAccount", "principalId": "", "accountId": "anonymous"};
    # some services write principalId "ANONYMOUS_PRINCIPAL".
    return (
        kind == "Anonymous"
        or ui.get("principalId") == "ANONYMOUS_PRINCIPAL"
        or ui.get("accountId") in ("anonymous", "ANONYMOUS_PRINCIPAL")
    )


def assumed_role_session(ui: dict[str, Any], record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The actor is the session (arn:aws:sts::ACCT:assumed-role/ROLE/SESSION), not the role: the role
    is what issued it. For IAM Identity Center permission sets (AWSReservedSSO_<set>_<hash>) AWS sets
    the session name to the person's user name, so only there is an e-mail-like name an e-mail: in a
    plain AssumeRole the caller chooses the session name freely."""
    # Text where text belongs is taken inline; _s handles the rest (numbers, empty strings).
    arn = ui.get("arn")
    if type(arn) is not str or not arn:
        arn = _s(arn)
    principal_id = ui.get("principalId")
    if type(principal_id) is not str or not principal_id:
        principal_id = _s(principal_id)
    context = ui.get("sessionContext")
    if type(context) is not dict:
        context = _EMPTY
    issuer = context.get("sessionIssuer")
    if type(issuer) is not dict:
        issuer = _EMPTY
    issuer_arn = issuer.get("arn")
    if type(issuer_arn) is not str or not issuer_arn:
        issuer_arn = _s(issuer_arn)
    actor_type, name, email, sso = assumed_role_facts(arn, principal_id, issuer_arn)
    key = ui.get("accessKeyId")
    if type(key) is not str or not key:
        key = _s(key)
    account = ui.get("accountId")
    if type(account) is not str or not account:
        account = _s(account)
    actor = {
        "type": actor_type,
        "id": arn or principal_id,
        "name": name,
        "email": email,
        "account": account,
        "credential_id": key,
        # An assumed role's credentials are always temporary, whatever their key id looks like.
        "credential_type": "temporary",
    }
    issuer_type = issuer.get("type")
    if type(issuer_type) is not str or not issuer_type:
        issuer_type = _s(issuer_type)
    session = _session(context, name, issuer_arn or _s(issuer.get("userName")), issuer_type)
    who: dict[str, Any] = {"actor": actor, "session": session}
    if "onBehalfOf" in ui or "sourceIdentity" in context or "sourceIdentity" in record:
        chain = delegation_behind(ui, context, record, actor)
        if chain:
            who["delegation"] = chain
    return who, sso


# Every event of a session repeats these three values: work them out once per session.
@lru_cache(maxsize=16384)
def assumed_role_facts(
    arn: str | None, principal_id: str | None, issuer_arn: str | None
) -> tuple[str, str | None, str | None, bool]:
    """(actor type, session name, e-mail, whether IAM Identity Center issued it) of a role session."""
    name, sso = session_name_and_sso(arn, principal_id, issuer_arn)
    # A service-linked role (path aws-service-role/) is a service acting for itself, as GCP's
    # service agents are.
    service_linked = issuer_arn is not None and ":role/aws-service-role/" in issuer_arn
    return (
        "cloud_service" if service_linked else "role_session",
        name,
        name if sso and name is not None and "@" in name else None,
        sso,
    )


def session_name_and_sso(
    arn: str | None, principal_id: str | None, issuer_arn: str | None
) -> tuple[str | None, bool]:
    """The session name (last part of the assumed-role ARN, or of principalId ``AROA…:SESSION``) and
    whether the role is an IAM Identity Center permission set (``AWSReservedSSO_…`` under the
    ``aws-reserved/sso.amazonaws.com/`` path)."""
    role = name = None
    if arn is not None and ":assumed-role/" in arn:
        parts = arn.split("/")
        if len(parts) >= 3:
            role, name = parts[1] or None, parts[-1] or None
    if name is None and principal_id is not None and ":" in principal_id:
        name = principal_id.split(":", 1)[1] or None
    sso = (role is not None and role.startswith("AWSReservedSSO_")) or (
        issuer_arn is not None and "/aws-reserved/sso.amazonaws.com/" in issuer_arn
    )
    return name, sso


def delegation_behind(
    ui: dict[str, Any], context: dict[str, Any], record: dict[str, Any], actor: dict[str, Any]
) -> list[dict[str, Any]]:
    """Who the session acts for, original first and the session last: an identity-enhanced session
    carries the Identity Center user in ``onBehalfOf``; ``sourceIdentity`` is the name the identity
    provider stamped on the first role session of a chain, carried through every later hop."""
    origin: dict[str, Any] | None = None
    user_id = _s(_d(ui.get("onBehalfOf")).get("userId"))
    if user_id is not None:
        origin = {"id": user_id, "type": "human"}
    else:
        source_identity = _s(context.get("sourceIdentity")) or _s(record.get("sourceIdentity"))
        if source_identity is not None:
            origin = {"name": source_identity}
    if origin is None:
        return []
    return [origin, {"id": actor["id"], "type": actor["type"], "name": actor["name"]}]


def federated_user(ui: dict[str, Any], record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """GetFederationToken sessions: arn:aws:sts::ACCT:federated-user/NAME, issued by the IAM user or
    root named in sessionIssuer."""
    arn = _s(ui.get("arn"))
    principal_id = _s(ui.get("principalId"))
    name = None
    if arn is not None and ":federated-user/" in arn:
        name = arn.rsplit("/", 1)[-1] or None
    elif principal_id is not None and ":" in principal_id:
        name = principal_id.split(":", 1)[1] or None
    context = _d(ui.get("sessionContext"))
    issuer = _d(context.get("sessionIssuer"))
    key = _s(ui.get("accessKeyId"))
    actor = {
        "type": "role_session",
        "id": arn or principal_id,
        "name": name,
        "account": _s(ui.get("accountId")),
        "credential_id": key,
        "credential_type": credential_type(key, "temporary"),
    }
    session = _session(context, name, _s(issuer.get("arn")) or _s(issuer.get("userName")), _s(issuer.get("type")))
    return {"actor": actor, "session": session}, False


def iam_user(ui: dict[str, Any], record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    return _long_term_principal(ui, "human", _s(ui.get("userName"))), False


def root_user(ui: dict[str, Any], record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    # userName is the account alias when one is set.
    return _long_term_principal(ui, "root", _s(ui.get("userName")) or "root"), False


def _long_term_principal(ui: dict[str, Any], actor_type: str, name: str | None) -> dict[str, Any]:
    arn = _s(ui.get("arn"))
    key = _s(ui.get("accessKeyId"))
    if name == HIDDEN:
        name = None  # a failed sign-in with a mistyped user name: CloudTrail hides what was typed
    elif name is None and arn is not None and ":user/" in arn:
        name = arn.rsplit("/", 1)[-1] or None
    actor = {
        "type": actor_type,
        "id": arn or _s(ui.get("principalId")),
        "name": name,
        "account": _s(ui.get("accountId")),
        "credential_id": key,
        "credential_type": credential_type(key, None),
    }
    who: dict[str, Any] = {"actor": actor}
    # Console and MFA sessions of users and root carry sessionContext.attributes (no issuer).
    context = _d(ui.get("sessionContext"))
    if _d(context.get("attributes")):
        who["session"] = _session(context, None, None, None)
    return who


def aws_service(ui: dict[str, Any], record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    # {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}: the service principal is the actor.
    service = _s(ui.get("invokedBy"))
    actor = {"type": "cloud_service", "id": service, "name": service, "account": _s(ui.get("accountId"))}
    return {"actor": actor}, False


def aws_account(ui: dict[str, Any], record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """A principal of another account. CloudTrail withholds its ARN and kind from the resource owner:
    only the principalId (whose AROA/AIDA prefix merely hints at a role or user) and the account are
    given. The kind stays unknown rather than guessed; the id and account let enrichment resolve it."""
    actor = {
        "type": "unknown",
        "id": _s(ui.get("principalId")),
        "account": _s(ui.get("accountId")),
        "credential_id": _s(ui.get("accessKeyId")),
    }
    return {"actor": actor}, False


def anonymous_principal(ui: dict[str, Any], record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    return {"actor": {"type": "anonymous", "id": _s(ui.get("principalId"))}}, False


def identity_center_user(ui: dict[str, Any], record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """IAM Identity Center sign-in and portal events: the person is ``onBehalfOf.userId`` in the
    identity store ``onBehalfOf.identityStoreArn``; the user name is in additionalEventData."""
    on_behalf = _d(ui.get("onBehalfOf"))
    name = _s(_d(record.get("additionalEventData")).get("UserName")) or _s(ui.get("userName"))
    credential_id = _s(ui.get("credentialId"))
    actor = {
        "type": "human",
        "id": _s(on_behalf.get("userId")) or _s(ui.get("principalId")),
        "name": name,
        "email": name if name is not None and "@" in name else None,
        "account": _s(ui.get("accountId")),
        "credential_id": credential_id,
        "credential_type": "unknown" if credential_id is not None else None,
    }
    store = _s(on_behalf.get("identityStoreArn"))
    who: dict[str, Any] = {"actor": actor}
    if store is not None:
        who["session"] = {"issuer": store, "issuer_type": "IdentityStore"}
    return who, True


def federated_caller(ui: dict[str, Any], record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """SAMLUser / WebIdentityUser: the caller of AssumeRoleWithSAML / AssumeRoleWithWebIdentity, vouched
    for by ``identityProvider`` (saml:namequalifier, or the OIDC issuer). A person, except for the
    workload issuers of CI systems and Kubernetes."""
    name = _s(ui.get("userName"))
    provider = _s(ui.get("identityProvider"))
    actor = {
        "type": "service" if is_workload_identity(provider, name) else "human",
        "id": _s(ui.get("principalId")) or name,
        "name": name,
        "email": name if name is not None and "@" in name else None,
        "account": _s(ui.get("accountId")),
    }
    issuer_type = "SAML" if ui.get("type") == "SAMLUser" else "WebIdentity"
    session = {"issuer": provider, "issuer_type": issuer_type}
    return {"actor": actor, "session": session}, False


def is_workload_identity(provider: str | None, name: str | None) -> bool:
    """OIDC tokens from CI systems and Kubernetes name a job or a service account, not a person: the
    issuer (or EKS's ``system:serviceaccount:`` subject) says so."""
    if name is not None and name.startswith("system:serviceaccount:"):
        return True
    return provider is not None and any(issuer in provider for issuer in WORKLOAD_OIDC_ISSUERS)


def unknown_principal(ui: dict[str, Any], record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    # type "Unknown" (CloudTrail could not tell), an absent userIdentity, or a type not listed here.
    key = _s(ui.get("accessKeyId"))
    actor: dict[str, Any] = {
        "type": "unknown",
        "id": _s(ui.get("arn")) or _s(ui.get("principalId")),
        "name": _s(ui.get("userName")),
        "account": _s(ui.get("accountId")),
        "credential_id": key,
        "credential_type": credential_type(key, None),
    }
    return {"actor": actor}, False


_PRINCIPAL_BY_TYPE = {
    "AssumedRole": assumed_role_session,
    "FederatedUser": federated_user,
    "IAMUser": iam_user,
    "Root": root_user,
    "AWSService": aws_service,
    "AWSAccount": aws_account,
    "IdentityCenterUser": identity_center_user,
    "SAMLUser": federated_caller,
    "WebIdentityUser": federated_caller,
}


def _session(
    context: dict[str, Any], name: str | None, issuer: str | None, issuer_type: str | None
) -> dict[str, Any]:
    attributes = context.get("attributes")
    if type(attributes) is not dict:
        attributes = _EMPTY
    mfa = attributes.get("mfaAuthenticated")  # the string "true"/"false" in real logs
    flag = _FLAGS.get(mfa) if type(mfa) is str else None
    created = attributes.get("creationDate")
    return {
        "name": name,
        "issuer": issuer,
        "issuer_type": issuer_type,
        "mfa": flag if flag is not None else as_bool(mfa),
        "created": _parse_created(created) if type(created) is str else None,
    }


def credential_type(access_key_id: str | None, default: str | None) -> str | None:
    """AKIA… keys are long-lived (IAM user or root access keys); ASIA… keys come from STS."""
    if access_key_id is None:
        return default
    if access_key_id.startswith("ASIA"):
        return "temporary"
    if access_key_id.startswith("AKIA"):
        return "long_lived"
    return default or "unknown"


# --- where --------------------------------------------------------------------------------------


def where_from_record(record: dict[str, Any], ui: dict[str, Any], location: str) -> dict[str, Any]:
    """``recipientAccountId`` is the account the event happened in; the caller's own account
    (userIdentity.accountId) differs in cross-account calls and is who.actor.account."""
    # Only text can be an address; anything else would land in domain as junk. A forwarded list
    # ("203.0.113.9, 10.0.0.1") gives its first public address; the rest are kept in forwarded.
    account = record.get("recipientAccountId")
    if type(account) is not str or not account:
        account = _s(account) or _s(ui.get("accountId"))
    region = record.get("awsRegion")
    endpoint = record.get("vpcEndpointId")
    return {
        "provider": "aws",
        "account": account,
        "org": org_from_location(location) if "AWSLogs/o-" in location else None,
        "region": region if type(region) is str and region else _s(region),
        "source": source_fields(record.get("sourceIPAddress")),
        "vpc_endpoint": _s(endpoint) if endpoint is not None else None,
    }


def org_from_location(location: str) -> str | None:
    """Organization trails write under .../AWSLogs/o-<org id>/<account>/CloudTrail/...; the trail's
    own name is not in a log file's key."""
    return _org_from_path(location.split("#", 1)[0])


@lru_cache(maxsize=1024)
def _org_from_path(path: str) -> str | None:
    start = path.find("AWSLogs/o-")
    if start < 0 or (start > 0 and path[start - 1] != "/"):
        return None
    start += len("AWSLogs/")
    end = path.find("/", start)
    return path[start:end] if end > start else None


# --- how ----------------------------------------------------------------------------------------


_VAGUE_CLIENTS = frozenset({"unknown", "other", "cloud_service"})


def how_from_record(
    record: dict[str, Any], ui: dict[str, Any], who: dict[str, Any], operation: str, sso: bool,
    source: str | None,
) -> dict[str, Any]:
    user_agent = record.get("userAgent")
    if type(user_agent) is not str or not user_agent:
        user_agent = _s(user_agent)
    client = client_from_user_agent(user_agent)
    if who["actor"]["type"] == "cloud_service":
        client = "cloud_service"  # a service principal acting on its own
    elif client in _VAGUE_CLIENTS:
        # Console back ends call with "AWS Internal" or their own agents; the record says where the
        # session came from. Failing that, a service acting for the principal is the client.
        if as_bool(record.get("sessionCredentialFromConsole")):
            client = "console"
        elif client == "unknown" and "invoked_by" in who:
            client = "cloud_service"
    tls = record.get("tlsDetails")
    request_id = record.get("requestID")
    shared_id = record.get("sharedEventID")
    return {
        "user_agent": user_agent,
        "client": client,
        "auth": auth_from_record(record, ui, who, operation, sso, source),
        "tls": {"version": _s(tls.get("tlsVersion")), "cipher": _s(tls.get("cipherSuite"))}
        if type(tls) is dict and tls
        else None,
        "request_id": request_id if type(request_id) is str and request_id else _s(request_id),
        # The same action seen from several accounts (cross-account calls) shares this id.
        "correlation_id": _s(shared_id) if shared_id is not None else None,
    }


def auth_from_record(
    record: dict[str, Any], ui: dict[str, Any], who: dict[str, Any], operation: str, sso: bool,
    source: str | None,
) -> dict[str, Any] | None:
    """How the caller proved who it is, only where the record says it: the sign-in path of a
    ConsoleLogin, IAM Identity Center, SAML/OIDC federation, or the kind of access key that signed:
    console_password, saml, web_identity, sso, access_key (AKIA…), temporary_credentials (ASIA…)."""
    session = who.get("session")
    mfa = session.get("mfa") if session is not None else None
    kind = ui.get("type")
    method = None
    if operation == "ConsoleLogin":
        extra = _d(record.get("additionalEventData"))
        used = as_bool(extra.get("MFAUsed"))  # "Yes" / "No"
        if used is not None:
            mfa = used
            if session is not None and session.get("mfa") is None:
                session["mfa"] = used
        if "SamlProviderArn" in extra:
            method = "saml"
        elif kind == "IAMUser" or kind == "Root":
            method = "console_password"
    if method is None:
        if sso:
            method = "sso"
        elif kind == "SAMLUser":
            method = "saml"
        elif kind == "WebIdentityUser" or _web_identity_provider(ui) is not None:
            method = "web_identity"
        else:
            key_type = who["actor"].get("credential_type")
            if key_type == "long_lived":
                method = "access_key"
            elif key_type == "temporary" and who["actor"].get("credential_id") is not None:
                method = "temporary_credentials"
    signin = _signin_auth(record, operation, mfa) if source == "signin.amazonaws.com" else None
    if signin is not None:
        mfa = signin.pop("mfa", mfa)
        if method is None and operation in _SIGNIN_APPS:
            method = "sso" if kind == "IdentityCenterUser" else None
    if method is None and mfa is None and not signin:
        return None
    return {"method": method, "mfa": mfa, **(signin or {})}


# Sign-in events (eventSource signin.amazonaws.com): what each says about the sign-in (issue 15).
# operation -> the application signed in to; CheckMfa and Identity Center credential steps are MFA.
_SIGNIN_APPS = {
    "ConsoleLogin": "AWS Management Console", "CheckMfa": "AWS Management Console",
    "UserAuthentication": "IAM Identity Center", "CredentialChallenge": "IAM Identity Center",
    "CredentialVerification": "IAM Identity Center", "Authenticate": "IAM Identity Center",
    "Federate": "IAM Identity Center",
}
_FIRST_FACTOR_CREDENTIALS = frozenset({"PASSWORD", "EXTERNAL_IDP"})


def _signin_auth(record: dict[str, Any], operation: str, mfa: bool | None) -> dict[str, Any]:
    extra = _d(record.get("additionalEventData"))
    response = _d(record.get("responseElements"))
    details = _d(record.get("serviceEventDetails"))
    said = response.get(operation, details.get(operation))
    failed = record.get("errorCode") is not None or record.get("errorMessage") is not None or said == "Failure"
    out: dict[str, Any] = {"interactive": True, "app_name": _SIGNIN_APPS.get(operation)}
    ua = record.get("userAgent")
    if type(ua) is str and ua.lower().startswith("mozilla/"):
        out["client_app"] = "browser"
    if failed:
        out["failure_reason"] = _s(record.get("errorMessage")) or _s(record.get("errorCode")) or "Failure"
    second = _s(extra.get("MfaType")) if operation == "CheckMfa" else None
    cred = _s(extra.get("CredentialType"))
    if second is None and cred is not None and cred.upper() not in _FIRST_FACTOR_CREDENTIALS:
        second = cred
    if second is not None:
        out["mfa_method"] = second
        out["mfa"] = not failed
    elif mfa is not None:
        out["mfa"] = mfa
    return out


def _web_identity_provider(ui: dict[str, Any]) -> str | None:
    # Role sessions from AssumeRoleWithWebIdentity name their OIDC provider here; otherwise it is {}.
    context = ui.get("sessionContext")
    if type(context) is not dict or "webIdFederationData" not in context:
        return None
    return _s(_d(context["webIdFederationData"]).get("federatedProvider"))
