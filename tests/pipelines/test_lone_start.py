"""Lone Azure Start rows in the batch pipeline (pipelines/stages/lone_start.py): a Start row without its
terminal row becomes an event with outcome unknown; a resolved one stays a counted non-event."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import orjson
import pyarrow.parquet as pq

from pipelines import batch
from pipelines.settings import RunConfig, Settings
from pipelines.stages.lone_start import lone_start_events
from tests.pipelines.test_batch import check_output_tree

SUB = "/subscriptions/3c2d1e0f-9a8b-4c7d-8e6f-5a4b3c2d1e0f/resourceGroups/rg-ops/providers/Microsoft.Storage"
LIST_KEYS = "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION"
WRITE = "MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE"
INTERMEDIATE = "azure.activity.intermediate"


def row(op: str, status: str, corr: str, minute: int, account: str) -> dict[str, Any]:
    return {
        "time": f"2026-05-11T08:{minute:02d}:30.0000000Z", "operationName": op, "category": "Administrative",
        "resultType": status, "correlationId": corr, "callerIpAddress": "203.0.113.41",
        "resourceId": f"{SUB}/storageAccounts/{account}",
        "identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "kim@example.net"}},
    }


def write_input(folder: Path) -> Path:
    """Two hourly Azure exports: a listKeys Start (and an Accept row) that never ends, a write whose Start is in the first
    file and its Accept and Succeeded rows in the second, and a delete that is a single Succeeded row."""
    first = [
        row(LIST_KEYS, "Accept", "9f1e2d3c-0001-4a5b-8c7d-000000000001", 4, "stkeys"),  # earlier, not a Start
        row(LIST_KEYS, "Start", "9f1e2d3c-0001-4a5b-8c7d-000000000001", 5, "stkeys"),
        row(WRITE, "Start", "9f1e2d3c-0002-4a5b-8c7d-000000000002", 58, "stwrite"),
    ]
    second = [
        row(WRITE, "Accept", "9f1e2d3c-0002-4a5b-8c7d-000000000002", 59, "stwrite"),
        row(WRITE, "Succeeded", "9F1E2D3C-0002-4A5B-8C7D-000000000002", 59, "stwrite"),
        row("MICROSOFT.STORAGE/STORAGEACCOUNTS/DELETE", "Succeeded", "9f1e2d3c-0003-4a5b-8c7d-000000000003", 30,
            "stgone"),
    ]
    for hour, rows in (("h=08", first), ("h=09", second)):
        (folder / hour).mkdir(parents=True)
        (folder / hour / "PT1H.json").write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    return folder


def check(out: Path, summary: dict[str, Any]) -> None:
    assert summary["invariant"]["holds"], summary
    assert summary["records_read"] == 6 and summary["events_normalized"] == 3
    # The Start and Accept rows of the write stay non-events; the listKeys Start is an event, counted once,
    # and its Accept row stays a non-event.
    assert summary["non_events"] == {INTERMEDIATE: 3}
    assert summary["events_written"] == {"azure": {"success": 2, "unknown": 1}}
    siem = [orjson.loads(line) for p in sorted(out.glob("siem/*.jsonl")) for line in p.read_bytes().splitlines()]
    lone = [e for e in siem if e["what"]["outcome"] == "unknown"]
    assert len(siem) == 3 and len(lone) == 1
    assert lone[0]["what"]["action"] == "microsoft.storage:storageaccounts/listkeys/action"
    assert lone[0]["how"]["correlation_id"] == "9f1e2d3c-0001-4a5b-8c7d-000000000001"
    assert lone[0]["who"]["actor"]["email"] == "kim@example.net"
    assert orjson.loads(lone[0]["raw"])["resultType"] == "Start"  # the Start row stands for the operation
    cold = pq.read_table(out / "cold" / "events").to_pylist()
    assert sorted(e["id"] for e in cold) == sorted(e["id"] for e in siem)


def test_cloudaudit_run_turns_a_lone_start_into_an_event(
    cloudaudit: Callable[..., CompletedProcess[str]], tmp_path: Path
) -> None:
    folder = write_input(tmp_path / "in")
    out = tmp_path / "out"
    p = cloudaudit("run", "--input", str(folder), "--output", str(out), "--dedup-shards", "1")
    assert p.returncode == 0, p.stderr
    assert ": holds" in p.stdout
    check(out, orjson.loads((out / "_summary.json").read_bytes()))

    # A second run over the same input writes nothing new: the lone Start's id is stable.
    again = cloudaudit("run", "--input", str(folder), "--output", str(out), "--dedup-shards", "1")
    assert again.returncode == 0, again.stderr
    summaries = sorted(out.glob("_runs/*/_summary.json")) or [out / "_summary.json"]
    last = orjson.loads(summaries[-1].read_bytes())
    assert last["invariant"]["holds"] and last["already_stored"] + last["duplicates_dropped"] == 3


def test_the_runners_shuffle_path_resolves_the_same(tmp_path: Path) -> None:
    folder = write_input(tmp_path / "in")
    out = tmp_path / "out"
    summary = batch.run(RunConfig(inputs=[str(folder)], output=str(out), settings=Settings(dedup_shards=2),
                                  shuffle=True))
    check_output_tree(out, summary)
    check(out, orjson.loads((out / "_summary.json").read_bytes()))


def test_lone_start_events_gives_the_ids_a_run_adds(tmp_path: Path) -> None:
    folder = write_input(tmp_path / "in")
    events = lone_start_events(sorted(str(p) for p in folder.rglob("PT1H.json")))
    assert [(e.what.action, e.what.outcome) for e in events] == [
        ("microsoft.storage:storageaccounts/listkeys/action", "unknown")
    ]


def test_an_end_in_another_spelling_resolves_and_keep_raw_is_kept(tmp_path: Path) -> None:
    corr = "9f1e2d3c-0004-4a5b-8c7d-000000000004"
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_bytes(orjson.dumps(row(WRITE, "Started", corr, 10, "stcase")) + b"\n"
                  + orjson.dumps(row(LIST_KEYS, "In Progress", corr, 11, "stcase")))
    b.write_bytes(orjson.dumps(row(WRITE.lower(), "Success", corr.upper(), 12, "stcase")))
    events = lone_start_events([str(a), str(b)], keep_raw=False)
    # The write ended (other letter case); the listKeys under the same correlationId did not.
    assert [(e.what.operation, e.what.outcome, e.raw) for e in events] == [(LIST_KEYS, "unknown", None)]


def test_rows_inside_an_event_hub_envelope_are_watched_too(tmp_path: Path) -> None:
    """Items of a record envelope are dispatched straight to their connector: the watching wrapper must be
    the one they reach, or a Start in a ``{"records": [...]}`` body is never held and its terminal row in
    another shape never seen."""
    corr = "9f1e2d3c-0004-4a5b-8c7d-000000000004"
    lone = "9f1e2d3c-0005-4a5b-8c7d-000000000005"
    hub = tmp_path / "hub.json"
    hub.write_bytes(orjson.dumps({"records": [row(WRITE, "Start", corr, 10, "sthub"),
                                              row(LIST_KEYS, "Start", lone, 11, "stlone")]}))
    ends = tmp_path / "ends.json"
    ends.write_bytes(orjson.dumps({"records": [row(WRITE, "Succeeded", corr, 12, "sthub")]}))
    events = lone_start_events([str(hub), str(ends)])
    assert [(e.what.operation.upper(), e.what.outcome) for e in events] == [(LIST_KEYS, "unknown")]


def test_an_operation_that_ends_with_the_same_reader_is_resolved_before_the_shuffle(tmp_path: Path) -> None:
    """Only rows whose end the reader did not see cross the GroupByKey, and they carry their text, not the
    parsed record (memory: a held row as Python objects cost about ten times its JSON)."""
    from collections import Counter

    from connectors.base import MapContext
    from connectors.errors import NonEvent
    from connectors.normalize import Normalizer
    from pipelines.stages.lone_start import StartCollector

    ended, lone = "9f1e2d3c-0006-4a5b-8c7d-000000000006", "9f1e2d3c-0007-4a5b-8c7d-000000000007"
    data = b"\n".join(orjson.dumps(r) for r in (
        row(WRITE, "Start", ended, 10, "stboth"), row(WRITE, "Accept", ended, 11, "stboth"),
        row(WRITE, "Succeeded", ended, 12, "stboth"), row(LIST_KEYS, "Start", lone, 13, "stlone"),
    ))
    normalizer, collector = Normalizer(), StartCollector(keep_raw=True)
    collector.install(normalizer)
    for result in normalizer.blob(data, "one.json"):
        if isinstance(result, NonEvent):
            assert collector.take(result)
    counts: Counter[str] = Counter()
    batches = collector.take_batches(counts)
    held = [entry for _, (starts, _) in batches for entry in starts.values()]
    assert counts == Counter({f"non_events/{INTERMEDIATE}": 2})  # the Start and Accept of the write
    assert len(held) == 1
    _rank, ctx, rows = held[0]
    assert isinstance(ctx, MapContext) and orjson.loads(ctx.raw)["correlationId"] == lone and rows == 1


def test_generated_data_books_a_cut_operation_as_the_run_does(tmp_path: Path) -> None:
    """The sample generator cuts its last Azure operation short after the Start row when the records asked
    for run out: its manifest counts that operation (``lone_starts``), independently of the pipeline (by
    grouping the rows it wrote), and a batch run's summary then matches the books the benchmarks check."""
    from benchmarks._common import check_against_manifest
    from sampledata import generate

    data = tmp_path / "data"
    m = generate(str(data), 101, seed=3, layout="bench", clouds=["azure"])
    ops: dict[tuple[str, str], set[str]] = {}
    for rel in m["files"]:
        for line in (data / rel).read_bytes().splitlines():
            r = orjson.loads(line)
            ops.setdefault((r["operationName"], r["correlationId"]), set()).add(r["resultType"])
    unended = [k for k, kinds in ops.items() if not kinds & {"Success", "Failure"}]
    assert m["lone_starts"] == len(unended) == 1

    summary = batch.run(RunConfig(inputs=[str(data)], output=str(tmp_path / "out"), settings=Settings()))
    assert summary.non_events[INTERMEDIATE] == m["non_events"][INTERMEDIATE] - 1
    assert check_against_manifest(summary.to_dict(), m) == []
