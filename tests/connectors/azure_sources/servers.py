"""Local stand-ins for the Azure APIs that have no emulator, bound to 127.0.0.1 on port 0.

- ``TlsFiles``: a throw-away CA and a server certificate for 127.0.0.1/localhost (azure-core refuses to
  send a bearer token over plain http, so the API servers speak HTTPS; the clients trust the CA through
  ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE``, set by the tests, never by product code).
- ``IdentityServer``: the App Service managed identity endpoint (``IDENTITY_ENDPOINT`` +
  ``IDENTITY_HEADER``): ``GET ?api-version=2019-08-01&resource=...`` with ``X-IDENTITY-HEADER`` ->
  ``{"access_token", "expires_on", "resource", "token_type"}``. This is what makes the real
  ``DefaultAzureCredential`` chain work offline.
- ``LogAnalyticsServer``: the Log Analytics query API v1, ``POST /v1/workspaces/{id}/query`` with
  ``{"query", "timespan"}`` -> ``{"tables": [{"name": "PrimaryResult", "columns": [{"name", "type"}],
  "rows": [...]}]}``; a row limit answered as the real service does (the rows up to the limit plus
  ``error.code == "PartialError"`` with the E_QUERY_RESULT_SET_TOO_LARGE inner error), 429 with
  Retry-After, 403 for a token it did not issue, 404 for an unknown workspace.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # PEM of the CA: what clients trust
    cert: Path  # server certificate chain (leaf + CA)
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


def make_tls(directory: Path) -> TlsFiles:
    """A CA and a leaf for 127.0.0.1 and localhost, valid for a day."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cloudaudit test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca.public_bytes(pem))
    files.cert.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    files.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


class _Server:
    """A threaded HTTP(S) server on 127.0.0.1, port 0, in a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], tls: TlsFiles | None = None) -> None:
        self.httpd = ThreadingHTTPServer((HOST, 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.app = self  # type: ignore[attr-defined]
        if tls is not None:
            self.httpd.socket = tls.server_context().wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://{HOST}:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def app(self) -> Any:
        return self.server.app  # type: ignore[attr-defined]

    def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


# --- managed identity --------------------------------------------------------------------------------


class _IdentityHandler(_Handler):
    def do_GET(self) -> None:
        app: IdentityServer = self.app
        query = parse_qs(urlparse(self.path).query)
        resource = (query.get("resource") or [""])[0]
        app.requests.append(resource)
        if self.headers.get("X-IDENTITY-HEADER") != app.header or app.deny:
            self.reply(400, {"statusCode": 400, "message": "Unable to load the proper Managed Identity."})
            return
        self.reply(200, {
            "access_token": app.token,
            "expires_on": str(int(time.time()) + 3600),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": "3a5c7e9b-1d3f-4e6a-8b0c-2d4f6a8c0e52",
        })


class IdentityServer(_Server):
    """App Service managed identity: tokens for whoever presents ``header``."""

    def __init__(self, header: str, token: str) -> None:
        self.header = header
        self.token = token
        self.deny = False
        self.requests: list[str] = []
        super().__init__(_IdentityHandler)

    @property
    def endpoint(self) -> str:
        return f"{self.url}/msi/token"


# --- Log Analytics -------------------------------------------------------------------------------------


_DATETIME = re.compile(r"datetime\(([^)]+)\)")


def parse_time(text: str) -> dt.datetime:
    """Kusto/ISO text with up to 7 fractional digits -> aware datetime (microseconds)."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z?$", text.strip())
    if not m:
        raise ValueError(text)
    base = dt.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    return base + dt.timedelta(microseconds=int(frac))


@dataclass
class Table:
    """The AzureActivity rows the workspace holds, in the API's column/row form."""

    columns: list[dict[str, str]]
    rows: list[list[Any]]
    time_index: int = field(init=False)

    def __post_init__(self) -> None:
        self.time_index = [c["name"] for c in self.columns].index("TimeGenerated")

    def between(self, start: dt.datetime, end: dt.datetime) -> list[list[Any]]:
        return [r for r in self.rows if start <= parse_time(r[self.time_index]) < end]


PARTIAL_ERROR = {
    "code": "PartialError",
    "message": "There were some errors when processing your query.",
    "details": [{
        "code": "EngineError",
        "message": "Something went wrong processing your query on the server.",
        "innererror": {
            "code": "-2133196797",
            "message": "Query result set has exceeded the internal record count limit {limit} "
            "(E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)",
            "severity": 2,
            "severityName": "Error",
        },
    }],
}


class _LogAnalyticsHandler(_Handler):
    def do_POST(self) -> None:
        app: LogAnalyticsServer = self.app
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        m = re.fullmatch(r"/v1/workspaces/([^/]+)/query", urlparse(self.path).path)
        with app.lock:
            app.requests.append({"path": self.path, "body": raw, "headers": dict(self.headers)})
            throttle = app.throttle > 0
            if throttle:
                app.throttle -= 1
            unavailable = app.unavailable > 0
            if unavailable:
                app.unavailable -= 1
        if self.headers.get("Authorization") != f"Bearer {app.token}":
            self.reply(403, {"error": {"code": "InvalidTokenError",
                                       "message": "The provided authentication is not valid for this resource"}})
            return
        if throttle:
            self.reply(429, {"error": {"code": "ThrottledError", "message": "Too many requests"}},
                       {"Retry-After": app.retry_after})
            return
        if unavailable:
            self.reply(503, {"error": {"code": "ServiceUnavailable", "message": "try later"}})
            return
        if not m or m.group(1) not in app.workspaces:
            self.reply(404, {"error": {"code": "WorkspaceNotFoundError",
                                       "message": "The workspace could not be found"}})
            return
        table = app.workspaces[m.group(1)]
        body = json.loads(raw)
        bounds = _DATETIME.findall(body.get("query", ""))
        if "AzureActivity" not in body.get("query", "") or len(bounds) != 2 or not body.get("timespan"):
            self.reply(400, {"error": {"code": "BadArgumentError", "message": "The request had some invalid properties"}})
            return
        start, end = (parse_time(b) for b in bounds)
        rows = table.between(start, end)
        answer: dict[str, Any] = {"tables": [{"name": "PrimaryResult", "columns": table.columns}]}
        if len(rows) > app.row_limit:
            rows = rows[: app.row_limit]
            error = json.loads(json.dumps(PARTIAL_ERROR))
            inner = error["details"][0]["innererror"]
            inner["message"] = inner["message"].format(limit=app.row_limit)
            answer["error"] = error
        answer["tables"][0]["rows"] = rows
        self.reply(200, answer)


class LogAnalyticsServer(_Server):
    """The query API over HTTPS: ``workspaces`` maps a workspace id to its table."""

    def __init__(self, tls: TlsFiles, token: str, workspaces: dict[str, Table], row_limit: int = 500_000) -> None:
        self.token = token
        self.workspaces = workspaces
        self.row_limit = row_limit
        self.throttle = 0  # the next N queries are answered 429
        self.unavailable = 0  # the next N queries are answered 503
        self.retry_after = "1"
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        super().__init__(_LogAnalyticsHandler, tls)

    def queries(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests]


def activity_table(template: dict[str, Any], times: list[str], make_id: Callable[[int], str]) -> Table:
    """AzureActivity rows like ``template`` (a Log Analytics row), one per time text, each its own event
    (``EventDataId`` and ``CorrelationId`` from ``make_id``). Dynamic columns are JSON text, as the API
    returns them."""
    names = list(template)
    types = {k: ("datetime" if k in ("TimeGenerated", "EventSubmissionTimestamp") else
                 "dynamic" if isinstance(v, dict) else "string") for k, v in template.items()}
    columns = [{"name": n, "type": types[n]} for n in names]
    rows = []
    for i, t in enumerate(times):
        rec = dict(template, TimeGenerated=t, EventSubmissionTimestamp=t, EventDataId=make_id(i),
                   CorrelationId=make_id(i + 1_000_000))
        rows.append([json.dumps(rec[n]) if isinstance(rec[n], dict) else rec[n] for n in names])
    return Table(columns, rows)
