"""Scenario helpers: the common tests of a rule, named the way the scenario says them.

They prefer the structured fields (``what.privilege_changes``) and fall back to the action catalog's risk
tags (enrichers/data/actions.yaml), so a rule keeps working while mappers learn more. Tables here are
data, not branches: extend them rather than adding cases to a rule.
"""

from __future__ import annotations

from typing import Any

from schemas.event import Event

# Roles that amount to administrator, as the sources name them (lower case).
ADMIN_ROLES = frozenset(
    {
        "arn:aws:iam::aws:policy/administratoraccess", "administratoraccess", "arn:aws:iam::aws:policy/iamfullaccess",
        "roles/owner", "roles/editor", "roles/resourcemanager.organizationadmin", "roles/iam.securityadmin",
        "roles/iam.serviceaccounttokencreator",
        "owner", "user access administrator", "contributor", "role based access control administrator",
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        "b24988ac-6180-42a0-ab88-20f7382dd24c", "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    }
)

# Error codes that mean "not allowed", per cloud (compared in lower case).
DENIED_CODES = frozenset(
    {
        "accessdenied", "accessdeniedexception", "unauthorizedoperation", "client.unauthorizedoperation",
        "unauthorizedaccess", "authorizationerror", "forbidden",
        "permission_denied", "7", "403",
        "authorizationfailed", "linkedauthorizationfailed", "authorizationfailedexception",
    }
)

HUMAN_TYPES = frozenset({"human", "root"})


def get(e: Event, path: str) -> Any:
    """A dotted field path of the event (``where.account``, ``who.person.id``); None when absent."""
    obj: Any = e
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def person_key(e: Event) -> str:
    """Who an alert is about: the directory person when known (the same across clouds), else the principal."""
    p = e.who.person
    if p is not None and p.id:
        return p.id
    a = e.who.actor
    return a.id or a.email or a.name or "unknown"


def has_tag(e: Event, *tags: str) -> bool:
    return any(t in e.what.risk_tags for t in tags)


def action_in(e: Event, *actions: str) -> bool:
    """Letter case ignored; a trailing ``*`` matches a prefix."""
    a = e.what.action.lower()
    return any(a.startswith(x[:-1].lower()) if x.endswith("*") else a == x.lower() for x in actions)


def succeeded(e: Event) -> bool:
    return e.what.outcome == "success"


def attempted(e: Event) -> bool:
    """Succeeded, or its outcome is unknown (an attempt is still worth a look when the source cannot say)."""
    return e.what.outcome != "failure"


def denied(e: Event) -> bool:
    """The call failed because the caller was not allowed."""
    if e.what.outcome != "failure":
        return False
    if any(c.granted is False for c in e.what.authorization):
        return True
    code = (e.what.error.code or "") if e.what.error else ""
    return code.lower() in DENIED_CODES


def request_has(e: Event, *needles: str) -> bool:
    """The request parameters (compact JSON text) contain one of ``needles``."""
    r = e.what.request or ""
    return any(n in r for n in needles)


# --- the scenario words --------------------------------------------------------------------------


def grants_admin(e: Event) -> bool:
    """A privilege change that grants admin: an added role/policy from ADMIN_ROLES; without privilege
    changes on the event, the catalog's ``iam.admin_grant`` tag."""
    changes = [c for c in e.what.privilege_changes if c.op in ("add", "replace")]
    if changes:
        return any((c.role or "").lower() in ADMIN_ROLES or (c.role_name or "").lower() in ADMIN_ROLES
                   for c in changes)
    return has_tag(e, "iam.admin_grant")


def grants_privilege(e: Event) -> bool:
    if any(c.op in ("add", "replace") for c in e.what.privilege_changes):
        return True
    return has_tag(e, "iam.privilege_grant", "iam.admin_grant")


def logging_disabled(e: Event) -> bool:
    """Audit logging stopped, deleted, narrowed or excluded."""
    return has_tag(e, "logging.disable", "logging.delete")


def detection_disabled(e: Event) -> bool:
    return has_tag(e, "detection.disable")


def opened_to_internet(e: Event) -> bool:
    """0.0.0.0/0 (or ::/0, *, Internet, allUsers) opened on a firewall, security group or access setting."""
    return has_tag(e, "network.exposure")


def by_human(e: Event) -> bool:
    """A person acting: a human or root principal, or a session the directory resolves to a person."""
    p = e.who.person
    if p is not None and p.kind:
        return p.kind == "person"
    return e.who.actor.type in HUMAN_TYPES


def in_prod_account(e: Event) -> bool:
    ctx = e.where.account_context
    return ctx is not None and ctx.environment == "prod"


def in_critical_account(e: Event) -> bool:
    ctx = e.where.account_context
    return ctx is not None and ctx.criticality == "critical"


def outside_internal_networks(e: Event) -> bool:
    """Called from an address that is not one of ours (a service host name or no address is not 'outside')."""
    src = e.where.source
    return src.ip is not None and src.internal is not True and not src.cloud_service
