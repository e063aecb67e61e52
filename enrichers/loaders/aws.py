"""Reference data from AWS itself: the people of IAM Identity Center and the accounts of Organizations.

* ``identity_center_people``: every user of an IAM Identity Center identity store (``identitystore``
  ListUsers, paged) as a directory entry: the Identity Center user name (what ``AWSReservedSSO_*`` role
  sessions and Identity Center sign-ins carry), the user id and the e-mails as identifiers; name, status
  and, when the identity source fills the enterprise extension, department and manager. Group
  memberships (ListGroups + ListGroupMemberships, paged) say who is privileged (``--privileged-group``)
  and, optionally, the department (``--department-group-prefix``).
* ``organizations_accounts``: every account of the organization (``organizations`` ListAccounts, paged)
  as an inventory entry, with environment, owner, criticality and data classification read from the
  account's tags (ListTagsForResource, paged).

Both are plain functions over a boto3 client (tested against moto in server mode); the commands in
``enrichers.loaders`` wire them to the command line. Credentials come from the default chain;
``AWS_ENDPOINT_URL`` (or ``--endpoint``) points them at a local stand-in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from enrichers._files import ReferenceDataError
from enrichers.loaders.tags import context_from_tags, default_warn

ENTERPRISE_EXTENSION = "aws:identitystore:enterprise"
ID_SOURCES = ("email", "username", "user-id")


class LoaderError(ReferenceDataError):
    """The cloud refused or could not be reached: one line, exit status 2, no credentials in it."""


# --- IAM Identity Center ---------------------------------------------------------------------------


def identity_center_people(
    client: Any,
    identity_store_id: str,
    *,
    privileged_groups: Iterable[str] = (),
    department_group_prefix: str | None = None,
    id_from: str = "email",
    page_size: int | None = None,
) -> list[dict[str, Any]]:
    """Directory entries (``enrichers.identity`` format) for every user of the identity store."""
    if id_from not in ID_SOURCES:
        raise ValueError(f"id_from must be one of {ID_SOURCES}")
    users = list(_pages(client, "list_users", "Users", page_size, IdentityStoreId=identity_store_id,
                        Extensions=[ENTERPRISE_EXTENSION]))
    wanted = {g.lower() for g in privileged_groups}
    groups = {g["GroupId"]: g.get("DisplayName") or g["GroupId"]
              for g in _pages(client, "list_groups", "Groups", page_size, IdentityStoreId=identity_store_id)}
    missing = wanted - {name.lower() for name in groups.values()}
    if missing:
        raise LoaderError(f"aws-identity-center: no group named {', '.join(sorted(missing))} in {identity_store_id}")
    privileged: set[str] = set()
    departments: dict[str, str] = {}
    for gid, name in sorted(groups.items(), key=lambda kv: kv[1].lower()):
        is_priv = name.lower() in wanted
        dept = None
        if department_group_prefix and name.startswith(department_group_prefix):
            dept = name[len(department_group_prefix):] or None
        if not is_priv and not dept:
            continue  # only the groups that say something cost API calls
        for m in _pages(client, "list_group_memberships", "GroupMemberships", page_size,
                        IdentityStoreId=identity_store_id, GroupId=gid):
            uid = (m.get("MemberId") or {}).get("UserId")
            if uid is None:
                continue
            if is_priv:
                privileged.add(uid)
            if dept:
                departments.setdefault(uid, dept)
    ids = {u["UserId"]: _person_id(u, id_from) for u in users}
    rows = [
        person_from_user(u, ids, privileged if wanted else None, departments.get(u["UserId"]), id_from)
        for u in users
    ]
    return sorted(rows, key=lambda r: r["id"])


def person_from_user(
    user: dict[str, Any], ids: dict[str, str], privileged: set[str] | None, group_department: str | None,
    id_from: str = "email",
) -> dict[str, Any]:
    """One identity store ``User`` as a directory entry; ``ids`` maps user ids to directory ids, so that a
    manager given by user id becomes the manager's directory id."""
    uid = user["UserId"]
    emails = [e["Value"] for e in user.get("Emails") or [] if isinstance(e, dict) and e.get("Value")]
    ext = (user.get("Extensions") or {}).get(ENTERPRISE_EXTENSION) or {}
    if not isinstance(ext, dict):
        ext = {}
    manager = ext.get("manager")
    if isinstance(manager, dict):
        manager = manager.get("value") or manager.get("displayName")
    if isinstance(manager, str):
        manager = ids.get(manager, manager)
    status = {"ENABLED": "active", "DISABLED": "disabled"}.get(str(user.get("UserStatus") or "").upper())
    department = ext.get("department")
    return {
        "id": ids.get(uid) or _person_id(user, id_from),
        "kind": "person",
        "name": user.get("DisplayName") or _formatted_name(user.get("Name")),
        "email": _primary_email(user),
        "department": department if isinstance(department, str) and department else group_department,
        "manager": manager if isinstance(manager, str) else None,
        "status": status,
        "privileged": (uid in privileged) if privileged is not None else None,
        "aws_sso_users": [user["UserName"]] if user.get("UserName") else [],
        "emails": emails,
        "identifiers": [uid],
    }


def _person_id(user: dict[str, Any], id_from: str) -> str:
    if id_from == "email":
        email = _primary_email(user)
        if email:
            return email.lower()
    if id_from in ("email", "username") and user.get("UserName"):
        return str(user["UserName"]).lower()
    return str(user["UserId"])


def _primary_email(user: dict[str, Any]) -> str | None:
    emails = [e for e in user.get("Emails") or [] if isinstance(e, dict) and e.get("Value")]
    for e in emails:
        if e.get("Primary"):
            return str(e["Value"])
    return str(emails[0]["Value"]) if emails else None


def _formatted_name(name: Any) -> str | None:
    if not isinstance(name, dict):
        return None
    if name.get("Formatted"):
        return str(name["Formatted"])
    parts = [name.get("GivenName"), name.get("FamilyName")]
    return " ".join(p for p in parts if p) or None


def find_identity_store(sso_admin: Any) -> str:
    """The identity store of the account's one IAM Identity Center instance (sso-admin ListInstances)."""
    stores = [i["IdentityStoreId"] for i in _pages(sso_admin, "list_instances", "Instances", None)
              if i.get("IdentityStoreId")]
    if len(stores) != 1:
        found = "none" if not stores else ", ".join(stores)
        raise LoaderError(f"aws-identity-center: give --identity-store-id (IAM Identity Center instances found: {found})")
    return stores[0]


# --- Organizations -------------------------------------------------------------------------------


def organizations_accounts(
    client: Any, tag_keys: dict[str, tuple[str, ...]] | None = None,
    warn: Callable[[str], None] | None = None, page_size: int | None = None,
) -> list[dict[str, Any]]:
    """Inventory entries (``enrichers.resources`` format) for every account of the organization, with
    environment/owner/criticality/data classification from the account's tags (``enrichers.loaders.tags``)."""
    rows = []
    for acct in _pages(client, "list_accounts", "Accounts", page_size):
        aid = acct["Id"]
        tags = {t["Key"]: t.get("Value")
                for t in _pages(client, "list_tags_for_resource", "Tags", None, ResourceId=aid)}
        row: dict[str, Any] = {"id": aid, "provider": "aws", "kind": "account", "name": acct.get("Name")}
        row.update(context_from_tags(tags, f"account {aid}", tag_keys, warn or default_warn))
        rows.append(row)
    return sorted(rows, key=lambda r: r["id"])


# --- paging and errors -----------------------------------------------------------------------------


def _pages(client: Any, op: str, key: str, page_size: int | None, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a paged list operation, with AWS errors turned into one-line LoaderErrors."""
    from botocore.exceptions import BotoCoreError, ClientError

    service = client.meta.service_model.service_name
    if page_size:
        kwargs["PaginationConfig"] = {"PageSize": page_size}
    try:
        for page in client.get_paginator(op).paginate(**kwargs):
            yield from page.get(key) or []
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise LoaderError(
            f"{service} {op}: {err.get('Code', 'error')}: {' '.join(str(err.get('Message', '')).split())}"
        ) from None
    except BotoCoreError as exc:
        raise LoaderError(f"{service} {op}: {' '.join(str(exc).split())}") from None


def client(service: str, region: str | None = None, endpoint: str | None = None) -> Any:
    """A boto3 client from the default credential chain (``AWS_ENDPOINT_URL`` is honoured by boto3).
    Organizations is a global service: without a configured region it is reached through us-east-1."""
    import boto3

    try:
        session = boto3.session.Session()
        if region is None and service == "organizations" and session.region_name is None:
            region = "us-east-1"
        return session.client(service, region_name=region, endpoint_url=endpoint)
    except Exception as exc:  # NoRegionError for a regional service, a bad endpoint URL: one line
        raise LoaderError(f"{service}: {' '.join(str(exc).split())} (give --region)") from None
