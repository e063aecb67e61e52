"""Fixtures for the Azure source tests: a TLS CA, the managed identity endpoint that makes the real
``DefaultAzureCredential`` work offline, the Log Analytics query API stand-in and the Event Hubs server
(with checkpoints in Azurite)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .amqp_server import EventHubServer
from .data import HUB, WORKSPACE, make_id, row_times, template_row
from .servers import IdentityServer, LogAnalyticsServer, Table, TlsFiles, activity_table, make_tls

# Everything DefaultAzureCredential would try before managed identity, or that would point it elsewhere.
_AZURE_ENV = (
    "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST",
    "MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "AZURE_TOKEN_CREDENTIALS",
    "AZURE_STORAGE_CONNECTION_STRING", "AZURE_EVENTHUB_CONNECTION_STRING",
)


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls(tmp_path_factory.mktemp("azure-tls"))


@dataclass(frozen=True)
class Identity:
    server: IdentityServer
    header: str  # the IDENTITY_HEADER secret
    token: str  # the access token it issues

    @property
    def requests(self) -> list[str]:
        return self.server.requests


@pytest.fixture
def azure_identity(tls: TlsFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Identity]:
    """The App Service managed identity protocol on 127.0.0.1, with made-up secrets; the clients trust
    the test CA. DefaultAzureCredential, unchanged, gets its tokens here."""
    header = "idh-" + secrets.token_hex(12)
    token = "tok-" + secrets.token_hex(16)
    server = IdentityServer(header, token)
    for name in _AZURE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", server.endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", header)
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path / "az"))  # no Azure CLI login to fall back on
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca))
    yield Identity(server, header, token)
    server.close()


@pytest.fixture
def workspace_table() -> Table:
    return activity_table(template_row(), row_times(), make_id)


@pytest.fixture
def log_analytics(tls: TlsFiles, azure_identity: Identity, workspace_table: Table) -> Any:
    server = LogAnalyticsServer(tls, azure_identity.token, {WORKSPACE: workspace_table})
    yield server
    server.close()


@pytest.fixture
def eventhubs(azurite: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[EventHubServer, str, str]]:
    """(server, a --source value for it, the connection string's key). The connection string is the
    documented emulator override; the checkpoints go to a fresh Azurite container."""
    from azure.storage.blob import ContainerClient

    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "IDENTITY_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    server = EventHubServer({HUB: 2})
    key = "ehkey" + secrets.token_hex(16)
    monkeypatch.setenv("AZURE_EVENTHUB_CONNECTION_STRING", server.connection_string(key))
    container = "cp-" + secrets.token_hex(6)
    with ContainerClient.from_connection_string(azurite.connection_string, container) as c:
        c.create_container()
    spec = f"eventhub:127.0.0.1:{server.port}/{HUB}?checkpoint={azurite.blob_endpoint}/{container}"
    yield server, spec, key
    server.close()
