"""The Sentinel sink against a local Logs Ingestion API over HTTPS, signed in through
DefaultAzureCredential's managed-identity protocol served by a local token endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from pipelines.sinks import make_sink
from pipelines.sinks.sentinel import COLUMNS, stream_declaration
from tests.sinks.conftest import FAST, check_exactly_once
from tests.sinks.servers import Faults, IngestionServer, TokenServer, self_signed_cert

DCR = "dcr-00112233445566778899aabbccddeeff"
STREAM = "Custom-CloudAudit_CL"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.test-token."
AZURE_ENV = (
    "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST",
    "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT",
)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@dataclass
class Azure:
    cert: Path
    key: Path
    tokens: TokenServer


@pytest.fixture
def azure(cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[Azure]:
    """Trust the test certificate and make DefaultAzureCredential find an App Service managed identity
    (IDENTITY_ENDPOINT + IDENTITY_HEADER) at a local token endpoint; nothing else in its chain applies."""
    for name in AZURE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert[0]))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    with TokenServer("identity-header-secret", TOKEN) as tokens:
        monkeypatch.setenv("IDENTITY_ENDPOINT", f"{tokens.url}/msi/token")
        monkeypatch.setenv("IDENTITY_HEADER", "identity-header-secret")
        yield Azure(cert[0], cert[1], tokens)


def value(srv: IngestionServer, extra: str = "") -> str:
    return f"sentinel:{srv.url}?dcr={DCR}&stream={STREAM}&{FAST}" + (f"&{extra}" if extra else "")


def test_rows_have_the_table_columns_and_the_event(event_lines: list[bytes], azure: Azure) -> None:
    lines = event_lines[:40]
    with IngestionServer(TOKEN, DCR, azure.cert, azure.key) as srv:
        sink = make_sink(value(srv))
        result = sink.send(lines)
        sink.close()
    check_exactly_once(lines, result, srv.ids())
    assert azure.tokens.resources == ["https://monitor.azure.com"]  # the token was asked for once
    rows = srv.rows[STREAM]
    assert [c["name"] for c in stream_declaration()] == [*(n for n, _, _ in COLUMNS), "Event"]
    for row, line in zip(rows, lines, strict=True):
        event = orjson.loads(line)
        assert set(row) == {c["name"] for c in stream_declaration()}
        assert (row["TimeGenerated"], row["EventId"]) == (event["when"]["time"], event["id"])
        assert (row["Provider"], row["Action"], row["ActorId"]) == (
            event["where"]["provider"], event["what"]["action"], event["who"]["actor"]["id"]
        )
        event.pop("raw")
        assert row["Event"] == event


@pytest.mark.parametrize("seed", [1, 2])
def test_fault_injection_every_event_once_or_dead_lettered(
    event_lines: list[bytes], azure: Azure, seed: int
) -> None:
    faults = Faults(seed=seed, p429=0.12, p503=0.12, reset=0.12, timeout=0.05, hang_seconds=5, retry_after="2")
    with IngestionServer(TOKEN, DCR, azure.cert, azure.key, faults=faults) as srv:
        sink = make_sink(value(srv, "batch_events=15&retries=10"))
        result = sink.send(event_lines)
        sink.close()
    check_exactly_once(event_lines, result, srv.ids())
    assert sum(faults.counts[f] for f in ("429", "503", "reset", "timeout")) > 3
    assert not result.dead  # azure-core's retry policy (10 retries) got every chunk through


def test_the_client_retries_with_azure_core(azure: Azure) -> None:
    """No retry_total=0: the ingestion client's pipeline holds azure-core's retry policy, POST included,
    with the sink's retries and backoff."""
    from azure.core.pipeline.policies import RetryPolicy

    from connectors.azure_retry import PostRetryPolicy

    with IngestionServer(TOKEN, DCR, azure.cert, azure.key) as srv:
        sink = make_sink(value(srv, "retries=4"))
        policies = [p for p in sink.client._client._pipeline._impl_policies if isinstance(p, RetryPolicy)]
        sink.close()
    assert len(policies) == 1 and isinstance(policies[0], PostRetryPolicy)
    assert policies[0].total_retries == 4 and policies[0].backoff_max == 0.02


def test_a_refused_token_dead_letters_without_retrying(event_lines: list[bytes], azure: Azure) -> None:
    with IngestionServer("a-different-token", DCR, azure.cert, azure.key) as srv:
        result = make_sink(value(srv)).send(event_lines[:5])
    assert srv.requests == 1 and {d.code for d in result.dead} == {"sentinel_unauthorized"}
    assert all(TOKEN not in d.reason for d in result.dead)


def test_an_event_over_the_api_limit_is_dead_lettered_alone(event_lines: list[bytes], azure: Azure) -> None:
    big = orjson.loads(event_lines[0])
    big["raw"] = "x" * (1 << 20)
    lines = [orjson.dumps(big), *event_lines[1:10]]
    with IngestionServer(TOKEN, DCR, azure.cert, azure.key) as srv:
        result = make_sink(value(srv, "raw=true")).send(lines)
    check_exactly_once(lines, result, srv.ids())
    assert [(d.code, orjson.loads(d.payload)["id"]) for d in result.dead] == [("too_large", big["id"])]
