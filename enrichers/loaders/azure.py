"""Reference data from Azure: the users of Entra ID (Microsoft Graph) and the subscriptions (ARM).

* ``entra_people``: every user (``GET /v1.0/users`` with ``$select`` and ``$expand=manager``, paged by
  ``@odata.nextLink``) as a directory entry: object id and user principal name as identifiers (what
  Azure Activity Log callers carry), e-mails, name, department, manager, status (``accountEnabled``);
  members of the given directory roles (``/directoryRoles/{id}/members``) or groups
  (``/groups/{id}/transitiveMembers``) are privileged.
* ``subscriptions_accounts``: every subscription the identity can see (``GET /subscriptions``, paged by
  ``nextLink``) as an inventory entry, context from its tags (``enrichers.loaders.tags``).

HTTP goes through azure-core's pipeline (retries, user agent) with a bearer token from
``DefaultAzureCredential``; a plain-HTTP ``--endpoint`` (a local stand-in) is sent no token: azure-core
refuses bearer tokens over plain HTTP, and so do we.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote

from enrichers.loaders.aws import LoaderError
from enrichers.loaders.tags import context_from_tags, default_warn

ARM = "https://management.azure.com"
GRAPH = "https://graph.microsoft.com"
ARM_API_VERSION = "2022-12-01"
USER_FIELDS = "id,userPrincipalName,mail,otherMails,displayName,department,accountEnabled,userType,jobTitle"
ID_SOURCES = ("email", "upn", "object-id")


class RestClient:
    """GET-only JSON client for one Azure API (ARM or Graph), with paging and one-line errors."""

    def __init__(self, base_url: str, scope: str, what: str) -> None:
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import HeadersPolicy, RetryPolicy, UserAgentPolicy

        self.base_url = base_url.rstrip("/")
        self.what = what
        policies: list[Any] = [HeadersPolicy({"Accept": "application/json"}), UserAgentPolicy("cloudaudit-loader"),
                               RetryPolicy(retry_total=3, retry_backoff_factor=0.5)]
        if not self.base_url.startswith("http://"):
            from azure.core.pipeline.policies import BearerTokenCredentialPolicy
            from azure.identity import DefaultAzureCredential

            policies.append(BearerTokenCredentialPolicy(DefaultAzureCredential(), scope))
        self._client = PipelineClient(self.base_url, policies=policies)

    def get(self, path_or_url: str) -> dict[str, Any]:
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest

        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        try:
            response = self._client.send_request(HttpRequest("GET", url))
            body = response.json() if response.content else {}
        except AzureError as exc:  # ClientAuthenticationError (no credential), ServiceRequestError, ...
            raise LoaderError(f"{self.what} GET {_path(url)}: {type(exc).__name__}: {_one_line(exc)[:300]}") from None
        except ValueError:
            raise LoaderError(f"{self.what} GET {_path(url)}: HTTP {response.status_code}, not JSON") from None
        if response.status_code >= 400:
            err = body.get("error") if isinstance(body, dict) else None
            err = err if isinstance(err, dict) else {}
            raise LoaderError(f"{self.what} GET {_path(url)}: HTTP {response.status_code} "
                              f"{err.get('code', '')}: {_one_line(err.get('message', ''))}")
        return body if isinstance(body, dict) else {}

    def pages(self, path: str, next_key: str) -> Iterator[dict[str, Any]]:
        url: str | None = path
        seen: set[str] = set()
        while url:
            if url in seen:  # a server that hands back the same link would loop forever
                raise LoaderError(f"{self.what} GET {_path(url)}: the next page link repeats")
            seen.add(url)
            body = self.get(url)
            yield from (v for v in body.get("value") or [] if isinstance(v, dict))
            url = body.get(next_key)


# --- Entra ID users ----------------------------------------------------------------------------------


def entra_people(
    graph: RestClient, *, privileged_roles: Iterable[str] = (), privileged_groups: Iterable[str] = (),
    id_from: str = "email",
) -> list[dict[str, Any]]:
    """Directory entries (``enrichers.identity`` format) for every Entra ID user."""
    if id_from not in ID_SOURCES:
        raise ValueError(f"id_from must be one of {ID_SOURCES}")
    users = list(graph.pages(f"/v1.0/users?$select={USER_FIELDS}"
                             "&$expand=manager($select=id,userPrincipalName,mail)", "@odata.nextLink"))
    privileged = _members_of_roles(graph, list(privileged_roles)) | _members_of_groups(graph, list(privileged_groups))
    ask = bool(list(privileged_roles) or list(privileged_groups))
    ids = {u["id"]: _person_id(u, id_from) for u in users if u.get("id")}
    rows = []
    for u in users:
        if not u.get("id"):
            continue
        manager = u.get("manager") if isinstance(u.get("manager"), dict) else {}
        manager_id = ids.get(manager.get("id", "")) or (manager.get("mail") or manager.get("userPrincipalName"))
        upn = u.get("userPrincipalName")
        emails = [e for e in [u.get("mail"), *(u.get("otherMails") or [])] if isinstance(e, str) and e]
        enabled = u.get("accountEnabled")
        rows.append({
            "id": ids[u["id"]],
            "kind": "person",
            "name": u.get("displayName"),
            "email": u.get("mail") or (upn if upn and "#EXT#" not in upn else None),
            "department": u.get("department"),
            "manager": manager_id.lower() if isinstance(manager_id, str) and "@" in manager_id else manager_id,
            "status": None if enabled is None else ("active" if enabled else "disabled"),
            "privileged": (u["id"] in privileged) if ask else None,
            "azure_object_ids": [u["id"]],
            "azure_upns": [upn] if upn else [],
            "emails": list(dict.fromkeys(emails)),
        })
    return sorted(rows, key=lambda r: r["id"])


def _person_id(user: dict[str, Any], id_from: str) -> str:
    upn = user.get("userPrincipalName")
    if id_from == "email":
        email = user.get("mail") or (upn if upn and "#EXT#" not in upn else None)
        if email:
            return str(email).lower()
    if id_from in ("email", "upn") and upn:
        return str(upn).lower()
    return str(user["id"])


def _members_of_roles(graph: RestClient, names: list[str]) -> set[str]:
    if not names:
        return set()
    roles = {str(r.get("displayName", "")).lower(): r["id"]
             for r in graph.pages("/v1.0/directoryRoles", "@odata.nextLink") if r.get("id")}
    out: set[str] = set()
    for name in names:
        rid = roles.get(name.lower())
        if rid is None:  # a role nobody holds is not activated in the tenant: no members, not an error
            continue
        out.update(m["id"] for m in graph.pages(f"/v1.0/directoryRoles/{rid}/members?$select=id", "@odata.nextLink")
                   if m.get("id"))
    return out


def _members_of_groups(graph: RestClient, names: list[str]) -> set[str]:
    out: set[str] = set()
    for name in names:
        flt = quote(f"displayName eq '{name.replace(chr(39), chr(39) * 2)}'", safe="")
        groups = [g for g in graph.pages(f"/v1.0/groups?$filter={flt}&$select=id,displayName", "@odata.nextLink")
                  if g.get("id")]
        if not groups:
            raise LoaderError(f"azure-entra: no group named {name!r}")
        for g in groups:
            out.update(m["id"] for m in graph.pages(f"/v1.0/groups/{g['id']}/transitiveMembers?$select=id",
                                                    "@odata.nextLink") if m.get("id"))
    return out


# --- subscriptions ---------------------------------------------------------------------------------


def subscriptions_accounts(
    arm: RestClient, tag_keys: dict[str, tuple[str, ...]] | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Inventory entries for every subscription the identity can see."""
    rows = []
    for s in arm.pages(f"/subscriptions?api-version={ARM_API_VERSION}", "nextLink"):
        sid = s.get("subscriptionId")
        if not sid:
            continue
        row: dict[str, Any] = {"id": str(sid).lower(), "provider": "azure", "kind": "subscription",
                               "name": s.get("displayName")}
        tags = s.get("tags") if isinstance(s.get("tags"), dict) else {}
        row.update(context_from_tags(tags, f"subscription {sid}", tag_keys, warn or default_warn))
        rows.append(row)
    return sorted(rows, key=lambda r: r["id"])


def _path(url: str) -> str:
    """The URL without scheme and host, and without its query: errors name the API call, not a token."""
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1].split("?", 1)[0] if "/" in rest else rest


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())
