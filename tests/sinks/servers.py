"""Local stand-ins for the SIEM APIs, with seeded fault injection, on 127.0.0.1 (port 0, threaded).

They follow the documented request and response formats closely enough that the sinks cannot tell:

* ``HecServer``: Splunk HTTP Event Collector. ``POST /services/collector/event`` with
  ``Authorization: Splunk <token>``, gzip or plain bodies of concatenated JSON envelopes; answers
  ``{"text": "Success", "code": 0}`` (plus ``"ackId"`` with indexer acknowledgement, which needs the
  ``X-Splunk-Request-Channel`` header: code 10 without it) and ``POST /services/collector/ack``
  ``{"acks": [ids]}`` -> ``{"acks": {"id": bool}}``. A bad event is ``400 {"text": "Invalid data
  format", "code": 6, "invalid-event-number": i}`` for the whole request; a wrong token is 401/403.
* ``BulkServer``: Elasticsearch/OpenSearch ``POST /_bulk`` NDJSON, per-item results in request order:
  201 created, 409 ``version_conflict_engine_exception`` on create of an existing id, 400
  ``mapper_parsing_exception``, 429 ``es_rejected_execution_exception``; ``errors`` true when any failed.
* ``IngestionServer``: the Azure Monitor Logs Ingestion API over HTTPS (self-signed certificate):
  ``POST /dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01``, ``Authorization: Bearer``,
  gzip JSON array, 204 on success, 413 over 1 MB; and ``TokenServer``, the App Service managed-identity
  endpoint (``IDENTITY_ENDPOINT``/``IDENTITY_HEADER``) that DefaultAzureCredential asks for the token.

Faults (``Faults``): for a seeded random share of requests, answer 429 with Retry-After, 503, reset
the connection (RST) before answering, hang past the client's timeout, or (``lost``) do the work and
then reset, so the client cannot know it was done.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import ipaddress
import json
import random
import select
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FAULTS = ("429", "503", "reset", "timeout", "lost")


@dataclass
class Faults:
    """Shares of requests that fail, each way; drawn from one seeded generator under a lock."""

    seed: int = 1
    p429: float = 0.0
    p503: float = 0.0
    reset: float = 0.0
    timeout: float = 0.0
    lost: float = 0.0
    hang_seconds: float = 1.0  # at most how long a "timeout" request hangs (it ends when the client gives up)
    retry_after: str = "1"
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        with self._lock:
            x = self._random.random()
            edge = 0.0
            for name, p in zip(FAULTS, (self.p429, self.p503, self.reset, self.timeout, self.lost), strict=True):
                edge += p
                if x < edge:
                    self.counts[name] += 1
                    return name
            self.counts["ok"] += 1
            return None

    def random(self) -> float:
        with self._lock:
            return self._random.random()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the client's
        # delayed ACK add 40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()

    def body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            data = gzip.decompress(data)
        return data

    def reply(self, status: int, payload: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), as a crashed proxy would."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.close()

    def hang(self, seconds: float) -> None:
        """Answer nothing until the client gives up (its timeout closes the connection: EOF) or ``seconds``
        pass, whichever is first: a hang costs the test the client's timeout, never more."""
        with contextlib.suppress(OSError, ValueError):
            select.select([self.connection], [], [], seconds)

    def do_POST(self) -> None:
        self.server.requests += 1
        fault = self.server.faults.draw() if self.server.faults else None
        if fault == "reset":
            self.reset()
            return
        if fault == "timeout":
            self.body()
            self.hang(self.server.faults.hang_seconds)
            self.reset()
            return
        if fault == "429":
            self.body()
            self.reply(429, self.server.busy_answer(429), {"Retry-After": self.server.faults.retry_after})
            return
        if fault == "503":
            self.body()
            self.reply(503, self.server.busy_answer(503))
            return
        status, payload, headers = self.server.handle_post(self)
        if fault == "lost":
            self.reset()
            return
        self.reply(status, payload, headers)

    def do_GET(self) -> None:
        status, payload, headers = self.server.handle_get(self)
        self.reply(status, payload, headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, faults: Faults | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.faults = faults
        self.requests = 0
        self.lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:  # resets make noise: keep quiet
        pass

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def busy_answer(self, status: int) -> Any:
        return {"error": "busy", "status": status}

    def handle_post(self, h: _Handler) -> tuple[int, Any, dict[str, str] | None]:
        return 404, {"error": "no such path"}, None

    def handle_get(self, h: _Handler) -> tuple[int, Any, dict[str, str] | None]:
        return 404, {"error": "no such path"}, None

    def __enter__(self) -> _Server:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


# --- Splunk HEC ----------------------------------------------------------------------------------


class HecServer(_Server):
    """Indexed events are in ``events`` (the envelopes), in the order they were indexed."""

    def __init__(
        self,
        token: str,
        faults: Faults | None = None,
        ack: bool = False,
        ack_loss: float = 0.0,
        poison: frozenset[str] = frozenset(),
        indexes: frozenset[str] | None = None,
        count_only: bool = False,
    ) -> None:
        super().__init__(faults)
        self.count_only = count_only  # benchmarks: count newline-separated events, keep nothing
        self.count = 0
        self.token = token
        self.ack = ack
        self.ack_loss = ack_loss  # share of accepted requests whose ack never comes true (lost before indexing)
        self.poison = poison  # event ids answered with code 6
        self.indexes = indexes
        self.events: list[dict[str, Any]] = []
        self._acks: dict[str, dict[int, tuple[list[dict[str, Any]], int]]] = {}  # channel -> id -> (events, polls left)
        self._next_ack: Counter[str] = Counter()
        self.acks_lost = 0

    def ids(self) -> list[str]:
        return [e["event"]["id"] for e in self.events]

    def busy_answer(self, status: int) -> Any:
        return {"text": "Server is busy", "code": 9}

    def _auth(self, h: _Handler) -> tuple[int, Any, None] | None:
        auth = h.headers.get("Authorization")
        if not auth:
            return 401, {"text": "Token is required", "code": 2}, None
        if not auth.startswith("Splunk "):
            return 401, {"text": "Invalid authorization", "code": 3}, None
        if auth[len("Splunk ") :] != self.token:
            return 403, {"text": "Invalid token", "code": 4}, None
        return None

    def handle_post(self, h: _Handler) -> tuple[int, Any, dict[str, str] | None]:
        path = urlsplit(h.path).path
        data = h.body()
        denied = self._auth(h)
        if denied:
            return denied
        channel = h.headers.get("X-Splunk-Request-Channel")
        if path == "/services/collector/ack":
            if not self.ack:
                return 400, {"text": "ACK is disabled", "code": 14}, None
            if not channel:
                return 400, {"text": "Data channel is missing", "code": 10}, None
            return 200, {"acks": self._poll(channel, json.loads(data).get("acks", []))}, None
        if path not in ("/services/collector/event", "/services/collector"):
            return 404, {"text": "The requested URL was not found on this server.", "code": 404}, None
        if self.ack and not channel:
            return 400, {"text": "Data channel is missing", "code": 10}, None
        if self.count_only and not self.ack:
            with self.lock:
                self.count += data.count(b"\n") + 1
            return 200, {"text": "Success", "code": 0}, None
        events = []
        decoder = json.JSONDecoder()
        text = data.decode("utf-8")
        i = 0
        while True:
            while i < len(text) and text[i].isspace():
                i += 1
            if i >= len(text):
                break
            try:
                obj, i = decoder.raw_decode(text, i)
            except ValueError:
                return 400, {"text": "Invalid data format", "code": 6, "invalid-event-number": len(events)}, None
            events.append(obj)
        if not events:
            return 400, {"text": "No data", "code": 5}, None
        for n, e in enumerate(events):
            if not isinstance(e, dict) or "event" not in e:
                return 400, {"text": "Event field is required", "code": 12, "invalid-event-number": n}, None
            if not isinstance(e.get("time"), int | float):
                return 400, {"text": "Invalid data format", "code": 6, "invalid-event-number": n}, None
            if isinstance(e["event"], dict) and e["event"].get("id") in self.poison:
                return 400, {"text": "Invalid data format", "code": 6, "invalid-event-number": n}, None
            if self.indexes is not None and e.get("index") not in self.indexes:
                return 400, {"text": "Incorrect index", "code": 7, "invalid-event-number": n}, None
        if not self.ack:
            with self.lock:
                self.events.extend(events)
            return 200, {"text": "Success", "code": 0}, None
        with self.lock:
            ack_id = self._next_ack[channel]
            self._next_ack[channel] += 1
            lost = self.faults.random() < self.ack_loss if self.faults else False
            polls = -1 if lost else int(self.faults.random() * 3) if self.faults else 0
            self.acks_lost += lost
            self._acks.setdefault(channel, {})[ack_id] = (events, polls)
        return 200, {"text": "Success", "code": 0, "ackId": ack_id}, None

    def _poll(self, channel: str, ids: list[int]) -> dict[str, bool]:
        out = {}
        with self.lock:
            pending = self._acks.setdefault(channel, {})
            for ack_id in ids:
                entry = pending.get(ack_id)
                if entry is None:
                    out[str(ack_id)] = False
                    continue
                events, polls = entry
                if polls < 0:  # lost: never indexed, never true
                    out[str(ack_id)] = False
                elif polls == 0:
                    self.events.extend(events)  # indexed now
                    del pending[ack_id]
                    out[str(ack_id)] = True
                else:
                    pending[ack_id] = (events, polls - 1)
                    out[str(ack_id)] = False
        return out


# --- Elasticsearch / OpenSearch _bulk ------------------------------------------------------------


class BulkServer(_Server):
    """Documents by index and id in ``docs``; ``writes`` counts successful writes per id."""

    def __init__(
        self,
        api_key: str | None = None,
        faults: Faults | None = None,
        item_429: float = 0.0,
        poison: frozenset[str] = frozenset(),
        count_only: bool = False,
    ) -> None:
        super().__init__(faults)
        self.count_only = count_only  # benchmarks: answer every item created, keep nothing
        self.count = 0
        self.api_key = api_key
        self.item_429 = item_429
        self.poison = poison
        self.docs: dict[str, dict[str, dict[str, Any]]] = {}
        self.writes: Counter[str] = Counter()
        self.item_statuses: Counter[int] = Counter()

    def ids(self) -> list[str]:
        return [i for by_id in self.docs.values() for i in by_id]

    def busy_answer(self, status: int) -> Any:
        kind = "es_rejected_execution_exception" if status == 429 else "unavailable_shards_exception"
        return {"error": {"type": kind, "reason": "busy"}, "status": status}

    def handle_post(self, h: _Handler) -> tuple[int, Any, dict[str, str] | None]:
        path = urlsplit(h.path).path
        data = h.body()
        if self.api_key is not None and h.headers.get("Authorization") != f"ApiKey {self.api_key}":
            err = {"type": "security_exception", "reason": "missing authentication credentials"}
            return 401, {"error": err, "status": 401}, None
        if not path.endswith("/_bulk"):
            return 404, {"error": "no handler"}, None
        if h.headers.get("Content-Type", "").split(";")[0] not in ("application/x-ndjson", "application/json"):
            return 406, {"error": "Content-Type header is not supported", "status": 406}, None
        if self.count_only:
            n = data.count(b"\n") // 2
            with self.lock:
                self.count += n
            return 200, {"took": 1, "errors": False, "items": [{"create": {"status": 201}}] * n}, None
        lines = [ln for ln in data.split(b"\n") if ln.strip()]
        if len(lines) % 2:
            err = {"type": "illegal_argument_exception", "reason": "The bulk request must be terminated by a newline"}
            return 400, {"error": err, "status": 400}, None
        items = []
        errors = False
        for action_line, doc_line in zip(lines[::2], lines[1::2], strict=True):
            action = json.loads(action_line)
            (op, meta), = action.items()
            index, doc_id = meta["_index"], meta["_id"]
            doc = json.loads(doc_line)
            result: dict[str, Any] = {"_index": index, "_id": doc_id}
            with self.lock:
                existing = self.docs.get(index, {})
                if doc_id in self.poison:
                    result["status"] = 400
                    result["error"] = {"type": "mapper_parsing_exception", "reason": "failed to parse field [when]"}
                elif self.faults and self.faults.random() < self.item_429:
                    result["status"] = 429
                    result["error"] = {"type": "es_rejected_execution_exception", "reason": "queue full"}
                elif op == "create" and doc_id in existing:
                    result["status"] = 409
                    result["error"] = {
                        "type": "version_conflict_engine_exception",
                        "reason": f"[{doc_id}]: version conflict, document already exists (current version [1])",
                    }
                else:
                    created = doc_id not in existing
                    self.docs.setdefault(index, {})[doc_id] = doc
                    self.writes[doc_id] += 1
                    result["status"] = 201 if created else 200
                    result["result"] = "created" if created else "updated"
                self.item_statuses[result["status"]] += 1
            errors = errors or "error" in result
            items.append({op: result})
        return 200, {"took": 1, "errors": errors, "items": items}, None


# --- Azure Monitor Logs Ingestion API ------------------------------------------------------------


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key; the certificate is its own CA bundle."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class TokenServer(_Server):
    """The App Service managed-identity endpoint: GET ?api-version=2019-08-01&resource=... with the
    X-IDENTITY-HEADER secret -> {"access_token", "expires_on", "resource", "token_type"}."""

    def __init__(self, secret: str, token: str) -> None:
        super().__init__(None)
        self.secret = secret
        self.token = token
        self.resources: list[str] = []

    def handle_get(self, h: _Handler) -> tuple[int, Any, dict[str, str] | None]:
        if h.headers.get("X-IDENTITY-HEADER") != self.secret:
            return 401, {"statusCode": 401, "message": "bad identity header"}, None
        q = parse_qs(urlsplit(h.path).query)
        resource = q.get("resource", [""])[0]
        self.resources.append(resource)
        expires = str(int(time.time()) + 3600)
        return 200, {"access_token": self.token, "expires_on": expires, "resource": resource, "token_type": "Bearer"}, None


class IngestionServer(_Server):
    """Rows by stream in ``rows``; HTTPS with the given certificate."""

    MAX_BYTES = 1 << 20

    def __init__(self, token: str, dcr: str, cert: Path, key: Path, faults: Faults | None = None) -> None:
        super().__init__(faults)
        self.token = token
        self.dcr = dcr
        self.rows: dict[str, list[dict[str, Any]]] = {}
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.socket = ctx.wrap_socket(self.socket, server_side=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def ids(self) -> list[str]:
        return [r["EventId"] for rows in self.rows.values() for r in rows]

    def busy_answer(self, status: int) -> Any:
        return {"error": {"code": "TooManyRequests" if status == 429 else "ServiceUnavailable", "message": "busy"}}

    def handle_post(self, h: _Handler) -> tuple[int, Any, dict[str, str] | None]:
        parts = urlsplit(h.path)
        raw_size = int(h.headers.get("Content-Length") or 0)
        data = h.body()
        segs = parts.path.strip("/").split("/")
        if len(segs) != 4 or segs[0] != "dataCollectionRules" or segs[2] != "streams":
            return 404, {"error": {"code": "NotFound", "message": "no such path"}}, None
        if parse_qs(parts.query).get("api-version") != ["2023-01-01"]:
            return 400, {"error": {"code": "InvalidApiVersion", "message": "api-version"}}, None
        if h.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"error": {"code": "InvalidToken", "message": "token is not valid"}}, None
        if segs[1] != self.dcr:
            return 404, {"error": {"code": "NotFound", "message": "data collection rule not found"}}, None
        if raw_size > self.MAX_BYTES or len(data) > self.MAX_BYTES:
            return 413, {"error": {"code": "ContentLengthLimitExceeded", "message": "over 1 MB"}}, None
        rows = json.loads(data)
        if not isinstance(rows, list):
            return 400, {"error": {"code": "InvalidContent", "message": "expected an array"}}, None
        with self.lock:
            self.rows.setdefault(segs[3], []).extend(rows)
        return 204, None, None
