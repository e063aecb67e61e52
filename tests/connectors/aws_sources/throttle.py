"""A throttling front for a local stand-in: answers the first N requests the way the service throttles
(S3 503 ``SlowDown``, SQS 503 ``ServiceUnavailable``, Azure Blob 503 ``ServerBusy``, with ``Retry-After``),
then forwards requests unchanged (the signature is over the original Host, which is kept)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

S3_SLOWDOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
SQS_UNAVAILABLE = b'{"__type": "com.amazonaws.sqs#ServiceUnavailable", "message": "Service is unavailable."}'
AZURE_BUSY = (
    b'<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code>'
    b"<Message>The server is busy.</Message></Error>"
)


class Throttle:
    def listed_prefixes(self) -> list[str]:
        """The ``prefix`` of every listing request (S3 ListObjectsV2, Azure List Blobs), in order."""
        found = []
        for _method, path in self.requests:
            query = parse_qs(urlsplit(path).query)
            if "list-type" in query or query.get("comp") == ["list"]:
                found.append(query.get("prefix", [""])[0])
        return found

    def __init__(self, upstream: str, fail: int) -> None:
        self.upstream = urlsplit(upstream)
        self.fail = fail
        self.failed = 0
        self.forwarded = 0
        self.requests: list[tuple[str, str]] = []  # (method, path with query) of every request
        self.lock = threading.Lock()


def _handler(throttle: Throttle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with throttle.lock:
                throttle.requests.append((self.command, self.path))
                refuse = throttle.failed < throttle.fail
                throttle.failed += refuse
                throttle.forwarded += not refuse
            if refuse:
                sqs = "amazonsqs" in (self.headers.get("X-Amz-Target") or "").lower()
                azure = "x-ms-version" in {k.lower() for k in self.headers}
                payload = SQS_UNAVAILABLE if sqs else AZURE_BUSY if azure else S3_SLOWDOWN
                self.send_response(503)
                if azure:
                    self.send_header("x-ms-error-code", "ServerBusy")
                self.send_header("Content-Type", "application/x-amz-json-1.0" if sqs else "application/xml")
                self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            conn = http.client.HTTPConnection(throttle.upstream.hostname, throttle.upstream.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

    return Handler


@contextmanager
def throttling(upstream: str, fail: int) -> Iterator[tuple[str, Throttle]]:
    """(endpoint URL, counters) of a front on 127.0.0.1 that refuses the first ``fail`` requests."""
    throttle = Throttle(upstream, fail)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(throttle))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", throttle
    finally:
        server.shutdown()
        server.server_close()
