"""A local stand-in of the Cloud Logging API v2 ``entries.list`` (REST), bound to 127.0.0.1 on port 0.

``POST /v2/entries:list`` with a JSON body ``{resourceNames, filter, orderBy, pageSize, pageToken}`` ->
``{"entries": [LogEntry...], "nextPageToken": "..."}`` (the token absent on the last page), as in
https://cloud.google.com/logging/docs/reference/v2/rest/v2/entries/list. The filter is understood as far
as the product writes it: ``logName="..."`` terms ORed, ``timestamp >= "..."`` and ``timestamp < "..."``;
anything else in it is ignored. Errors use Google's JSON error body ``{"error": {code, message,
status}}``. Faults are queued per test: ``fail(status, ...)`` answers the next request with that status
(429 RESOURCE_EXHAUSTED with Retry-After, a 500 once, a 403). ``empty_first_page`` answers each
query's first request with no entries and a token, as the real service does when it stops scanning.
"""

from __future__ import annotations

import base64
import re
import threading
from collections import deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import orjson

HOST = "127.0.0.1"
_LOGNAME = re.compile(r'logName\s*=\s*"([^"]+)"')
_TS_GE = re.compile(r'timestamp\s*>=\s*"([^"]+)"')
_TS_LT = re.compile(r'timestamp\s*<\s*"([^"]+)"')
STATUS_NAMES = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
                500: "INTERNAL", 503: "UNAVAILABLE"}


def parse_ts(text: str) -> datetime:
    s = text.rstrip("Z")
    if "." in s:
        head, frac = s.split(".", 1)
        s = f"{head}.{frac[:6]}"
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


class LoggingApiServer:
    def __init__(self, entries: list[dict[str, Any]], default_page_size: int = 50) -> None:
        self.entries = sorted(entries, key=lambda e: parse_ts(e["timestamp"]))
        self.default_page_size = default_page_size
        self.faults: deque[tuple[int, dict[str, str], bytes]] = deque()
        self.empty_first_page = False
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, headers, body = server.answer(self.path, dict(self.headers), raw)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self.httpd.daemon_threads = True
        self.endpoint = f"http://{HOST}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LoggingApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail(self, status: int, message: str = "", retry_after: str | None = None, times: int = 1) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = orjson.dumps({"error": {"code": status, "message": message or STATUS_NAMES.get(status, "error"),
                                       "status": STATUS_NAMES.get(status, "UNKNOWN")}})
        for _ in range(times):
            self.faults.append((status, headers, body))

    @staticmethod
    def _error(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
        return status, {}, orjson.dumps({"error": {"code": status, "message": message,
                                                   "status": STATUS_NAMES.get(status, "UNKNOWN")}})

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes]:
        # The API takes system parameters in the query (the client library sends prettyPrint=false).
        if urlsplit(path).path != "/v2/entries:list":
            return self._error(404, f"no such method {path}")
        try:
            req = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return self._error(400, "Invalid JSON payload received.")
        with self.lock:
            self.requests.append((headers, req))
            if self.faults:
                return self.faults.popleft()
        names = req.get("resourceNames")
        if not isinstance(names, list) or not names:
            return self._error(400, "resourceNames must not be empty")
        flt = str(req.get("filter") or "")
        wanted_logs = set(_LOGNAME.findall(flt))
        ge, lt = _TS_GE.search(flt), _TS_LT.search(flt)
        lo = parse_ts(ge.group(1)) if ge else None
        hi = parse_ts(lt.group(1)) if lt else None
        if req.get("orderBy", "timestamp asc") != "timestamp asc":
            return self._error(400, "only 'timestamp asc' is supported by this stand-in")
        size = int(req.get("pageSize") or self.default_page_size)
        if size > 1000:
            return self._error(400, "pageSize must be at most 1000")
        match = [
            e for e in self.entries
            if any(e["logName"].startswith(f"{n}/logs/") for n in names)
            and (not wanted_logs or e["logName"] in wanted_logs)
            and (lo is None or parse_ts(e["timestamp"]) >= lo)
            and (hi is None or parse_ts(e["timestamp"]) < hi)
        ]
        token = req.get("pageToken")
        if token:
            offset, empty_done = orjson.loads(base64.urlsafe_b64decode(token))
        else:
            offset, empty_done = 0, not self.empty_first_page
        if not empty_done:
            nxt = base64.urlsafe_b64encode(orjson.dumps([0, True])).decode()
            return 200, {}, orjson.dumps({"nextPageToken": nxt})
        page = match[offset : offset + size]
        out: dict[str, Any] = {}
        if page:
            out["entries"] = page
        if offset + size < len(match):
            out["nextPageToken"] = base64.urlsafe_b64encode(orjson.dumps([offset + size, True])).decode()
        # The real API pretty-prints its JSON; so does this stand-in.
        return 200, {}, orjson.dumps(out, option=orjson.OPT_INDENT_2)
