"""The circuit breaker: a sink that is down costs bounded time and dead-letters the rest at once as
``sink_unavailable``; and secrets an endpoint echoes never reach a dead letter."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from pipelines.redact import MASK, redact, register_secret
from pipelines.sinks import make_sink
from pipelines.sinks.base import SendResult
from tests.sinks.conftest import check_exactly_once
from tests.sinks.servers import Faults, HecServer


class FakeTime:
    """sleep() advances now(): the breaker's clock without waiting."""

    def __init__(self) -> None:
        self.t = 0.0

    def sleep(self, seconds: float) -> None:
        self.t += seconds

    def now(self) -> float:
        return self.t


def test_a_refused_port_trips_the_breaker_within_its_outage_budget(event_lines: list[bytes], hec_token: str) -> None:
    with HecServer(hec_token) as srv:
        url = srv.url  # then nothing listens there
    clock = FakeTime()
    sink = make_sink(f"hec:{url}?breaker_seconds=30&retries=50&max_backoff=10", sleep=clock.sleep)
    sink._clock = clock.now  # type: ignore[method-assign]
    lines = event_lines[:597]
    result = sink.send(lines)
    assert not result.delivered_ids and len(result.dead) == len(lines)
    assert {d.code for d in result.dead} == {"sink_unavailable"}
    assert clock.t <= 30.0  # never waits past the budget, however many retries are allowed
    assert "30s of outage" in result.dead[0].reason and "connection failed" in result.dead[0].reason
    later = sink.send(event_lines[:5])  # down stays down: no more tries in this run
    assert {d.code for d in later.dead} == {"sink_unavailable"}


def test_consecutive_failed_batches_trip_the_breaker(event_lines: list[bytes], hec_token: str) -> None:
    lines = event_lines[:100]
    with HecServer(hec_token, faults=Faults(seed=1, p503=1.0)) as srv:
        sink = make_sink(f"hec:{srv.url}?batch_events=10&retries=1&backoff=0.001")
        result = SendResult()
        for i in range(0, 100, 10):  # HEC sends everything one send() gets as one batch
            result.extend(sink.send(lines[i:i + 10]))
        requests = srv.requests
    check_exactly_once(lines, result, [])
    codes = [d.code for d in result.dead]
    assert codes[:20] == ["retries_exhausted"] * 20  # batches 1 and 2
    assert codes[20:] == ["sink_unavailable"] * 80  # batch 3 trips it; the rest are not tried
    assert requests == 6  # 3 batches x 2 attempts
    assert "3 consecutive failed batches" in result.dead[-1].reason and "503" in result.dead[-1].reason


def test_an_answer_closes_the_breaker_again(event_lines: list[bytes], hec_token: str) -> None:
    lines = event_lines[:60]
    faults = Faults(seed=3, p503=0.5)
    with HecServer(hec_token, faults=faults) as srv:
        result = make_sink(f"hec:{srv.url}?batch_events=5&retries=8&backoff=0.001&breaker_batches=2").send(lines)
    check_exactly_once(lines, result, srv.ids())
    assert len(result.delivered_ids) == len(lines)  # a flaky endpoint is not a down one


class EchoHandler(BaseHTTPRequestHandler):
    """An endpoint that fails and echoes the request's headers in its error body (as some proxies do)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = orjson.dumps({"text": f"upstream failed; request headers: {dict(self.headers)}", "code": 9})
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_url():  # type: ignore[no-untyped-def]
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_echoed_token_is_not_in_any_dead_letter(event_lines: list[bytes], hec_token: str, echo_url: str) -> None:
    result = make_sink(f"hec:{echo_url}?retries=0&batch_events=10").send(event_lines[:40])
    assert len(result.dead) == 40
    for letter in result.dead:
        text = letter.to_json().decode()
        assert hec_token not in text and "upstream failed" in letter.reason
    assert MASK in result.dead[0].reason


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Splunk 6c2f0e1a-0d5b-4a44-9f0e-7d3f8b1c2a90",
        "'Authorization': 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl'",
        "header ApiKey VnVhQ2ZHY0JDZGJrUTZhTmtoWno6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==",
        "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=q%2Bz0nK9abcdefXYZ%3D&se=2030",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "key AKIAIOSFODNN7EXAMPLE and wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ],
)
def test_credential_shapes_are_redacted(text: str) -> None:
    out = redact(text)
    assert MASK in out
    for secret in ("6c2f0e1a", "eyJhbGci", "VnVhQ2ZH", "q%2Bz0nK9", "wJalrXUtn", "AKIAIOSFODNN7EXAMPLE"):
        assert secret not in out


def test_secret_values_the_process_holds_are_redacted(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MY_SERVICE_TOKEN", "plain-value-123")
    secret_file = tmp_path / "pw"
    secret_file.write_text("from-a-file-456\n")
    monkeypatch.setenv("DB_PASSWORD_FILE", str(secret_file))
    register_secret("registered-789")
    out = redact("a plain-value-123 b from-a-file-456 c registered-789 d sha 0123456789abcdef0123456789abcdef01234567")
    assert "plain-value" not in out and "from-a-file" not in out and "registered-789" not in out
    assert "0123456789abcdef0123456789abcdef01234567" in out  # a hex hash is not a secret key


def test_log_lines_and_the_summary_pass_through_the_redactor(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from pipelines.redact import install_log_redaction
    from pipelines.summary import Summary, format_summary

    register_secret("log-secret-value-42")
    install_log_redaction()
    with caplog.at_level(logging.WARNING):
        logging.getLogger("cloudaudit.test").warning("endpoint said %s", "bad token log-secret-value-42")
    assert "log-secret-value-42" not in caplog.text and MASK in caplog.text
    s = Summary(inputs=["https://a.blob.core.windows.net/c?sv=1&sig=abcdefSECRET"],
                problems=["sink said Authorization: Bearer zzzzzzzzzzzzzz"])
    for text in (format_summary(s), orjson.dumps(s.to_dict()).decode()):
        assert "abcdefSECRET" not in text and "zzzzzzzzzzzzzz" not in text
