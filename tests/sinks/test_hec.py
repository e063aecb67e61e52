"""The Splunk HEC sink against a local HEC endpoint, with acks, rejected events and injected faults."""

from __future__ import annotations

from datetime import datetime

import orjson
import pytest

from pipelines.sinks import make_sink
from tests.sinks.conftest import FAST, HANGS, check_exactly_once, ids_of
from tests.sinks.servers import Faults, HecServer


def test_envelopes_follow_the_hec_event_format(event_lines: list[bytes], hec_token: str) -> None:
    lines = event_lines[:40]
    with HecServer(hec_token) as srv:
        sink = make_sink(f"hec:{srv.url}?index=audit&sourcetype=cloudaudit&batch_events=7&host=pipeline-1")
        result = sink.send(lines)
        sink.close()
    check_exactly_once(lines, result, srv.ids())
    assert srv.requests == 6  # 40 events, 7 a request
    for env, line in zip(srv.events, lines, strict=True):
        event = orjson.loads(line)
        assert env["event"]["id"] == event["id"]
        assert env["time"] == pytest.approx(datetime.fromisoformat(event["when"]["time"]).timestamp(), abs=0.0006)
        assert round(env["time"], 3) == env["time"]
        assert (env["index"], env["sourcetype"], env["host"]) == ("audit", "cloudaudit", "pipeline-1")
        assert env["source"] == f"cloudaudit:{event['where']['provider']}"
        assert "raw" not in env["event"]  # raw=false is the SIEM default
        event.pop("raw")
        assert env["event"] == event  # the canonical projection


def test_raw_is_sent_when_asked_and_bytes_limit_batches(event_lines: list[bytes], hec_token: str) -> None:
    lines = event_lines[:30]
    with HecServer(hec_token) as srv:
        result = make_sink(f"hec:{srv.url}?raw=true&gzip=false&batch_bytes=20000").send(lines)
    check_exactly_once(lines, result, srv.ids())
    assert all(isinstance(e["event"]["raw"], str) for e in srv.events)
    assert srv.requests > 1  # by bytes: 30 events are more than 20 kB


def test_a_bad_event_is_dead_lettered_alone(event_lines: list[bytes], hec_token: str) -> None:
    lines = event_lines[:60]
    ids = ids_of(lines)
    poison = frozenset({ids[3], ids[17], ids[18], ids[59]})
    with HecServer(hec_token, poison=poison) as srv:
        result = make_sink(f"hec:{srv.url}?batch_events=25&{FAST}").send([*lines, b"not json", b""])
    assert [d.code for d in result.dead] .count("invalid_event") == 1
    result.dead = [d for d in result.dead if d.code != "invalid_event"]
    check_exactly_once(lines, result, srv.ids())
    assert {orjson.loads(d.payload)["id"] for d in result.dead} == poison
    assert {d.code for d in result.dead} == {"hec_rejected"}
    assert all("Invalid data format" in d.reason and d.attempts == 1 for d in result.dead)


def test_a_wrong_token_dead_letters_at_once_and_says_so_without_the_token(
    event_lines: list[bytes], hec_token: str
) -> None:
    lines = event_lines[:10]
    with HecServer("another-token") as srv:
        result = make_sink(f"hec:{srv.url}?{FAST}").send(lines)
    assert srv.requests == 1  # not retried: waiting does not fix a token
    assert result.delivered_ids == [] and {d.code for d in result.dead} == {"hec_unauthorized"}
    assert all(hec_token not in d.reason and "Invalid token" in d.reason for d in result.dead)


def test_ack_disabled_on_the_token_is_explained(event_lines: list[bytes], hec_token: str) -> None:
    with HecServer(hec_token, ack=False) as srv:
        sink = make_sink(f"hec:{srv.url}?ack=true&{FAST}")
        result = sink.send(event_lines[:5])
    # The event POST succeeds without an ackId: nothing can be confirmed.
    assert {d.code for d in result.dead} == {"hec_rejected"}
    assert "without an ackId" in result.dead[0].reason


def test_unconfirmed_acks_are_sent_again(event_lines: list[bytes], hec_token: str) -> None:
    lines = event_lines[:100]
    faults = Faults(seed=11)  # no request faults: only lost acks
    # An ack that is not lost comes true on the stand-in's first to third poll, and the seeded losses need five
    # attempts. ack_timeout is wall time: at 0.1 s and 10 retries, the whole send spanned about a second, and a
    # busy second on a loaded CI machine timed out good acks until the retries ran out. Half a second and 20
    # retries cost nothing when nothing stalls and ride out a stall of several seconds.
    with HecServer(hec_token, faults=faults, ack=True, ack_loss=0.4) as srv:
        sink = make_sink(f"hec:{srv.url}?ack=true&ack_poll=0.01&ack_timeout=0.5&batch_events=10&retries=20&{FAST}")
        result = sink.send(lines)
    assert srv.acks_lost > 0
    check_exactly_once(lines, result, srv.ids())
    assert not result.dead


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fault_injection_every_event_once_or_dead_lettered(
    event_lines: list[bytes], hec_token: str, seed: int
) -> None:
    faults = Faults(seed=seed, p429=0.12, p503=0.12, reset=0.1, timeout=0.04, hang_seconds=0.4, retry_after="1")
    with HecServer(hec_token, faults=faults, ack=True, ack_loss=0.1) as srv:
        sink = make_sink(
            f"hec:{srv.url}?ack=true&ack_poll=0.01&ack_timeout=0.2&batch_events=20&retries=10&{HANGS}"
        )
        result = sink.send(event_lines)
        sink.close()
    check_exactly_once(event_lines, result, srv.ids())
    assert sum(faults.counts[f] for f in ("429", "503", "reset", "timeout")) > 0


def test_when_retries_run_out_the_rest_are_dead_letters(event_lines: list[bytes], hec_token: str) -> None:
    lines = event_lines[:200]
    faults = Faults(seed=5, p429=0.3, p503=0.3, reset=0.1)
    with HecServer(hec_token, faults=faults) as srv:
        result = make_sink(f"hec:{srv.url}?batch_events=10&retries=1&{FAST}").send(lines)
    check_exactly_once(lines, result, srv.ids())
    assert result.dead and result.delivered_ids
    assert {d.code for d in result.dead} == {"retries_exhausted"}
    assert all(d.attempts == 2 and "gave up after 2 attempts" in d.reason for d in result.dead)


def test_an_endpoint_that_is_down_is_retried_then_dead_lettered(event_lines: list[bytes], hec_token: str) -> None:
    with HecServer(hec_token) as srv:
        url = srv.url  # then nothing listens there
    result = make_sink(f"hec:{url}?retries=2&{FAST}").send(event_lines[:3])
    assert [d.code for d in result.dead] == ["retries_exhausted"] * 3
    assert "connection failed" in result.dead[0].reason


def test_an_unknown_index_is_a_configuration_problem_not_a_retry(event_lines: list[bytes], hec_token: str) -> None:
    with HecServer(hec_token, indexes=frozenset({"audit"})) as srv:
        result = make_sink(f"hec:{srv.url}?index=audti&{FAST}").send(event_lines[:4])
    assert srv.requests == 1 and [d.code for d in result.dead] == ["hec_rejected"] * 4
    assert "Incorrect index" in result.dead[0].reason


def test_lines_that_are_not_events_are_dead_letters_not_blockers(event_lines: list[bytes], hec_token: str) -> None:
    bad_time = orjson.loads(event_lines[1])
    bad_time["when"]["time"] = "yesterday"
    lines = [event_lines[0], orjson.dumps(bad_time), b"[1, 2]", b'{"id": "x"}', event_lines[2]]
    with HecServer(hec_token) as srv:
        result = make_sink(f"hec:{srv.url}?{FAST}").send(lines)
    assert srv.requests == 1 and len(srv.ids()) == 2
    assert [d.code for d in result.dead] == ["invalid_event"] * 3
    assert result.dead[0].location == bad_time["source"]["location"]
    assert "yesterday" in result.dead[0].reason
