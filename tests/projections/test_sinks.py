"""Each SIEM sink delivers each projection (native, OCSF, ECS) to its local stand-in over HTTP(S):
Splunk HEC, Elasticsearch _bulk and the Azure Monitor Logs Ingestion API behind Sentinel."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pipelines.sinks import make_sink
from pipelines.sinks.config import SinkConfigError
from tests.conftest import ROOT
from tests.sinks.conftest import FAST, canonical_lines
from tests.sinks.servers import BulkServer, HecServer, IngestionServer
from tests.sinks.test_sentinel import DCR, STREAM, TOKEN, Azure, azure, cert  # noqa: F401 - fixtures

HEC_TOKEN = "11111111-2222-3333-4444-555555555555"
API_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
PROJECTIONS = ("native", "ocsf", "ecs")


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    # a few dozen events of each cloud from the demo samples
    all_lines = canonical_lines(ROOT / "samples")
    by_provider: dict[str, list[bytes]] = {}
    for line in all_lines:
        by_provider.setdefault(orjson.loads(line)["where"]["provider"], []).append(line)
    return [line for group in by_provider.values() for line in group[:15]]


def event_id(doc: dict[str, Any], projection: str) -> str:
    """Where each projection keeps the cloudaudit event id."""
    if projection == "ocsf":
        return str(doc["metadata"]["uid"])
    if projection == "ecs":
        return str(doc["event"]["id"])
    return str(doc["id"])


def check_docs(docs: list[dict[str, Any]], lines: list[bytes], projection: str) -> None:
    want = {orjson.loads(line)["id"] for line in lines}
    assert sorted(event_id(d, projection) for d in docs) == sorted(want)
    for d in docs:
        if projection == "ocsf":
            assert d["metadata"]["version"] == "1.8.0" and d["class_uid"] in (3001, 3002, 3005, 6003)
        elif projection == "ecs":
            assert d["event"]["kind"] == "event" and "cloud" in d and "when" not in d
        else:
            assert "when" in d and "raw" not in d


@pytest.mark.parametrize("projection", PROJECTIONS)
def test_hec_delivers_each_projection(lines: list[bytes], projection: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPLUNK_HEC_TOKEN", HEC_TOKEN)
    with HecServer(HEC_TOKEN) as srv:
        result = make_sink(f"hec:{srv.url}?projection={projection}&{FAST}").send(lines)
    assert not result.dead and len(result.delivered_ids) == len(lines)
    check_docs([e["event"] for e in srv.events], lines, projection)


@pytest.mark.parametrize("projection", [*PROJECTIONS, None])
def test_bulk_delivers_each_projection(lines: list[bytes], projection: str | None,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELASTIC_API_KEY", API_KEY)
    option = f"&projection={projection}" if projection else ""  # none given: ECS, the default for _bulk
    with BulkServer(API_KEY) as srv:
        result = make_sink(f"elastic:{srv.url}?index=audit-{{date}}{option}&{FAST}").send(lines)
    assert not result.dead and len(result.delivered_ids) == len(lines)
    docs = [d for by_id in srv.docs.values() for d in by_id.values()]
    check_docs(docs, lines, projection or "ecs")
    for by_id in srv.docs.values():
        for doc_id, doc in by_id.items():
            assert event_id(doc, projection or "ecs") == doc_id  # _id stays the event id in every projection


@pytest.mark.parametrize("projection", PROJECTIONS)
def test_sentinel_delivers_each_projection(lines: list[bytes], projection: str, azure: Azure) -> None:  # noqa: F811
    with IngestionServer(TOKEN, DCR, azure.cert, azure.key) as srv:
        sink = make_sink(f"sentinel:{srv.url}?dcr={DCR}&stream={STREAM}&projection={projection}&{FAST}")
        result = sink.send(lines)
        sink.close()
    assert not result.dead and len(result.delivered_ids) == len(lines)
    rows = srv.rows[STREAM]
    check_docs([r["Event"] for r in rows], lines, projection)
    assert sorted(r["EventId"] for r in rows) == sorted(orjson.loads(line)["id"] for line in lines)


def test_defaults_and_unknown_projection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPLUNK_HEC_TOKEN", HEC_TOKEN)
    monkeypatch.setenv("ELASTIC_API_KEY", API_KEY)
    assert make_sink("elastic:https://es:9200").projection_name == "ecs"
    assert make_sink("opensearch:https://os:9200").projection_name == "ecs"
    assert make_sink("hec:https://splunk:8088").projection_name == "native"
    with pytest.raises(SinkConfigError, match="projection"):
        make_sink("hec:https://splunk:8088?projection=leef")
