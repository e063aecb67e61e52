"""The GCP loaders against a local stand-in, started by this module on 127.0.0.1 with port 0, of
Cloud Resource Manager v3 ``projects.search`` (``GET /v3/projects:search?query=...&pageToken=...`` ->
``{"projects": [...], "nextPageToken"}``) and of the Admin SDK Directory API (``GET
/admin/directory/v1/users?customer=...&pageToken=...`` -> ``{"users": [...], "nextPageToken"}``, group
members). Errors use Google's ``{"error": {"code", "message", "status"}}``. Neither API has an emulator."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from enrichers.loaders import gcp
from enrichers.loaders.aws import LoaderError
from enrichers.resources import Inventory
from pipelines.cli import main

PROJECTS = [
    {"name": "projects/415104041262", "parent": "folders/111", "projectId": "acme-prod", "state": "ACTIVE",
     "displayName": "Acme Production", "labels": {"env": "production", "team": "payments", "criticality": "high",
                                                  "data-classification": "restricted"}},
    {"name": "projects/215104041263", "parent": "folders/222", "projectId": "acme-dev", "state": "ACTIVE",
     "displayName": "Acme Dev", "labels": {"environment": "dev", "owner": "platform"}},
    {"name": "projects/315104041264", "parent": "folders/111", "projectId": "acme-old", "state": "DELETE_REQUESTED",
     "displayName": "Old", "labels": {}},
    {"name": "projects/515104041265", "parent": "folders/111", "projectId": "acme-lab", "state": "ACTIVE",
     "displayName": "Lab", "labels": {"env": "mars"}},
]


WORKSPACE_USERS = [
    {"kind": "admin#directory#user", "id": "104893245119850000001", "primaryEmail": "dana@acme.example",
     "name": {"givenName": "Dana", "familyName": "Ops", "fullName": "Dana Ops"}, "isAdmin": True,
     "isDelegatedAdmin": False, "suspended": False, "archived": False,
     "emails": [{"address": "dana@acme.example", "primary": True}, {"address": "dana.ops@acme.example"}],
     "aliases": ["d.ops@acme.example"],
     "organizations": [{"title": "SRE", "primary": True, "department": "Platform", "customType": ""}],
     "relations": [{"value": "Boss@acme.example", "type": "manager"}]},
    {"kind": "admin#directory#user", "id": "104893245119850000002", "primaryEmail": "li@acme.example",
     "name": {"fullName": "Li Wei"}, "isAdmin": False, "isDelegatedAdmin": False, "suspended": True,
     "emails": [{"address": "li@acme.example", "primary": True}]},
]


class _ResourceManager(BaseHTTPRequestHandler):
    page_size: ClassVar[int] = 2
    deny: ClassVar[bool] = False
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_GET(self) -> None:
        url = urlparse(self.path)
        q = parse_qs(url.query)
        type(self).requests.append({"path": url.path, "query": q, "auth": self.headers.get("Authorization")})
        if url.path.startswith("/admin/directory/v1/"):
            return self._directory(url.path, q)
        if url.path != "/v3/projects:search":
            return self._send(404, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}})
        if type(self).deny:
            return self._send(403, {"error": {"code": 403, "status": "PERMISSION_DENIED", "message":
                                              "The caller does not have permission"}})
        found = PROJECTS
        query = q.get("query", [""])[0]
        if query.startswith("parent:"):
            found = [p for p in found if p["parent"] == query.split(":", 1)[1]]
        start = int(q.get("pageToken", ["0"])[0])
        body: dict[str, Any] = {"projects": found[start:start + self.page_size]}
        if start + self.page_size < len(found):
            body["nextPageToken"] = str(start + self.page_size)
        self._send(200, body)

    def _directory(self, path: str, q: dict[str, list[str]]) -> None:
        if path == "/admin/directory/v1/groups/gcp-admins@acme.example/members":
            return self._send(200, {"kind": "admin#directory#members",
                                    "members": [{"kind": "admin#directory#member", "email": "LI@acme.example",
                                                 "role": "MEMBER", "type": "USER"}]})
        if path != "/admin/directory/v1/users" or q.get("customer") != ["my_customer"]:
            return self._send(404, {"error": {"code": 404, "message": "Resource Not Found", "status": "NOT_FOUND"}})
        if type(self).deny:
            return self._send(403, {"error": {"code": 403, "message": "Not Authorized to access this resource/api",
                                              "errors": [{"reason": "forbidden"}]}})
        token = q.get("pageToken", [""])[0]
        page = WORKSPACE_USERS[1:] if token == "p2" else WORKSPACE_USERS[:1]
        body: dict[str, Any] = {"kind": "admin#directory#users", "users": page}
        if not token:
            body["nextPageToken"] = "p2"
        return self._send(200, body)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def resource_manager() -> Iterator[str]:
    _ResourceManager.requests = []
    _ResourceManager.deny = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ResourceManager)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_projects_become_inventory_entries(resource_manager: str) -> None:
    warnings: list[str] = []
    rows = {r["id"]: r for r in gcp.projects_accounts(gcp.projects_client(resource_manager), warn=warnings.append)}
    assert sorted(rows) == ["acme-dev", "acme-lab", "acme-prod"]  # pending deletion left out
    assert rows["acme-prod"] == {"id": "acme-prod", "provider": "gcp", "kind": "project", "name": "Acme Production",
                                 "aliases": ["415104041262"], "environment": "prod", "owner": "payments",
                                 "criticality": "high", "data_classification": "restricted"}
    assert "environment" not in rows["acme-lab"] and warnings == [
        "project acme-lab: environment tag 'mars' is not one of "
        "['dev', 'prod', 'sandbox', 'staging', 'test']: left out"]
    pages = [r for r in _ResourceManager.requests if r["path"] == "/v3/projects:search"]
    assert len(pages) == 2 and pages[1]["query"]["pageToken"] == ["2"]  # paged
    assert all(r["auth"] is None for r in pages)  # plain HTTP: no token is sent


def test_query_and_deleted_projects(resource_manager: str) -> None:
    rows = gcp.projects_accounts(gcp.projects_client(resource_manager), "parent:folders/111", include_deleted=True)
    assert [r["id"] for r in rows] == ["acme-lab", "acme-old", "acme-prod"]


def test_command_merges_into_an_inventory_the_enricher_reads(resource_manager: str, tmp_path: Path) -> None:
    existing = tmp_path / "accounts.yaml"
    existing.write_text(yaml.safe_dump({"accounts": [
        {"id": "111122223333", "provider": "aws", "environment": "prod"},
        {"id": "acme-dev", "criticality": "low", "owner": "someone-else"},
    ]}))
    assert main(["inventory", "gcp-projects", "--endpoint", resource_manager, "--merge", str(existing),
                 "--out", str(existing)]) == 0
    inv = Inventory.from_bytes(existing.read_bytes(), str(existing))
    assert inv.accounts["111122223333"].environment == "prod"
    dev = inv.accounts["acme-dev"]
    assert (dev.environment, dev.owner, dev.criticality) == ("dev", "platform", "low")
    assert inv.accounts["415104041262"].id == "acme-prod"  # the project number finds the project


def test_api_error_is_one_line(resource_manager: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _ResourceManager.deny = True
    with pytest.raises(LoaderError, match=r"^cloudresourcemanager projects.search: FORBIDDEN: .*does not have"):
        gcp.projects_accounts(gcp.projects_client(resource_manager))
    assert main(["inventory", "gcp-projects", "--endpoint", resource_manager, "--out", str(tmp_path / "a.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cloudaudit: error: cloudresourcemanager projects.search:") and err.count("\n") == 1
    assert not (tmp_path / "a.yaml").exists()


def test_workspace_users_become_directory_entries(resource_manager: str, tmp_path: Path) -> None:
    api = gcp.DirectoryApi(resource_manager)
    rows = {r["id"]: r for r in gcp.workspace_people(api, privileged_groups=["gcp-admins@acme.example"])}
    assert rows["dana@acme.example"] == {
        "id": "dana@acme.example", "kind": "person", "name": "Dana Ops", "email": "dana@acme.example",
        "department": "Platform", "manager": "boss@acme.example", "status": "active", "privileged": True,
        "gcp_principals": ["dana@acme.example", "dana.ops@acme.example", "d.ops@acme.example"],
        "identifiers": ["104893245119850000001"]}
    li = rows["li@acme.example"]
    assert (li["status"], li["privileged"]) == ("suspended", True)  # via the group, e-mail case ignored
    assert [r["query"].get("pageToken") for r in _ResourceManager.requests if r["path"].endswith("/users")] == [
        None, ["p2"]]

    out = tmp_path / "people.yaml"
    assert main(["directory", "gcp-workspace", "--endpoint", resource_manager, "--no-admins-privileged",
                 "--out", str(out)]) == 0
    from datetime import UTC, datetime

    from enrichers.identity import Directory
    from schemas.event import Event

    directory = Directory.from_bytes(out.read_bytes(), str(out))
    event = Event(id="e" * 32, when={"time": datetime(2026, 3, 2, tzinfo=UTC)},
                  who={"actor": {"type": "human", "id": "user:d.ops@acme.example", "email": "d.ops@acme.example"}},
                  what={"action": "iamcredentials:GenerateAccessToken", "operation": "GenerateAccessToken"},
                  where={"provider": "gcp"}, source={"format": "gcp.audit"})
    person, _key, _origin = directory.match(event.model_dump())
    assert (person.id, person.privileged) == ("dana@acme.example", None)  # not asked: unknown


def test_workspace_error_is_one_line(resource_manager: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    _ResourceManager.deny = True
    assert main(["directory", "gcp-workspace", "--endpoint", resource_manager, "--out", str(tmp_path / "p.yaml")]) == 2
    assert capsys.readouterr().err == (
        "cloudaudit: error: admin directory GET /admin/directory/v1/users: HTTP 403: "
        "Not Authorized to access this resource/api\n")
