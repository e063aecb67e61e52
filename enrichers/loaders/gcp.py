"""Reference data from GCP: projects with context from their labels, and Workspace/Cloud Identity users.

``projects_accounts`` lists projects through Cloud Resource Manager v3 ``projects.search`` (paged, the
REST transport of ``google-cloud-resource-manager``) and turns each into an inventory entry: the project
id (what GCP audit entries put in ``where.account``), its number as an alias (some log shapes carry the
number), the display name, and environment/owner/criticality/data classification from its labels
(``enrichers.loaders.tags``, the same keys and words as AWS tags).

``workspace_people`` lists the users of Google Workspace / Cloud Identity (Admin SDK Directory API
``users.list``) as directory entries; see its docstring.

Credentials: Application Default Credentials. A plain-HTTP ``--endpoint`` (a local stand-in) gets no
credentials at all: a token is never sent over an unencrypted connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote

from enrichers.loaders.aws import LoaderError
from enrichers.loaders.tags import context_from_tags, default_warn

_STATES = {1: "ACTIVE", 2: "DELETE_REQUESTED"}


def projects_client(endpoint: str | None = None) -> Any:
    """A ProjectsClient on the REST transport; anonymous only for a plain-HTTP endpoint."""
    try:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import resourcemanager_v3
    except ImportError as exc:  # pragma: no cover - comes with apache-beam[gcp]
        raise LoaderError(f"gcp-projects needs google-cloud-resource-manager: {exc}") from None
    options = ClientOptions(api_endpoint=endpoint) if endpoint else None
    credentials = AnonymousCredentials() if endpoint and endpoint.startswith("http://") else None
    try:
        return resourcemanager_v3.ProjectsClient(transport="rest", credentials=credentials,
                                                 client_options=options)
    except Exception as exc:  # DefaultCredentialsError: no ADC configured
        raise LoaderError(f"cloudresourcemanager: {_one_line(exc)}") from None


def projects_accounts(
    client: Any, query: str = "", tag_keys: dict[str, tuple[str, ...]] | None = None,
    warn: Callable[[str], None] | None = None, include_deleted: bool = False,
) -> list[dict[str, Any]]:
    """Inventory entries for every project ``projects.search`` returns for ``query`` (e.g.
    ``parent:folders/123``; empty = every project the caller may see)."""
    from google.api_core import exceptions as gexc

    rows = []
    try:
        for p in client.search_projects(request={"query": query}):
            state = p.state.name if hasattr(p.state, "name") else _STATES.get(int(p.state), str(p.state))
            if state == "DELETE_REQUESTED" and not include_deleted:
                continue
            number = p.name.split("/", 1)[1] if p.name.startswith("projects/") else None
            row: dict[str, Any] = {
                "id": p.project_id, "provider": "gcp", "kind": "project",
                "name": p.display_name or None, "aliases": [number] if number else [],
            }
            row.update(context_from_tags(dict(p.labels), f"project {p.project_id}", tag_keys, warn or default_warn))
            rows.append(row)
    except gexc.GoogleAPICallError as exc:
        raise LoaderError(f"cloudresourcemanager projects.search: {exc.code.name if exc.code else 'error'}: "
                          f"{_one_line(exc.message)}") from None
    except gexc.GoogleAPIError as exc:  # transport errors, retries exhausted
        raise LoaderError(f"cloudresourcemanager projects.search: {_one_line(exc)}") from None
    except Exception as exc:  # requests' ConnectionError and the like: still one line
        if type(exc).__module__.startswith(("requests", "urllib3", "google")):
            raise LoaderError(f"cloudresourcemanager projects.search: {type(exc).__name__}: "
                              f"{_one_line(exc)[:300]}") from None
        raise
    return sorted(rows, key=lambda r: r["id"])


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())


# --- Google Workspace / Cloud Identity users ----------------------------------------------------------

ADMIN = "https://admin.googleapis.com"
DIRECTORY_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
GROUP_MEMBER_SCOPE = "https://www.googleapis.com/auth/admin.directory.group.member.readonly"


class DirectoryApi:
    """GET-only client of the Admin SDK Directory API with paging and one-line errors. Credentials are
    Application Default Credentials with the read-only directory scopes; ``subject`` makes a service
    account act for a Workspace admin (domain-wide delegation). A plain-HTTP endpoint (a local stand-in)
    gets no credentials."""

    def __init__(self, endpoint: str | None = None, subject: str | None = None) -> None:
        import requests

        self.base = (endpoint or ADMIN).rstrip("/")
        if self.base.startswith("http://"):
            self.session: Any = requests.Session()
            return
        try:
            import google.auth
            from google.auth.transport.requests import AuthorizedSession

            creds, _ = google.auth.default(scopes=[DIRECTORY_SCOPE, GROUP_MEMBER_SCOPE])
            if subject:
                if not hasattr(creds, "with_subject"):
                    raise LoaderError("gcp-workspace: --subject needs service-account credentials")
                creds = creds.with_subject(subject)
        except LoaderError:
            raise
        except Exception as exc:  # DefaultCredentialsError: one line
            raise LoaderError(f"admin directory: {_one_line(exc)}") from None
        self.session = AuthorizedSession(creds)

    def pages(self, path: str, params: dict[str, str], key: str) -> Iterator[dict[str, Any]]:
        import requests

        params = dict(params)
        while True:
            try:
                r = self.session.get(self.base + path, params=params, timeout=60)
                body = r.json() if r.content else {}
            except requests.RequestException as exc:
                raise LoaderError(f"admin directory GET {path}: {type(exc).__name__}: {_one_line(exc)[:300]}") from None
            except ValueError:
                raise LoaderError(f"admin directory GET {path}: HTTP {r.status_code}, not JSON") from None
            if r.status_code >= 400:
                err = body.get("error") if isinstance(body, dict) else None
                err = err if isinstance(err, dict) else {}
                raise LoaderError(f"admin directory GET {path}: HTTP {r.status_code} "
                                  f"{err.get('status') or ''}: {_one_line(err.get('message', ''))}".replace(" :", ":"))
            yield from (v for v in body.get(key) or [] if isinstance(v, dict))
            token = body.get("nextPageToken")
            if not token or token == params.get("pageToken"):
                return
            params["pageToken"] = token


def workspace_people(
    api: DirectoryApi, *, customer: str = "my_customer", privileged_groups: Iterable[str] = (),
    admins_are_privileged: bool = True,
) -> list[dict[str, Any]]:
    """Directory entries for every Google Workspace / Cloud Identity user (``users.list``, paged): the
    primary e-mail and aliases as GCP principals (what ``principalEmail`` carries), name, department
    (primary organization), manager (the ``manager`` relation), status (suspended/archived), and
    privileged = a Workspace super or delegated admin, or a member of one of ``privileged_groups``."""
    members: set[str] = set()
    for group in privileged_groups:
        members.update(str(m.get("email", "")).lower()
                       for m in api.pages(f"/admin/directory/v1/groups/{quote(group, safe='@')}/members",
                                          {"maxResults": "200"}, "members") if m.get("email"))
    rows = []
    for u in api.pages("/admin/directory/v1/users", {"customer": customer, "maxResults": "500",
                                                     "projection": "full", "orderBy": "email"}, "users"):
        primary = u.get("primaryEmail")
        if not isinstance(primary, str) or not primary:
            continue
        emails = [primary, *(e.get("address") for e in u.get("emails") or [] if isinstance(e, dict)),
                  *(u.get("aliases") or [])]
        emails = list(dict.fromkeys(e for e in emails if isinstance(e, str) and e))
        orgs = [o for o in u.get("organizations") or [] if isinstance(o, dict)]
        org = next((o for o in orgs if o.get("primary")), orgs[0] if orgs else {})
        manager = next((r.get("value") for r in u.get("relations") or []
                        if isinstance(r, dict) and r.get("type") == "manager"), None)
        status = "archived" if u.get("archived") else "suspended" if u.get("suspended") else "active"
        ask = admins_are_privileged or bool(list(privileged_groups))
        privileged = (bool(u.get("isAdmin") or u.get("isDelegatedAdmin")) and admins_are_privileged) or (
            primary.lower() in members)
        rows.append({
            "id": primary.lower(),
            "kind": "person",
            "name": (u.get("name") or {}).get("fullName") if isinstance(u.get("name"), dict) else None,
            "email": primary,
            "department": org.get("department"),
            "manager": manager.lower() if isinstance(manager, str) else None,
            "status": status,
            "privileged": privileged if ask else None,
            "gcp_principals": emails,
            "identifiers": [str(u["id"])] if u.get("id") else [],
        })
    return sorted(rows, key=lambda r: r["id"])
