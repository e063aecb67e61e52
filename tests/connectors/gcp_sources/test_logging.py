"""Source kind ``logging``: Cloud Logging API entries.list, against a local server of the REST API shape."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.gcp_audit import read_logging as rl
from connectors.gcp_audit.read_common import safe_text
from connectors.sources import SourceError, SourceSpec, resolve
from tests.connectors.gcp_sources.beamrun import run_source
from tests.connectors.gcp_sources.fixtures import entries, expected_ids, normalize
from tests.connectors.gcp_sources.logging_server import LoggingApiServer
from tests.emulators import free_port

T0 = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=3)


def spec(text: str, start: datetime | None = T0, end: datetime | None = T1) -> SourceSpec:
    return SourceSpec.parse(text, start=start, end=end)


def corpus() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(entries the read must return, entries around them it must not)."""
    inside = entries(70, T0, timedelta(minutes=2), log="activity")
    inside += entries(20, T0 + timedelta(seconds=30), timedelta(minutes=7), log="policy", first=100)
    # On a slice boundary exactly: read once, by the later slice.
    inside += [*entries(1, T0 + timedelta(hours=1), timedelta(0), log="activity", first=200)]
    inside[-1]["timestamp"] = "2024-05-02T11:00:00Z"
    outside = entries(5, T0 - timedelta(minutes=10), timedelta(minutes=1), first=300)  # before the range
    outside += entries(5, T1, timedelta(minutes=1), first=310)  # at and after the end
    outside += entries(5, T0, timedelta(minutes=5), log="data_access", first=320)  # a log not asked for
    outside += entries(5, T0, timedelta(minutes=5), resource="projects/other", first=330)  # another project
    return inside, outside


def test_filter_names_the_audit_logs_and_the_half_open_range() -> None:
    text = rl.log_filter("organizations/123", ("activity", "policy"), T0, T1, 'severity>="NOTICE" OR x=1')
    assert text == (
        '(logName="organizations/123/logs/cloudaudit.googleapis.com%2Factivity" OR '
        'logName="organizations/123/logs/cloudaudit.googleapis.com%2Fpolicy") AND '
        'timestamp >= "2024-05-02T10:00:00.000000Z" AND timestamp < "2024-05-02T13:00:00.000000Z" AND '
        '(severity>="NOTICE" OR x=1)'
    )


@pytest.mark.parametrize(
    ("text", "start", "message"),
    [
        ("logging:my-project", T0, "not a resource name"),
        ("logging:projects/p", None, "needs --start"),
        ("logging:projects/p?logs=activity,audit", T0, "unknown audit log 'audit'"),
        ("logging:projects/p?page_size=5000", T0, "between 1 and 1000"),
        ("logging:projects/p?slice=soon", T0, "not a duration"),
        ("logging:projects/p?endpoint=localhost:1", T0, "http(s)://"),
    ],
)
def test_bad_specs_are_one_line_errors(text: str, start: datetime | None, message: str) -> None:
    s = spec(text, start=start, end=None if start is None else T1)
    with pytest.raises(SourceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve(s).factory(s)


def test_unknown_param_is_refused() -> None:
    with pytest.raises(SourceError, match="does not take bucket"):
        resolve(spec("logging:projects/p?bucket=x"))


def test_slices_pages_retries_and_reads_every_entry_once(caplog: pytest.LogCaptureFixture) -> None:
    inside, outside = corpus()
    with LoggingApiServer(inside + outside) as api:
        api.empty_first_page = True
        api.fail(429, "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute'",
                 retry_after="1")
        api.fail(500, "Internal error encountered.")
        s = spec(f"logging:projects/acme-prod?logs=activity,policy&page_size=7&rpm=6000&endpoint={api.endpoint}")
        with caplog.at_level(logging.INFO, logger="connectors.gcp_audit.read_logging"):
            blobs = run_source(resolve(s).factory(s))
        requests = list(api.requests)
    ids, dead = normalize(blobs)
    assert not dead
    assert Counter(ids) == Counter(expected_ids(inside))  # each once, none from outside
    # Each entry's JSON is passed on as the API returned it (protoPayload and all).
    sent = sorted((orjson.loads(line) for _, data in blobs for line in data.splitlines()), key=repr)
    assert sent == sorted(inside, key=repr)
    assert all(loc.startswith("logging://projects/acme-prod?from=") for loc, _ in blobs)
    # Three one-hour slices, each paged: 91 entries in pages of 7, plus an empty first page per query.
    bodies = [b for _, b in requests]
    assert {b["orderBy"] for b in bodies} == {"timestamp asc"}
    assert {tuple(b["resourceNames"]) for b in bodies} == {("projects/acme-prod",)}
    assert {b["pageSize"] for b in bodies} == {7}
    assert len({b["filter"] for b in bodies}) == 3
    assert sum(1 for b in bodies if "pageToken" in b) >= 91 // 7
    assert not any("authorization" in {k.lower() for k in h} for h, _ in requests)  # anonymous stand-in
    retried = [r.getMessage() for r in caplog.records]
    assert any("429" in m and "RESOURCE_EXHAUSTED" in m for m in retried)
    assert any("500" in m for m in retried)


def test_permanent_error_is_one_readable_sentence() -> None:
    with LoggingApiServer([]) as api:
        api.fail(403, "The caller does not have permission")
        s = spec(f"logging:projects/acme-prod?endpoint={api.endpoint}")
        options = rl.options_from_spec(s)
        post, close = rl.make_post(options)
        reader = rl.SliceReader(options, post)
        with pytest.raises(rl.LoggingSourceError) as err:
            list(reader.blobs(T0, T1))
        close()
    assert str(err.value) == (
        "Cloud Logging entries.list for projects/acme-prod [2024-05-02T10:00:00.000000Z, "
        "2024-05-02T13:00:00.000000Z) failed: HTTP 403 PERMISSION_DENIED: The caller does not have permission"
    )


def test_throttling_gives_up_after_max_attempts() -> None:
    with LoggingApiServer([]) as api:
        api.fail(429, "Quota exceeded", times=3)
        options = rl.options_from_spec(spec(f"logging:projects/acme-prod?endpoint={api.endpoint}"))
        options = rl.LoggingOptions(**{**options.__dict__, "max_attempts": 3})
        post, close = rl.make_post(options)
        waits: list[float] = []
        reader = rl.SliceReader(options, post, sleep=waits.append, rng=lambda: 0.5)
        with pytest.raises(rl.LoggingSourceError, match="failed after 3 attempts: HTTP 429 RESOURCE_EXHAUSTED") as err:
            list(reader.blobs(T0, T1))
        assert str(err.value).endswith("(retried for 2 s: 3x HTTP 429)")
        close()
    assert waits == [0.5, 1.0]  # full jitter over 1 s, 2 s (rng fixed at 0.5)


def test_unreachable_endpoint_is_retried_then_an_error() -> None:
    options = rl.options_from_spec(spec(f"logging:projects/acme-prod?endpoint=http://127.0.0.1:{free_port()}"))
    options = rl.LoggingOptions(**{**options.__dict__, "max_attempts": 2})
    post, close = rl.make_post(options)
    waits: list[float] = []
    with pytest.raises(rl.LoggingSourceError, match="failed after 2 attempts: ConnectionError") as err:
        list(rl.SliceReader(options, post, sleep=waits.append).blobs(T0, T1))
    close()
    assert len(waits) == 1
    # One line: the OS error, not the urllib3 pool's story, and the retries summed up.
    text = str(err.value)
    assert "\n" not in text and "HTTPConnectionPool" not in text, text
    assert "Connection refused" in text
    assert f"(retried for {waits[0]:.0f} s: 2x ConnectionError: [Errno 111] Connection refused)" in text


def test_library_error_text_is_cut_before_credentials() -> None:
    text = "invalid_grant: {'assertion': 'eyJhbGciOi', 'refresh_token': '1//0abc'} Bearer ya29.xyz"
    assert safe_text(text) == "invalid_grant [rest withheld]"
    assert safe_text("HTTP 400: bad token eyJhbGciOiJSUzI1NiJ9.e30.sig") == "HTTP 400: bad token [rest withheld]"


def test_rate_limiter_spends_a_burst_then_paces() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    limiter = rl.RateLimiter(60, clock=lambda: now[0])
    for _ in range(8):
        limiter.wait(sleep)
    assert len(waits) == 2 and all(abs(w - 1.0) < 1e-9 for w in waits)  # burst of 6, then 1 a second


class _EchoTokenServer:
    """An OAuth token endpoint that refuses every grant and echoes the request in its error body, as a
    careless proxy might: whatever the product shows of the auth library's error would leak it."""

    def __init__(self) -> None:
        self.received: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                outer.received.append(body)
                out = json.dumps({"error": "invalid_grant", "error_description": body}).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def service_account_key(token_uri: str) -> tuple[dict[str, str], list[str]]:
    """A made-up service account key file (the ADC shape) and the secret strings in it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    key_id = "SECRETKEYID7f3a9e1b2c8d4f6a"
    info = {"type": "service_account", "project_id": "acme-prod", "private_key_id": key_id,
            "private_key": pem, "client_email": "reader@acme-prod.iam.gserviceaccount.com",
            "client_id": "104627113902481836519", "token_uri": token_uri}
    return info, [key_id, pem.splitlines()[5]]


def test_no_secret_in_errors_or_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     caplog: pytest.LogCaptureFixture) -> None:
    token = _EchoTokenServer()
    try:
        info, secrets = service_account_key(token.url)
        adc = tmp_path / "adc.json"
        adc.write_text(json.dumps(info))
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
        monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")  # never the real metadata server
        options = rl.options_from_spec(spec("logging:projects/acme-prod"))  # the default chain
        options = rl.LoggingOptions(**{**options.__dict__, "timeout": 5.0})
        with caplog.at_level(logging.DEBUG):
            post, close = rl.make_post(options)
            with pytest.raises(rl.LoggingSourceError) as err:
                list(rl.SliceReader(options, post).blobs(T0, T1))
            close()
    finally:
        token.close()
    assert token.received, "the default chain did not reach the token endpoint"
    assertion = token.received[0].split("assertion=", 1)[1].split("&")[0]  # the signed JWT sent
    secrets.append(assertion)
    text = str(err.value)
    assert "Application Default Credentials (RefreshError)" in text
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no chained library text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for s in secrets:
        assert s not in text and s not in logged


def test_the_source_talks_through_the_client_library() -> None:
    """Requests go out through google-cloud-logging's REST connection (its user agent), to the endpoint
    given as the client's api_endpoint."""
    with LoggingApiServer(entries(3, T0, timedelta(minutes=1), log="activity")) as api:
        options = rl.options_from_spec(spec(f"logging:projects/acme-prod?endpoint={api.endpoint}"))
        post, close = rl.make_post(options)
        blobs = list(rl.SliceReader(options, post).blobs(T0, T1))
        close()
        headers = [{k.lower(): v for k, v in h.items()} for h, _ in api.requests]
    assert sum(len(data.splitlines()) for _, data in blobs) == 3
    assert all("gccl/" in h.get("user-agent", "") for h in headers), headers  # the library's client info


def test_list_entries_is_not_faithful_so_the_raw_connection_is_used() -> None:
    """The measured reason (docs/sources-gcp.md) for not using ``Client.list_entries``: its LogEntry
    objects cut nanosecond timestamps to microseconds and drop fields they do not know, while the source
    passes each entry on exactly as the API sent it."""
    (entry,) = entries(1, T0, timedelta(0), log="activity")
    entry["timestamp"] = "2024-05-02T10:15:00.123456789Z"
    entry["receiveTimestamp"] = "2024-05-02T10:15:01.987654321Z"
    entry["splitNew"] = {"uid": "made-up-field-for-this-test"}
    with LoggingApiServer([entry]) as api:
        options = rl.options_from_spec(spec(f"logging:projects/acme-prod?endpoint={api.endpoint}"))
        client = rl.make_client(options)
        (listed,) = list(client.list_entries(resource_names=["projects/acme-prod"],
                                             filter_=rl.log_filter(options.resource, options.logs, T0, T1, None)))
        client.close()
        post, close = rl.make_post(options)
        ((_, data),) = list(rl.SliceReader(options, post).blobs(T0, T1))
        close()
    library = listed.to_api_repr()
    assert library["timestamp"] != entry["timestamp"]
    assert library["timestamp"].startswith("2024-05-02T10:15:00.123456")  # nanoseconds lost
    assert "splitNew" not in library
    assert orjson.loads(data) == entry  # the source keeps all of it


def test_a_failing_source_is_one_line_on_the_command_line(tmp_path: Path) -> None:
    """Without --verbose: what will be read, then one error line; no Beam ERROR record, no traceback."""
    import subprocess
    import sys

    with LoggingApiServer([]) as api:
        api.fail(403, "The caller does not have permission", times=50)
        p = subprocess.run(
            [sys.executable, "-m", "pipelines", "run", "--source",
             f"logging:projects/acme-prod?endpoint={api.endpoint}", "--start", "2024-05-02T10:00:00Z",
             "--end", "2024-05-02T11:00:00Z", "--output", str(tmp_path / "out")],
            capture_output=True, text=True, timeout=300,
        )
    assert p.returncode == 1, p.stderr
    err = p.stderr.strip().splitlines()
    assert err[0].startswith(
        "cloudaudit: reading source logging:projects/acme-prod?endpoint="
    ) and "from 2024-05-02T10:00:00+00:00 to 2024-05-02T11:00:00+00:00" in err[0], err[0]
    assert len(err) == 2, p.stderr
    assert err[1].startswith("cloudaudit: error: the pipeline failed: Cloud Logging entries.list"), err[1]
    assert "HTTP 403 PERMISSION_DENIED" in err[1]
    assert "Traceback" not in p.stderr and "ERROR" not in p.stderr
