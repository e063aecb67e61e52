"""`run --streaming --rules`: the rules on the live events (TestStream on the local streaming runner),
per person with state and an event-time timer, and the same alerts as hunting over the same events."""

from __future__ import annotations

import glob
import os
from datetime import timedelta
from pathlib import Path

import apache_beam as beam
import orjson
from apache_beam.testing.test_stream import TestStream as BeamTestStream
from apache_beam.utils.timestamp import Timestamp

from detections.alerts import read_signals
from detections.engine import Engine
from detections.hunt import hunt_cold
from detections.lines import detect_person, keyed
from detections.loader import load_pack
from detections.streaming import session_gap
from detections.testing import TEST_REFERENCE
from enrichers.config import EnrichmentConfig
from pipelines import streaming
from pipelines.settings import RunConfig
from tests.detections.records import cloudtrail, events

RULES = [r for r in load_pack().rules if r.meta.mode != "disabled"]


def _trail(*records: dict) -> bytes:
    return orjson.dumps({"Records": list(records)})


def _records() -> list[list[dict]]:
    """Three deliveries: a trail stopped; a burst of denied calls by another user (a monitor-mode
    threshold); an hour later, the first user again (suppression and related activity stay apart)."""
    first = [cloudtrail("StopLogging", "cloudtrail", "2026-04-01T09:00:00Z", request={"name": "org"}, n=1),
             cloudtrail("DescribeTrails", "cloudtrail", "2026-04-01T09:05:00Z", n=2)]
    burst = [cloudtrail("DescribeInstances", "ec2", f"2026-04-01T09:{10 + i // 2:02d}:{(i % 2) * 30:02d}Z",
                        user="lee.mbeki", error="AccessDenied", n=10 + i) for i in range(12)]
    later = [cloudtrail("DeleteTrail", "cloudtrail", "2026-04-01T11:30:00Z", request={"name": "org"}, n=40),
             cloudtrail("StopLogging", "cloudtrail", "2026-04-01T11:40:00Z", request={"name": "org"}, n=41),
             *(cloudtrail("ListUsers", "iam", f"2026-04-01T11:3{i}:00Z", user="sam.ortiz", error="AccessDenied",
                          n=50 + i) for i in range(3))]  # denied, but far too few for the threshold
    return [first, burst, later]


def _signature(alerts: list[dict]) -> list[tuple]:
    return sorted(
        (a["id"], a["rule"]["id"], a["mode"], a["key"], a["first"], a["last"], a["suppressed"],
         tuple(a["event_ids"]), tuple(r["id"] for r in a["related"]))
        for a in alerts
    )


def test_streaming_alerts_equal_hunting_alerts(tmp_path: Path) -> None:
    deliveries = _records()
    t0 = Timestamp.from_rfc3339("2026-04-01T09:00:00Z")
    stream = BeamTestStream(coder=beam.coders.PickleCoder())
    for i, recs in enumerate(deliveries):
        at = t0 + i * 1800
        stream = stream.add_elements([beam.window.TimestampedValue((f"test://d{i}", _trail(*recs)), at)])
        stream = stream.advance_watermark_to(at + 60)
    out = tmp_path / "out"
    cfg = RunConfig(output=str(out), streaming=True, rules="", window_seconds=300,
                    enrichment=EnrichmentConfig.from_file(TEST_REFERENCE))
    summary = streaming.run(cfg, blobs=stream)
    assert summary.events_normalized == sum(len(d) for d in deliveries) and not summary.deadletters

    alerted = [orjson.loads(x) for f in glob.glob(os.path.join(out, "alerts", "*.jsonl"))
               for x in Path(f).read_bytes().splitlines() if x]
    signals = read_signals(str(out))
    streamed = alerted + signals
    assert {a["rule"]["id"] for a in alerted} == {"logging_disabled"} and {a["mode"] for a in alerted} == {"alert"}
    assert [a["rule"]["id"] for a in signals] == ["denied_calls_burst"]
    # the 11:30 hits are more than the suppression period after the 09:00 alert: an alert of their own
    assert len(alerted) == 2 and all(a["related"] == [] or a["first"] < "2026-04-01T10" for a in alerted)

    hunt = hunt_cold([str(out / "cold" / "events")], RULES)
    assert _signature(streamed) == _signature(hunt.alerts)
    # the sparse denied calls are candidates, but no threshold window is dense enough to need their models
    assert hunt.stats["rows_built"] <= hunt.stats["rows_candidate"] - 3
    engine = Engine(RULES)
    assert _signature(streamed) == _signature(engine.detect(events(*[r for d in deliveries for r in d])))


def test_sessions_split_where_no_rule_can_reach_across() -> None:
    gap = session_gap(RULES)
    assert gap > max(r.meta.suppress_for for r in RULES) and gap > timedelta(minutes=30)
    # a person's history cut at gaps of ``gap`` gives the engine's alerts on the whole of it
    evs = events(*[r for d in _records() for r in d])
    engine = Engine(RULES)
    batch = b"\n".join(e.model_dump_json().encode() for e in evs)
    groups: dict[str, list[tuple]] = {}
    for key, item in keyed(batch, [r.prefilter for r in engine.rules]):
        groups.setdefault(key, []).append(item)
    whole = [a for items in groups.values() for a in detect_person(items, engine)]
    assert _signature(whole) == _signature(engine.detect(evs))
