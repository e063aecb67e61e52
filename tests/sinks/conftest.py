from __future__ import annotations

from pathlib import Path

import pytest

from connectors.normalize import Normalizer
from schemas.event import Event
from tests.conftest import ROOT


def canonical_lines(folder: Path) -> list[bytes]:
    """Canonical event JSON lines (what the pipeline hands the sinks) of every file under ``folder``,
    one per event id."""
    n = Normalizer()
    seen: dict[str, bytes] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        with open(path, "rb") as f:
            for r in n.stream(f, str(path.relative_to(ROOT))):
                if isinstance(r, Event) and r.id not in seen:
                    seen[r.id] = r.model_dump_json().encode()
    return list(seen.values())


@pytest.fixture(scope="session")
def event_lines() -> list[bytes]:
    """About 600 real-shaped events of the three clouds (the bundled samples)."""
    lines = canonical_lines(ROOT / "samples")
    assert len(lines) > 300
    return lines


@pytest.fixture
def hec_token(monkeypatch: pytest.MonkeyPatch) -> str:
    token = "11111111-2222-3333-4444-555555555555"
    monkeypatch.setenv("SPLUNK_HEC_TOKEN", token)
    monkeypatch.delenv("SPLUNK_HEC_TOKEN_FILE", raising=False)
    return token


# Retries without slow sleeps (options, not patches). The client still waits 2 s for an answer: for an
# endpoint that does not deduplicate (Sentinel, HEC without acks), a request the client gave up on but the
# endpoint finished is a real duplicate when sent again, so the client must outwait any stall of a loaded
# machine, or "exactly once" fails for a reason the test is not about (a 0.25 s timeout did, on CI).
FAST = "backoff=0.01&max_backoff=0.02&timeout=2"
# The stand-ins' injected hangs end when the client gives up, so each costs the client's timeout. Where a
# request sent again cannot be a duplicate (HEC with indexer acks, Elasticsearch's create by id), tests with
# hangs wait 0.25 s.
HANGS = "backoff=0.01&max_backoff=0.02&timeout=0.25"


def ids_of(lines: list[bytes]) -> list[str]:
    import orjson

    return [orjson.loads(line)["id"] for line in lines]


def check_exactly_once(lines: list[bytes], result: object, in_sink: list[str]) -> None:
    """Every input event is in the sink exactly once or in the dead letters, never both, never neither;
    what the sink says it delivered is what the endpoint has; dead letters carry the original line."""
    from collections import Counter

    import orjson

    from pipelines.sinks.base import SendResult

    assert isinstance(result, SendResult)
    want = ids_of(lines)
    counts = Counter(in_sink)
    twice = [i for i, n in counts.items() if n > 1]
    assert twice == [], f"{len(twice)} events in the sink more than once"
    dead_ids = [orjson.loads(d.payload)["id"] for d in result.dead]
    assert len(dead_ids) == len(set(dead_ids))
    assert set(result.delivered_ids) == set(counts), "the sink's delivered ids differ from the endpoint's"
    assert len(result.delivered_ids) == len(set(result.delivered_ids))
    assert set(result.delivered_ids).isdisjoint(dead_ids)
    assert sorted(result.delivered_ids + dead_ids) == sorted(want)
    by_id = dict(zip(want, lines, strict=True))
    for d in result.dead:
        event = orjson.loads(d.payload)
        assert d.stage == "sink" and d.code and d.reason and d.attempts >= 1
        assert d.payload == by_id[event["id"]]
        assert d.location == event["source"]["location"]
