"""The pipeline's per-element work, without Beam: reading files into spill segments and dead letters,
storing a partition, the layout, the summary and the options."""

from __future__ import annotations

import gzip
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.normalize import Normalizer
from pipelines import summary as names
from pipelines.errors import UsageError
from pipelines.layout import Layout, PartitionKey, new_run_id
from pipelines.options import expand_input, match_inputs, pipeline_options, unknown_beam_args
from pipelines.read import DEADLETTERS, SEGMENTS, FileReader, partition_key
from pipelines.settings import DEFAULT_RUNNER, Settings
from pipelines.spill import SpilledEvent, canonical_line, encode_event, read_segment, write_spill
from pipelines.store import SIEM, PartitionStore, events_table
from pipelines.summary import Summary, format_summary, from_counters, pipeline_times
from schemas.arrow import arrow_schema
from schemas.deadletter import DeadLetter
from schemas.event import Event
from tests.pipelines.conftest import fake, lines
from tests.pipelines.fakecloud import CONNECTORS as FAKE


def _event(**over: object):
    results = list(Normalizer(registered=FAKE).blob(lines(fake(1, **over)), "t"))
    (event,) = results
    return event


# --- read --------------------------------------------------------------------------------------


def test_partition_key_is_utc_hour_and_a_stable_shard() -> None:
    e = _event(provider="gcp", time="2024-05-01T23:30:00+02:00")
    provider, date, hour, shard = partition_key(e.model_dump(), 4)
    assert (provider, date, hour) == ("gcp", "2024-05-01", "21")
    assert 0 <= shard < 4
    assert partition_key(e.model_dump(), 4) == partition_key(e.model_dump(), 4)
    assert partition_key(e.model_dump(), 1)[3] == 0
    # The shard spreads ids: many events use every shard.
    shards = {partition_key(_event(eventID=f"x{i}").model_dump(), 4)[3] for i in range(64)}
    assert shards == {0, 1, 2, 3}


def test_partition_key_converts_offsets() -> None:
    e = _event()
    e.when.time = datetime(2024, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5)))
    assert partition_key(e.model_dump(), 1)[1:3] == ("2023-12-31", "19")


def test_reader_spills_events_by_key_and_batches_dead_letters(tmp_path: Path) -> None:
    data = lines(*[fake(i, "aws", 13) for i in range(7)], *[fake(i, "gcp", 2) for i in range(3)])
    data += b"not json\n" + lines({k: v for k, v in fake(9).items() if k != "time"})
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(gzip.compress(data))
    reader = FileReader(Settings(batch_size=4, dedup_shards=1, connectors=FAKE), str(tmp_path / "spill"))
    out = list(reader.read(str(src), src.stat().st_size)) + list(reader.flush())

    segments = [v for tag, v in out if tag == SEGMENTS]
    spilled: dict[tuple, list] = {}
    for key, seg in segments:
        events = read_segment(seg)
        assert len(events) == seg.count
        spilled.setdefault(key, []).extend(events)
    assert {k: len(v) for k, v in spilled.items()} == {
        ("aws", "2024-05-01", "13", 0): 7,
        ("gcp", "2024-05-01", "02", 0): 3,
    }
    event_id, blob, raw = spilled[("gcp", "2024-05-01", "02", 0)][0]
    assert orjson.loads(blob)["id"] == event_id
    assert "raw" not in orjson.loads(blob) and orjson.loads(raw)["eventID"] == "ev-gcp-0"

    letters = [orjson.loads(line) for tag, v in out if tag == DEADLETTERS for line in v.split(b"\n")]
    assert sorted((d["stage"], d["code"]) for d in letters) == [("map", "missing_time"), ("parse", "invalid_json")]
    assert all(d["location"].startswith(str(src) + "#") for d in letters)
    assert reader.counts[names.RECORDS_READ] == 12
    assert reader.counts[names.EVENTS_NORMALIZED] == 10
    assert reader.counts[names.FILES_READ] == 1
    assert reader.counts[names.deadletter_counter("parse", "invalid_json")] == 1


def test_reader_turns_an_unopenable_file_into_one_dead_letter(tmp_path: Path) -> None:
    reader = FileReader(Settings(connectors=FAKE), str(tmp_path / "spill"))
    out = list(reader.read(str(tmp_path / "vanished.json"))) + list(reader.flush())
    ((tag, blob),) = out
    letter = orjson.loads(blob)
    assert (tag, letter["stage"], letter["code"]) == (DEADLETTERS, "read", "unreadable_file")
    assert letter["location"] == str(tmp_path / "vanished.json")
    assert reader.counts[names.RECORDS_READ] == 1


# --- store -------------------------------------------------------------------------------------


def _segments(tmp_path: Path, records: list[dict], batch_size: int = 3, keep_raw: bool = True) -> list:
    src = tmp_path / "in.jsonl"
    src.write_bytes(lines(*records))
    settings = Settings(batch_size=batch_size, dedup_shards=1, keep_raw=keep_raw, connectors=FAKE)
    reader = FileReader(settings, str(tmp_path / "spill"))
    out = list(reader.read(str(src))) + list(reader.flush())
    return [seg for tag, (_key, seg) in out if tag == SEGMENTS]


def test_store_dedups_and_writes_parquet_raw_and_siem(tmp_path: Path) -> None:
    records = [fake(i, "aws", 5) for i in range(8)]
    segments = _segments(tmp_path, records + records[:3])  # three duplicates, in later segments
    layout = Layout(str(tmp_path / "out"), "RUN")
    key = PartitionKey("aws", "2024-05-01", "05", 0)
    store = PartitionStore(layout, Settings(batch_size=4))
    out = list(store.store(key, segments))

    siem = [line for tag, blob in out if tag == SIEM for line in blob.split(b"\n")]
    ids = [orjson.loads(line)["id"] for line in siem]
    assert len(ids) == len(set(ids)) == 8
    assert store.counts[names.DUPLICATES] == 3
    outcomes = Counter(r["outcome"] for r in records)
    for outcome, n in outcomes.items():
        assert store.counts[names.written_counter("aws", outcome)] == n
    assert store.counts[names.PARQUET_FILES] == store.counts[names.RAW_FILES] == 1

    parquet = Path(layout.parquet_path(key))
    assert parquet.parent == tmp_path / "out/cold/events/provider=aws/date=2024-05-01/hour=05"
    table = pq.read_table(parquet)
    assert table.schema.equals(arrow_schema())
    assert table.schema.metadata == arrow_schema().metadata
    assert sorted(table.column("id").to_pylist()) == sorted(ids)
    assert pq.ParquetFile(parquet).metadata.row_group(0).column(0).compression == "ZSTD"

    raw = gzip.decompress(Path(layout.raw_path(key)).read_bytes()).splitlines()
    assert sorted(orjson.loads(r)["eventID"] for r in raw) == sorted(r["eventID"] for r in records)


def test_store_without_raw_writes_no_archive(tmp_path: Path) -> None:
    segments = _segments(tmp_path, [fake(i) for i in range(3)], keep_raw=False)
    layout = Layout(str(tmp_path / "out"), "RUN")
    key = PartitionKey("aws", "2024-05-01", "13", 0)
    store = PartitionStore(layout, Settings(keep_raw=False))
    siem = b"".join(blob for _tag, blob in store.store(key, segments))
    assert Path(layout.parquet_path(key)).exists()
    assert pq.read_table(layout.parquet_path(key)).column("raw").null_count == 3
    assert all(orjson.loads(line)["raw"] is None for line in siem.splitlines())
    assert not Path(layout.raw_path(key)).exists()


def _broken(event: Event) -> SpilledEvent:
    """A spilled event a (buggy) mapper could produce but the Parquet schema refuses."""
    event_id, blob, raw = encode_event(event)
    doc = orjson.loads(blob)
    doc["id"], doc["when"]["time"] = None, "not a time"
    return event_id, orjson.dumps(doc), raw


def test_events_table_rejects_only_the_event_that_does_not_fit() -> None:
    good = [encode_event(_event(eventID=f"g{i}")) for i in range(3)]
    bad_one = _broken(_event(eventID="b"))
    table, kept, bad = events_table([good[0], bad_one, good[1], good[2]])
    assert table.num_rows == 3 and kept == good
    assert [(e, "Parquet schema" in reason) for e, reason in bad] == [(bad_one, True)]
    assert table.schema.equals(arrow_schema())
    assert table.column("raw").to_pylist() == [raw for _, _, raw in good]


def test_store_dead_letters_an_event_parquet_rejects(tmp_path: Path) -> None:
    good = _event(eventID="ok")
    key = ("aws", "2024-05-01", "13", 0)
    pointers = write_spill(str(tmp_path / "spill"), {key: [encode_event(good), _broken(_event(eventID="x"))]})
    store = PartitionStore(Layout(str(tmp_path / "out"), "RUN"), Settings())
    out = list(store.store(PartitionKey(*key), [seg for _, seg in pointers]))
    letters = [DeadLetter.from_dict(orjson.loads(b)) for tag, b in out if tag != SIEM]
    assert [(d.stage, d.code) for d in letters] == [("sink", "parquet_rejected")]
    assert orjson.loads(letters[0].payload)["id"] is None
    assert letters[0].location == "t#0"  # where the event was read
    assert store.counts[names.deadletter_counter("sink", "parquet_rejected")] == 1
    assert sum(v for k, v in store.counts.items() if k.startswith(names.WRITTEN)) == 1
    (siem,) = [b for tag, b in out if tag == SIEM]
    assert siem == good.model_dump_json().encode()


def test_event_is_serialized_once_and_the_siem_line_is_canonical() -> None:
    # canonical_line puts raw back at the end: that holds while raw is the model's last field.
    assert list(Event.model_fields)[-1] == "raw"
    for event in (_event(), _event(eventID="n")):
        assert canonical_line(*encode_event(event)[1:]) == event.model_dump_json().encode()
    event = _event()
    event.raw = None
    assert canonical_line(*encode_event(event)[1:]) == event.model_dump_json().encode()


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_canonical_line_matches_pydantic_for_any_raw_text(raw: str) -> None:
    event = _EVENT.model_copy(update={"raw": raw})
    try:
        want = event.model_dump_json().encode()
    except Exception:  # text pydantic cannot serialize (lone surrogates) never reaches a sink
        return
    assert canonical_line(*encode_event(event)[1:]) == want


_EVENT = _event()


# --- layout, summary, options ------------------------------------------------------------------


def test_layout_paths() -> None:
    layout = Layout("/data/out", "20240501T130000Z-abcdef")
    key = PartitionKey("azure", "2024-05-01", "07", 3)
    assert layout.parquet_path(key) == (
        "/data/out/cold/events/provider=azure/date=2024-05-01/hour=07/part-20240501T130000Z-abcdef-s003.parquet"
    )
    assert layout.raw_path(key).startswith("/data/out/cold/raw/provider=azure/date=2024-05-01/hour=07/")
    assert layout.raw_path(key).endswith(".jsonl.gz")
    assert Layout("gs://b/x", "R").siem_prefix == "gs://b/x/siem/events-R"
    assert new_run_id(datetime(2024, 5, 1, 13, 0, 5, tzinfo=UTC)).startswith("20240501T130005Z-")


def test_summary_from_counters_and_invariant() -> None:
    counters = {
        names.RECORDS_READ: 10,
        names.written_counter("aws", "success"): 4,
        names.written_counter("aws", "failure"): 1,
        names.written_counter("gcp", "success"): 1,
        names.deadletter_counter("parse", "invalid_json"): 2,
        names.non_event_counter("cloudtrail_digest"): 1,
        names.DUPLICATES: 1,
    }
    s = from_counters(counters, run_id="R", runner="FnApiRunner")
    assert s.events_written == {"aws": {"success": 4, "failure": 1}, "gcp": {"success": 1}}
    assert s.deadletters == {"parse": {"invalid_json": 2}}
    assert s.invariant_holds and s.ok
    text = format_summary(s)
    assert "read 10 = written 6 + dead letters 2 + duplicates 1 + non-events 1: holds" in text
    assert "parse/invalid_json" in text and "cloudtrail_digest" in text
    assert s.to_dict()["invariant"]["holds"] is True

    lost = from_counters({**counters, names.RECORDS_READ: 11})
    assert not lost.invariant_holds and not lost.ok
    assert "VIOLATED: +1 unaccounted" in lost.invariant_text()
    assert not Summary(records_read=0, problems=["left over"]).ok


def test_the_rate_is_over_processing_time_only() -> None:
    """Start-up (the command's checks, the runner starting) is apart; worker clocks a little off this
    process's stay within the run; without both marks no rate is claimed."""
    times = pipeline_times(started=100.0, ended=110.0, first_read=103.0, last_write=108.0, begun=98.0)
    assert times == {"elapsed_seconds": 10.0, "processing_seconds": 5.0, "startup_seconds": 5.0}
    s = Summary(run_id="R", runner="FnApiRunner", records_read=1000, **times)
    assert s.events_per_second == 200.0
    assert "200 records/s over 5.0s of processing (first read to last write), after 5.0s of start-up" in format_summary(s)
    skewed = pipeline_times(started=100.0, ended=110.0, first_read=99.5, last_write=110.4)
    assert skewed == {"elapsed_seconds": 10.0, "processing_seconds": 10.0, "startup_seconds": 0.0}
    unmeasured = Summary(records_read=5, **pipeline_times(100.0, 104.0, None, None))
    assert unmeasured.events_per_second == 0.0
    assert "pipeline time 4.0s (start-up included; no processing time measured)" in format_summary(unmeasured)


def test_pipeline_options_default_to_the_local_fnapi_runner() -> None:
    from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

    opts = pipeline_options([])
    assert opts.view_as(StandardOptions).runner == DEFAULT_RUNNER
    assert opts.view_as(DirectOptions).direct_num_workers == 1
    opts = pipeline_options(["--runner", "DataflowRunner", "--project", "p"])
    assert opts.view_as(StandardOptions).runner == "DataflowRunner"
    opts = pipeline_options(["--direct_num_workers=2", "--direct_running_mode", "multi_processing"])
    assert opts.view_as(DirectOptions).direct_num_workers == 2
    assert unknown_beam_args(["--runner", "X", "--frobnicate", "1"]) == ["--frobnicate"]
    with pytest.raises(UsageError, match="unrecognized arguments: --frobnicate"):
        pipeline_options(["--frobnicate"])


def test_inputs_directories_globs_and_errors(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "x.json").write_text("{}")
    (tmp_path / "a" / "b" / "y.json.gz").write_text("{}")
    assert expand_input(str(tmp_path / "a")) == str(tmp_path / "a" / "**")
    assert expand_input("gs://bucket/prefix/") == "gs://bucket/prefix/**"
    assert expand_input("s3://b/k.json") == "s3://b/k.json"
    (found,) = match_inputs([expand_input(str(tmp_path / "a"))])
    assert sorted(Path(m.path).name for m in found) == ["x.json", "y.json.gz"]
    with pytest.raises(UsageError, match="matches no files"):
        match_inputs([str(tmp_path / "*.nothing")])
    with pytest.raises(UsageError, match="no such file"):
        match_inputs([str(tmp_path / "missing.json")])


def test_large_local_inputs_run_on_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    from apache_beam.options.pipeline_options import DirectOptions

    from pipelines.options import parallelize_locally, runner_text
    from pipelines.settings import PARALLEL_MIN_BYTES

    monkeypatch.setattr("pipelines.local.runner._cpus", lambda: 2)
    big = PARALLEL_MIN_BYTES

    def mode(args: list[str], files: int, size: int) -> tuple[int, str]:
        opts = pipeline_options(args)
        parallelize_locally(opts, args, files, size)
        d = opts.view_as(DirectOptions)
        return d.direct_num_workers, d.direct_running_mode

    assert mode([], 10, big) == (2, "multi_processing")
    assert mode([], 1, big) == (1, "in_memory")  # one file: one worker reads it anyway
    assert mode([], 10, big - 1) == (1, "in_memory")  # small: a process pool costs more than it saves
    assert mode(["--direct_num_workers", "1"], 10, big) == (1, "in_memory")  # the user said how
    assert mode(["--runner", "DataflowRunner"], 10, big) == (1, "in_memory")
    opts = pipeline_options([])
    parallelize_locally(opts, [], 10, big)
    assert runner_text(opts) == "FnApiRunner with 2 worker processes"


def test_leftover_temp_folders_of_this_run_are_reported(tmp_path: Path) -> None:
    from pipelines.batch import leftover_temp_files

    layout = Layout(str(tmp_path), "RUN1")
    (tmp_path / "siem" / "beam-temp-events-RUN1-abc").mkdir(parents=True)
    (tmp_path / "siem" / "beam-temp-events-RUN1-abc" / "x").write_text("")
    (tmp_path / "siem" / "beam-temp-events-OTHER-abc").mkdir()  # another run's business
    (found,) = leftover_temp_files(layout)
    assert "beam-temp-events-RUN1-abc (1 files)" in found
