"""The engine on events that went through the real normalizer and enrichment: thresholds, suppression,
related activity across clouds, order independence, and the prefilter's three forms (Python on the
model, Python on the canonical JSON, SQL on Parquet) agreeing."""

from __future__ import annotations

import random

import orjson
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detections.beam import prefilter_mask, read_keys
from detections.engine import Engine
from detections.hunt import prefilter_sql, rule_sql
from detections.lines import detect_person, keyed
from detections.loader import load_pack
from detections.testing import case_files, enrichment_context, events_of_file
from schemas.arrow import to_table
from tests.detections.records import cloudtrail, events, gcp_entry

PACK = {r.id: r for r in load_pack().rules}


def _secret_reads(minutes: list[float], same: bool = False) -> list[dict]:
    out = []
    for i, m in enumerate(minutes):
        s = int(m * 60)
        out.append(cloudtrail("GetSecretValue", "secretsmanager", f"2026-04-01T09:{s // 60:02d}:{s % 60:02d}Z",
                              request={"secretId": "one" if same else f"team/secret-{i}"}, n=i))
    return out


def test_threshold_counts_distinct_values_in_a_sliding_window() -> None:
    engine = Engine([PACK["bulk_secret_retrieval"]])
    (alert,) = engine.detect(events(*_secret_reads([i * 0.5 for i in range(11)])))
    assert len(alert["event_ids"]) == 11 and alert["key"] == "P-7001" and alert["key_kind"] == "person"
    # ten in the window and the eleventh 11 minutes after the first: never more than 10 at once
    assert engine.detect(events(*_secret_reads([0, *[10 + i * 0.1 for i in range(10)]]))) == []
    assert engine.detect(events(*_secret_reads([i * 1.1 for i in range(11)]))) == []
    assert engine.detect(events(*_secret_reads([i * 0.2 for i in range(20)], same=True))) == []


def test_suppressed_hits_are_counted_and_kept() -> None:
    recs = [cloudtrail("StopLogging", "cloudtrail", t, request={"name": "org"}, n=i)
            for i, t in enumerate(["2026-04-01T09:00:00Z", "2026-04-01T09:20:00Z", "2026-04-01T09:50:00Z",
                                   "2026-04-01T11:30:00Z"])]
    first, second = Engine([PACK["logging_disabled"]]).detect(events(*recs))
    assert first["suppressed"] == 2 and len(first["event_ids"]) == 3
    assert first["first"] == "2026-04-01T09:00:00Z" and first["last"] == "2026-04-01T09:50:00Z"
    assert second["suppressed"] == 0 and second["first"] == "2026-04-01T11:30:00Z"


def test_related_is_the_same_persons_surrounding_hour_in_every_cloud() -> None:
    evs = events(
        cloudtrail("StopLogging", "cloudtrail", "2026-04-01T09:00:00Z", request={"name": "org"}, n=1),
        gcp_entry("google.logging.v2.ConfigServiceV2.CreateExclusion", "logging", "2026-04-01T09:10:00Z", n=2),
        gcp_entry("google.iam.admin.v1.ListServiceAccounts", "iam", "2026-04-01T11:00:00Z", n=3),  # too late
        gcp_entry("google.iam.admin.v1.ListServiceAccounts", "iam", "2026-04-01T09:05:00Z",
                  email="lee.mbeki@example.com", n=4),  # someone else
    )
    (alert,) = Engine([PACK["logging_disabled"]]).detect(evs)
    (rel,) = alert["related"]
    assert rel["provider"] == "gcp" and "logging.disable" in rel["risk_tags"]
    assert alert["rule"]["runbook"].startswith("# ") and alert["events"][0]["who"]["person"]["id"] == "P-7001"


@settings(max_examples=8, deadline=None)
@given(st.randoms(use_true_random=False))
def test_alerts_do_not_depend_on_event_order(rnd: random.Random) -> None:
    evs = _all_case_events()
    engine = Engine(list(PACK.values()))
    shuffled = list(evs)
    rnd.shuffle(shuffled)
    assert engine.detect(shuffled) == engine.detect(evs)


_CACHE: list = []


def _all_case_events() -> list:
    if not _CACHE:
        ctx = enrichment_context()
        seen = set()
        for r in PACK.values():
            for kind in ("match", "nomatch"):
                for path in case_files(r, kind):
                    for e in events_of_file(path, ctx)[0]:
                        if e.id not in seen:
                            seen.add(e.id)
                            _CACHE.append(e)
    return _CACHE


def test_prefilter_agrees_on_model_json_and_parquet() -> None:
    import duckdb

    evs = _all_case_events()
    keys = read_keys(b"\n".join(e.model_dump_json().encode() for e in evs))
    table = to_table([orjson.loads(e.model_dump_json()) for e in evs])
    table = table.append_column("provider", pa.array([e.where.provider for e in evs]))
    con = duckdb.connect()
    con.register("events", table)
    for r in PACK.values():
        want = {e.id for e in evs if r.prefilter.passes(e)}
        mask = prefilter_mask(keys, [r.prefilter])
        assert want == {i for i, m in zip(keys.column("id").to_pylist(), mask, strict=True) if m}, r.id
        got = {row[0] for row in con.sql(f"SELECT id FROM events WHERE {rule_sql(r)}").fetchall()}
        assert got == want, r.id
    every = {row[0] for row in con.sql(f"SELECT id FROM events WHERE {prefilter_sql(list(PACK.values()))}").fetchall()}
    assert every == {e.id for e in evs if Engine(list(PACK.values())).wants(e)}


def test_the_pipeline_functions_give_the_engines_alerts() -> None:
    evs = _all_case_events()
    engine = Engine(list(PACK.values()))
    batch = b"\n".join(e.model_dump_json().encode() for e in evs) + b"\n\n  \n"  # blank lines are skipped
    groups: dict[str, list[bytes]] = {}
    for key, item in keyed(batch, [r.prefilter for r in engine.rules]):
        groups.setdefault(key, []).append(item)
    alerts = [a for items in groups.values() for a in detect_person(items, engine)]
    ids = lambda xs: sorted((a["id"], tuple(a["event_ids"]), tuple(x["id"] for x in a["related"])) for a in xs)  # noqa: E731
    want = engine.detect(evs)
    assert ids(alerts) == ids(want)
    # the whole documents too: events decoded from the lines equal the models' dumps
    assert sorted(alerts, key=lambda a: a["id"]) == sorted(want, key=lambda a: a["id"])


def test_disabled_rules_do_not_run() -> None:
    rule = PACK["leave_organization"]
    disabled = rule.meta.model_copy(update={"mode": "disabled"})
    from detections.rule import Rule

    assert Engine([Rule(disabled, rule.match)]).rules == []
    assert Engine([Rule(disabled, rule.match)], include_disabled=True).rules != []
