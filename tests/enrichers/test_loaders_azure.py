"""The Azure loaders against a local stand-in of Microsoft Graph v1.0 (``/users`` with ``$expand=manager``,
``/directoryRoles/{id}/members``, ``/groups?$filter=displayName eq '...'``, ``/groups/{id}/transitiveMembers``,
paged by ``@odata.nextLink``) and of ARM ``GET /subscriptions`` (paged by ``nextLink``), started by this
module on 127.0.0.1, port 0. Errors use the APIs' ``{"error": {"code", "message"}}`` shape."""

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

from enrichers.identity import Directory
from enrichers.loaders import azure
from enrichers.loaders.aws import LoaderError
from enrichers.resources import Inventory
from pipelines.cli import main

DANA = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
BOSS = "11111111-2222-4333-8444-555555555555"
GUEST = "99999999-8888-4777-8666-555555555555"
USERS = [
    {"id": DANA, "userPrincipalName": "dana@acme.example", "mail": "Dana.Ops@acme.example", "otherMails": [],
     "displayName": "Dana Ops", "department": "Platform", "accountEnabled": True,
     "manager": {"@odata.type": "#microsoft.graph.user", "id": BOSS, "userPrincipalName": "boss@acme.example",
                 "mail": "boss@acme.example"}},
    {"id": BOSS, "userPrincipalName": "boss@acme.example", "mail": "boss@acme.example", "displayName": "The Boss",
     "department": "Engineering", "accountEnabled": True},
    {"id": GUEST, "userPrincipalName": "vendor_partner.example#EXT#@acme.onmicrosoft.com", "mail": None,
     "otherMails": ["vendor@partner.example"], "displayName": "Vendor", "accountEnabled": False},
]
SUBSCRIPTIONS = [
    {"id": "/subscriptions/5F1C2D3E-4A5B-4C6D-8E7F-9A0B1C2D3E4F", "subscriptionId": "5F1C2D3E-4A5B-4C6D-8E7F-9A0B1C2D3E4F",
     "tenantId": "b3f4c2a1-7d2e-4f6a-9c1b-2e8d5a7f0c11", "displayName": "acme-platform-prod", "state": "Enabled",
     "tags": {"Environment": "Prod", "Owner": "platform", "Criticality": "Critical"}},
    {"id": "/subscriptions/6a6a6a6a-0000-4000-8000-000000000006", "subscriptionId": "6a6a6a6a-0000-4000-8000-000000000006",
     "tenantId": "b3f4c2a1-7d2e-4f6a-9c1b-2e8d5a7f0c11", "displayName": "acme-sandbox", "state": "Enabled",
     "tags": {"env": "Sandbox"}},
]


class _Azure(BaseHTTPRequestHandler):
    deny: ClassVar[bool] = False
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_GET(self) -> None:
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        type(self).requests.append({"path": url.path, "query": q, "auth": self.headers.get("Authorization")})
        base = f"http://127.0.0.1:{self.server.server_port}"
        if type(self).deny:
            return self._send(403, {"error": {"code": "Authorization_RequestDenied",
                                              "message": "Insufficient privileges to complete the operation."}})
        if url.path == "/v1.0/users":
            assert q["$expand"].startswith("manager(")
            skip = int(q.get("$skiptoken", "0"))
            users = [{k: v for k, v in u.items() if k in q["$select"].split(",") or k == "manager"} for u in USERS]
            body: dict[str, Any] = {"value": users[skip:skip + 2]}
            if skip + 2 < len(users):
                body["@odata.nextLink"] = f"{base}/v1.0/users?$select={q['$select']}&$expand={q['$expand']}&$skiptoken=2"
            return self._send(200, body)
        if url.path == "/v1.0/directoryRoles":
            return self._send(200, {"value": [{"id": "role-ga", "displayName": "Global Administrator"},
                                              {"id": "role-reader", "displayName": "Directory Readers"}]})
        if url.path == "/v1.0/directoryRoles/role-ga/members":
            return self._send(200, {"value": [{"@odata.type": "#microsoft.graph.user", "id": BOSS}]})
        if url.path == "/v1.0/groups":
            name = q["$filter"].split("'")[1]
            found = [{"id": "grp-1", "displayName": name}] if name == "Cloud Admins" else []
            return self._send(200, {"value": found})
        if url.path == "/v1.0/groups/grp-1/transitiveMembers":
            return self._send(200, {"value": [{"@odata.type": "#microsoft.graph.user", "id": DANA}]})
        if url.path == "/subscriptions":
            assert q["api-version"] == azure.ARM_API_VERSION
            if "$skiptoken" in q:
                return self._send(200, {"value": SUBSCRIPTIONS[1:]})
            return self._send(200, {"value": SUBSCRIPTIONS[:1],
                                    "nextLink": f"{base}/subscriptions?api-version={azure.ARM_API_VERSION}&$skiptoken=1"})
        self._send(404, {"error": {"code": "NotFound", "message": f"no route {url.path}"}})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def azure_api() -> Iterator[str]:
    _Azure.requests = []
    _Azure.deny = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Azure)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _graph(endpoint: str) -> azure.RestClient:
    return azure.RestClient(endpoint, "https://graph.microsoft.com/.default", "graph")


def test_entra_users_become_directory_entries(azure_api: str) -> None:
    rows = {r["id"]: r for r in azure.entra_people(_graph(azure_api), privileged_roles=["global administrator"],
                                                   privileged_groups=["Cloud Admins"])}
    assert sorted(rows) == ["boss@acme.example", "dana.ops@acme.example", "vendor_partner.example#ext#@acme.onmicrosoft.com"]
    dana = rows["dana.ops@acme.example"]
    assert dana == {"id": "dana.ops@acme.example", "kind": "person", "name": "Dana Ops", "email": "Dana.Ops@acme.example",
                    "department": "Platform", "manager": "boss@acme.example", "status": "active", "privileged": True,
                    "azure_object_ids": [DANA], "azure_upns": ["dana@acme.example"], "emails": ["Dana.Ops@acme.example"]}
    assert rows["boss@acme.example"]["privileged"] is True  # Global Administrator
    guest = rows["vendor_partner.example#ext#@acme.onmicrosoft.com"]
    assert (guest["status"], guest["privileged"], guest["email"]) == ("disabled", False, None)
    assert guest["emails"] == ["vendor@partner.example"]
    users_pages = [r for r in _Azure.requests if r["path"] == "/v1.0/users"]
    assert len(users_pages) == 2  # followed @odata.nextLink
    assert all(r["auth"] is None for r in _Azure.requests)  # plain HTTP: no bearer token


def test_entra_command_output_matches_an_activity_log_caller(azure_api: str, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from schemas.event import Event

    out = tmp_path / "people.yaml"
    assert main(["directory", "azure-entra", "--endpoint", azure_api, "--out", str(out)]) == 0
    directory = Directory.from_bytes(out.read_bytes(), str(out))
    event = Event(id="e" * 32, when={"time": datetime(2026, 3, 2, tzinfo=UTC)},
                  who={"actor": {"type": "human", "id": DANA, "name": "dana@acme.example"}},
                  what={"action": "microsoft.authorization:roleassignments/write", "operation": "x"},
                  where={"provider": "azure"}, source={"format": "azure.activity"})
    person, _key, _origin = directory.match(event.model_dump())
    assert (person.id, person.department, person.manager) == ("dana.ops@acme.example", "Platform", "boss@acme.example")


def test_unknown_group_is_a_clear_error(azure_api: str) -> None:
    with pytest.raises(LoaderError, match="azure-entra: no group named 'Nobody'"):
        azure.entra_people(_graph(azure_api), privileged_groups=["Nobody"])


def test_subscriptions_become_inventory_entries(azure_api: str, tmp_path: Path) -> None:
    existing = tmp_path / "accounts.yaml"
    existing.write_text(yaml.safe_dump({"accounts": [{"id": "acme-prod", "provider": "gcp", "environment": "prod"}]}))
    assert main(["inventory", "azure-subscriptions", "--endpoint", azure_api, "--merge", str(existing),
                 "--out", str(existing)]) == 0
    inv = Inventory.from_bytes(existing.read_bytes(), str(existing))
    prod = inv.accounts["5f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"]
    assert (prod.kind, prod.name, prod.environment, prod.owner, prod.criticality) == (
        "subscription", "acme-platform-prod", "prod", "platform", "critical")
    assert inv.accounts["6a6a6a6a-0000-4000-8000-000000000006"].environment == "sandbox"
    assert inv.accounts["acme-prod"].environment == "prod"


def test_api_error_is_one_line_without_the_query(azure_api: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    _Azure.deny = True
    assert main(["directory", "azure-entra", "--endpoint", azure_api, "--out", str(tmp_path / "p.yaml")]) == 2
    err = capsys.readouterr().err
    assert err == ("cloudaudit: error: graph GET /v1.0/users: HTTP 403 Authorization_RequestDenied: "
                   "Insufficient privileges to complete the operation.\n")
