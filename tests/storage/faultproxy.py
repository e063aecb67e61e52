"""A fault-injecting HTTP reverse proxy for object-store tests, on 127.0.0.1.

It sits between a cloud SDK and its stand-in (moto server, the GCS emulator, Azurite) and, for a seeded
share of requests, answers 503 or 429, resets the connection, or stalls before passing the request on;
every other request is forwarded as it is and its response relayed byte for byte. Faults are injected
before the request reaches the stand-in, as a throttling front end or a dropped connection would, so
a retry by the client is always safe to make; the tests check what the pipeline makes of it. The
faults come in turn (503, 429, reset, stall, ...), at seeded random requests, up to ``max_faults``.
"""

from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class FaultProxy:
    """``FaultProxy(upstream, rate, seed)``; ``.url`` is where clients connect; ``.counts`` what it did."""

    def __init__(self, upstream: str, rate: float = 0.15, seed: int = 5, stall_seconds: float = 1.0,
                 faults: tuple[str, ...] = ("503", "429", "reset", "stall"), max_faults: int = 1000) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rate = rate
        self.faults = faults
        self.stall_seconds = stall_seconds
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.enabled = True
        self.max_faults = max_faults  # SDK retry back-off is long (Azure: 15 s first): keep test time bounded
        self._injected = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                proxy.handle(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _choose(self) -> str | None:
        with self._lock:
            self.counts["requests"] += 1
            if not self.enabled or self._injected >= self.max_faults or self._rng.random() >= self.rate:
                return None
            fault = self.faults[self._injected % len(self.faults)]  # each kind in turn: all get exercised
            self._injected += 1
            self.counts[fault] += 1
            return fault

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        body = _read_body(h)
        fault = self._choose()
        if fault in ("503", "429"):
            status = int(fault)
            payload = b"injected fault: slow down"
            h.send_response(status)
            h.send_header("Content-Type", "text/plain")
            h.send_header("Content-Length", str(len(payload)))
            if status == 429:
                h.send_header("Retry-After", "0")
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(payload)
            return
        if fault == "reset":
            # SO_LINGER 0: the close sends RST, as a dropped connection does.
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.close_connection = True
            h.connection.close()
            return
        if fault == "stall":
            time.sleep(self.stall_seconds)
        self._forward(h, body)

    def _forward(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP}
            if body or h.command in ("PUT", "POST", "PATCH"):
                headers["Content-Length"] = str(len(body))
            conn.request(h.command, h.path, body=body if body else None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            h.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                # A HEAD answer's Content-Length is the object's size: keep it as it is.
                if k.lower() not in HOP_BY_HOP and (k.lower() != "content-length" or h.command == "HEAD"):
                    h.send_header(k, v)
            if h.command != "HEAD":
                h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(data)
        finally:
            conn.close()


def _read_body(h: BaseHTTPRequestHandler) -> bytes:
    if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
        out = bytearray()
        while True:
            size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            out += h.rfile.read(size)
            h.rfile.readline()
    n = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(n) if n else b""
