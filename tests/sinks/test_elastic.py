"""The Elasticsearch/OpenSearch sink against a local _bulk endpoint: ids, per-item errors, faults."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from pipelines.sinks import make_sink
from tests.sinks.conftest import FAST, HANGS, check_exactly_once, ids_of
from tests.sinks.servers import BulkServer, Faults

API_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ELASTIC_API_KEY", API_KEY)
    monkeypatch.delenv("ELASTIC_API_KEY_FILE", raising=False)
    return API_KEY


def test_documents_have_the_event_id_a_dated_index_and_a_timestamp(event_lines: list[bytes], api_key: str) -> None:
    lines = event_lines[:50]
    with BulkServer(api_key) as srv:
        result = make_sink(f"elastic:{srv.url}?index=audit-{{provider}}-{{date}}&batch_events=20&projection=native").send(lines)
    check_exactly_once(lines, result, srv.ids())
    assert srv.requests == 3
    for line in lines:
        event = orjson.loads(line)
        day = event["when"]["time"][:10].replace("-", ".")
        doc = srv.docs[f"audit-{event['where']['provider']}-{day}"][event["id"]]
        assert doc["@timestamp"] == event["when"]["time"]
        assert "raw" not in doc
        event.pop("raw")
        assert {k: v for k, v in doc.items() if k != "@timestamp"} == event


def test_sending_again_adds_nothing(event_lines: list[bytes], api_key: str) -> None:
    """A retried bundle or a replayed dead letter: create answers 409, which counts as delivered."""
    lines = event_lines[:80]
    with BulkServer(api_key) as srv:
        sink = make_sink(f"elastic:{srv.url}")
        first = sink.send(lines)
        again = sink.send(lines)
    check_exactly_once(lines, first, srv.ids())
    check_exactly_once(lines, again, srv.ids())
    assert srv.item_statuses == Counter({201: 80, 409: 80})
    assert set(srv.writes.values()) == {1}


def test_rejected_items_go_alone_and_busy_items_are_retried_alone(event_lines: list[bytes], api_key: str) -> None:
    ids = ids_of(event_lines)
    poison = frozenset(ids[i] for i in (0, 7, 300, len(ids) - 1))
    faults = Faults(seed=3)
    with BulkServer(api_key, faults=faults, item_429=0.2, poison=poison) as srv:
        result = make_sink(f"elastic:{srv.url}?batch_events=100&retries=8&{FAST}").send(event_lines)
    check_exactly_once(event_lines, result, srv.ids())
    assert {orjson.loads(d.payload)["id"] for d in result.dead} == poison
    assert {d.code for d in result.dead} == {"elastic_rejected"}
    assert all("mapper_parsing_exception" in d.reason for d in result.dead)
    assert srv.item_statuses[429] > 0
    # Busy items were retried, and only they: no document was written twice.
    assert set(srv.writes.values()) == {1}


def test_a_wrong_key_dead_letters_without_retrying(event_lines: list[bytes], api_key: str) -> None:
    with BulkServer("another-key") as srv:
        result = make_sink(f"elastic:{srv.url}?{FAST}").send(event_lines[:5])
    assert srv.requests == 1 and {d.code for d in result.dead} == {"elastic_unauthorized"}
    assert all(api_key not in d.reason for d in result.dead)


@pytest.mark.parametrize("seed", [1, 2])
def test_fault_injection_every_event_once_or_dead_lettered(
    event_lines: list[bytes], api_key: str, seed: int
) -> None:
    # "lost": the cluster wrote the documents, then the connection broke before the answer.
    faults = Faults(seed=seed, p429=0.1, p503=0.1, reset=0.1, timeout=0.04, lost=0.1, hang_seconds=0.4)
    with BulkServer(api_key, faults=faults, item_429=0.05) as srv:
        result = make_sink(f"elastic:{srv.url}?batch_events=25&retries=10&{HANGS}").send(event_lines)
    check_exactly_once(event_lines, result, srv.ids())
    assert faults.counts["lost"] > 0
    assert set(srv.writes.values()) == {1}  # the lost requests' documents were not written again


def test_op_index_overwrites_and_still_keeps_one_document(event_lines: list[bytes], api_key: str) -> None:
    lines = event_lines[:60]
    faults = Faults(seed=4, lost=0.3)
    with BulkServer(api_key, faults=faults) as srv:
        result = make_sink(f"elastic:{srv.url}?op=index&batch_events=10&retries=8&{FAST}").send(lines)
    check_exactly_once(lines, result, srv.ids())
    assert max(srv.writes.values()) > 1  # overwritten, not duplicated
