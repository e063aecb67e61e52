"""Source kind ``workspace-reports``: the Admin SDK Reports API activities.list, against a local server of
the REST shape (GET, startTime/endTime inclusive, maxResults, pageToken, customerId; Google's JSON error
body). Activities are written for the test."""

from __future__ import annotations

import threading
from collections import deque
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson
import pytest

from connectors.google_workspace import read_reports as rr
from connectors.normalize import Normalizer
from connectors.sources import SourceError, SourceSpec, resolve
from schemas.event import Event
from tests.connectors.gcp_sources.beamrun import run_source

T0 = datetime(2025, 1, 14, 0, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=12)
CUSTOMER = "C03xk29vq"


def activity(app: str, n: int, when: datetime, name: str = "login_success") -> dict[str, Any]:
    return {
        "kind": "admin#reports#activity",
        "id": {"time": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "uniqueQualifier": str(-(10**12) - n),
               "applicationName": app, "customerId": CUSTOMER},
        "actor": {"email": f"user{n % 7}@acme-test.example", "profileId": str(10**20 + n % 7), "callerType": "USER"},
        "ipAddress": f"198.51.100.{n % 200}",
        "events": [{"type": "login", "name": name, "parameters": [{"name": "login_type", "value": "google_password"}]}],
    }


class ReportsServer:
    def __init__(self, items: dict[str, list[dict[str, Any]]], page_size: int = 7) -> None:
        self.items = items
        self.page_size = page_size
        self.faults: deque[tuple[int, dict[str, str]]] = deque()
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, headers, body = server.answer(self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        self.requests.append(path)
        if self.faults:
            status, headers = self.faults.popleft()
            err = {"error": {"code": status, "message": "fault for the test", "status": "UNAVAILABLE"}}
            return status, headers, orjson.dumps(err)
        u = urlparse(path)
        prefix = "/admin/reports/v1/activity/users/all/applications/"
        if not u.path.startswith(prefix):
            return 404, {}, orjson.dumps({"error": {"code": 404, "message": "not found"}})
        app = u.path[len(prefix):]
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        start = datetime.fromisoformat(q["startTime"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(q["endTime"].replace("Z", "+00:00"))
        assert q.get("customerId") == CUSTOMER
        size = min(int(q.get("maxResults", "1000")), self.page_size)
        # Newest first, endTime inclusive: as the Reports API answers.
        rows = sorted((i for i in self.items.get(app, []) if start <= rr._activity_time(i) <= end),
                      key=lambda i: i["id"]["time"], reverse=True)
        offset = int(q.get("pageToken", "0"))
        page = rows[offset: offset + size]
        doc: dict[str, Any] = {"kind": "admin#reports#activities", "etag": "\"e\""}
        if page:
            doc["items"] = page
        if offset + size < len(rows):
            doc["nextPageToken"] = str(offset + size)
        return 200, {}, orjson.dumps(doc)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server() -> Any:
    login = [activity("login", n, T0 + timedelta(minutes=9 * n)) for n in range(40)]
    login.append(activity("login", 500, T0 + timedelta(hours=6)))  # exactly on a slice boundary
    login.append(activity("login", 501, T1 + timedelta(minutes=1)))  # after the range
    admin = [activity("admin", 1000 + n, T0 + timedelta(minutes=31 * n), "CREATE_USER") for n in range(12)]
    s = ReportsServer({"login": login, "admin": admin})
    yield s
    s.close()


def _spec(s: ReportsServer, extra: str = "") -> SourceSpec:
    return SourceSpec.parse(f"workspace-reports:{CUSTOMER}?applications=login,admin&endpoint={s.url}{extra}",
                            start=T0, end=T1)


def test_reads_every_activity_of_the_range_once_through_beam(server: ReportsServer) -> None:
    server.faults.append((503, {"Retry-After": "0"}))  # one transient failure, retried
    spec = _spec(server)
    assert resolve(spec).kind == "workspace-reports"
    blobs = run_source(rr.source(spec))
    events = [r for loc, data in blobs for r in Normalizer().blob(data, loc)]
    assert all(isinstance(e, Event) for e in events)
    ids = [e.source.native_id for e in events if isinstance(e, Event)]
    expected = [a["id"]["uniqueQualifier"] for a in server.items["login"][:41]] + [
        a["id"]["uniqueQualifier"] for a in server.items["admin"]]
    assert sorted(ids) == sorted(expected)  # the boundary activity once, nothing past the end
    assert {e.source.format for e in events if isinstance(e, Event)} == {"google_workspace.audit"}
    assert any("pageToken=" in r for r in server.requests)


def test_permanent_errors_and_bad_options_are_one_sentence(server: ReportsServer) -> None:
    o = rr.options_from_spec(_spec(server))
    server.faults.append((403, {}))
    reader = rr.SliceReader(o, rr.make_get(o)[0], sleep=lambda s: None)
    with pytest.raises(rr.ReportsSourceError, match="HTTP 403: fault for the test"):
        list(reader.blobs("login", T0, T1))
    with pytest.raises(SourceError, match="applications"):
        rr.options_from_spec(SourceSpec.parse("workspace-reports:x?applications=drive", start=T0, end=T1))
