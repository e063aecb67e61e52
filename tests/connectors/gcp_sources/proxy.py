"""A fault-injecting HTTP proxy in front of a local emulator, bound to 127.0.0.1 on port 0.

Requests are forwarded as they are; the first ``n`` requests whose path matches a fault's pattern are
answered with that fault's status instead (503 with Google's JSON error body), so the client's own retry
policy is exercised over the wire.
"""

from __future__ import annotations

import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

import orjson


class FaultyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlparse(upstream)
        self.faults: list[list[Any]] = []  # [pattern, status, remaining]
        self.served_faults = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy._take_fault(self.path)
                if fault is not None:
                    out = orjson.dumps({"error": {"code": fault, "message": "Backend Error", "errors": []}})
                    self.send_response(fault)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                    return
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def fail(self, pattern: str, status: int = 503, times: int = 1) -> None:
        self.faults.append([re.compile(pattern), status, times])

    def _take_fault(self, path: str) -> int | None:
        with self.lock:
            for fault in self.faults:
                if fault[2] > 0 and fault[0].search(path):
                    fault[2] -= 1
                    self.served_faults += 1
                    return int(fault[1])
        return None

    def __enter__(self) -> FaultyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
