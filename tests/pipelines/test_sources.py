"""Sources in the pipelines and on the command line: --source/--start/--end parsing and checks, batch
sources flattened with files into the read stage, a stream source through ``cloudaudit run --streaming``.

The source kinds here are local stand-ins registered for the test (the real kinds are tested against
their emulators in the connector packages): a batch kind that yields blobs from ``beam.Create`` and a
stream kind over a folder used as a queue."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apache_beam as beam
import orjson
import pytest

import connectors.sources as contract
import pipelines.sourceargs as sourceargs
from connectors.sources import Delivery, SourceKind, SourceSpec
from pipelines import batch, cli
from pipelines.errors import UsageError
from pipelines.settings import RunConfig
from pipelines.sourceargs import parse_when, specs_from_args
from tests.pipelines.conftest import CLOUDTRAIL_FILE, fake, lines
from tests.pipelines.test_streaming_support import FileQueue, deadletters, parquet_ids, siem_ids

NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)


def trail_file(n: int, base: int = 0) -> bytes:
    """A CloudTrail log file of ``n`` records with distinct event ids."""
    doc = copy.deepcopy(CLOUDTRAIL_FILE)
    template = doc["Records"][0]
    doc["Records"] = []
    for i in range(n):
        r = copy.deepcopy(template)
        r["eventID"] = f"00000000-0000-4000-8000-{base + i:012d}"
        r["eventTime"] = f"2024-05-01T13:{(base + i) % 60:02d}:03Z"
        doc["Records"].append(r)
    return orjson.dumps(doc)


class ReadFakeBlobs(beam.PTransform):
    """A batch source kind: its target names how many files; one announced object cannot be read."""

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__()
        self.files = int(spec.target)
        self.start = spec.start

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        blobs: list[object] = [
            (f"fake://bucket/f{k}.json", trail_file(10, base=10 * k)) for k in range(self.files)
        ]
        blobs.append(
            Delivery("fake://bucket/gone.json", b"", None, error="NoSuchKey: the object was deleted")
        )
        return pbegin | beam.Create(blobs)


KINDS = {
    "fakeblobs": SourceKind(
        "fakeblobs", "batch", "test blobs", "fakeblobs:3", ReadFakeBlobs, {"x": "unused"}
    ),
    "fakeranged": SourceKind(
        "fakeranged", "batch", "needs a range", "fakeranged:1", ReadFakeBlobs, time_range="required"
    ),
    "fakequeue": SourceKind(
        "fakequeue", "stream", "a folder as a queue", "fakequeue:/tmp/q", lambda spec: FileQueue(spec.target)
    ),
}


@pytest.fixture
def kinds(monkeypatch: pytest.MonkeyPatch) -> dict[str, SourceKind]:
    monkeypatch.setattr(contract, "source_kinds", lambda: KINDS)
    monkeypatch.setattr(sourceargs, "source_kinds", lambda: KINDS)
    return KINDS


def test_parse_when() -> None:
    assert parse_when("now", NOW) == NOW
    assert parse_when("-24h", NOW) == NOW - timedelta(hours=24)
    assert parse_when("-30m", NOW) == NOW - timedelta(minutes=30)
    assert parse_when("-7d", NOW) == NOW - timedelta(days=7)
    assert parse_when("2024-05-01", NOW) == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_when("2024-05-01T13:00:00Z", NOW) == datetime(2024, 5, 1, 13, tzinfo=UTC)
    assert parse_when("2024-05-01T15:00:00+02:00", NOW) == datetime(2024, 5, 1, 13, tzinfo=UTC)
    with pytest.raises(UsageError, match="ISO 8601"):
        parse_when("yesterday", NOW)


def test_specs_are_checked(kinds: dict) -> None:
    (spec,) = specs_from_args(["fakeblobs:3?x=1"], "-1d", None, streaming=False, now=NOW)
    assert (spec.kind, spec.target, dict(spec.params)) == ("fakeblobs", "3", {"x": "1"})
    assert spec.start == NOW - timedelta(days=1) and spec.end == NOW
    cases = [
        (["nope:x"], None, None, False, "unknown source kind 'nope'"),
        (["fakeblobs:3?y=1"], None, None, False, "does not take y"),
        (["fakequeue:/q"], None, None, False, "is a stream: run it with --streaming"),
        (["fakeblobs:3"], None, None, True, "is a batch source: run it without --streaming"),
        (["fakeranged:1"], None, None, False, "needs a time range"),
        (["fakeblobs:3"], "2024-05-02", "2024-05-01", False, "is not after --start"),
        (["fakeblobs"], None, None, False, "is not KIND:TARGET"),
    ]
    for sources, start, end, streaming, message in cases:
        with pytest.raises(UsageError, match=message):
            specs_from_args(sources, start, end, streaming, now=NOW)


def test_batch_sources_with_files(kinds: dict, tmp_path: Path) -> None:
    """Blobs of a batch source and files of --input go through one read and store stage: every record
    once, the object that could not be read a dead letter, the invariant holds."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "local.json").write_bytes(trail_file(5, base=100))
    spec = SourceSpec.parse("fakeblobs:3")
    config = RunConfig(inputs=[str(tmp_path / "in")], output=str(tmp_path / "out"), sources=[spec])
    summary = batch.run(config)
    ids = siem_ids(tmp_path / "out")
    assert len(ids) == 35 and set(ids.values()) == {1}
    assert parquet_ids(tmp_path / "out") == ids
    letters = deadletters(tmp_path / "out")
    assert [(d["stage"], d["code"], d["location"]) for d in letters] == [
        ("read", "unreadable_file", "fake://bucket/gone.json")
    ]
    assert "NoSuchKey" in letters[0]["reason"]
    assert summary.invariant_holds and summary.records_read == 36
    assert sum(summary.enrichment.get("catalog", {}).values()) == 35  # source blobs are enriched like files
    assert any(i.startswith("fakeblobs:3") for i in summary.inputs)


def test_batch_source_kind_refused_in_streaming_and_stream_kind_in_batch(kinds: dict, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="batch source"):
        from pipelines import streaming

        streaming.run(
            RunConfig(output=str(tmp_path), sources=[SourceSpec.parse("fakeblobs:1")], streaming=True)
        )
    with pytest.raises(UsageError, match="is a stream"):
        batch.run(RunConfig(output=str(tmp_path), sources=[SourceSpec.parse("fakequeue:/q")]))


def test_cli_usage_errors(kinds: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "out")
    cases = [
        (["run", "--output", out], "nothing to read"),
        (["run", "--source", "fakequeue:/q", "--output", out], "is a stream: run it with --streaming"),
        (["run", "--streaming", "--source", "fakeblobs:1", "--output", out], "batch source"),
        (["run", "--source", "fakeranged:1", "--output", out], "needs a time range"),
        (["run", "--source", "fakeblobs:1", "--start", "last tuesday", "--output", out], "ISO 8601"),
        (["run", "--input", "x", "--start=-1h", "--output", out], "are for --source"),
        (
            ["run", "--streaming", "--source", "fakequeue:/q", "--window", "7", "--output", out],
            "divide an hour",
        ),
        (["run", "--input", "x", "--idle-stop", "5", "--output", out], "for --streaming runs"),
    ]
    for argv, message in cases:
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_cli_help_lists_kinds(kinds: dict, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--source",
        "--start",
        "--end",
        "--streaming",
        "--idle-stop",
        "--window",
        "--allowed-lateness",
        "--dedup-ttl",
    ):
        assert option in text
    assert "fakeblobs (batch, --start/--end optional): test blobs" in text
    assert "fakeranged (batch, needs --start)" in text
    assert "e.g. cloudaudit run --source 'fakequeue:/tmp/q' --streaming --idle-stop 60" in text
    assert "?x=  unused" in text


def test_cli_help_lists_registered_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    """Whatever the connector packages register shows in the help, with an example each."""
    kinds = contract.source_kinds()
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = capsys.readouterr().out
    for name, kind in kinds.items():
        assert f"  {name} ({kind.mode}" in text and kind.example in text


def test_cli_batch_run(kinds: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--source", "fakeblobs:2", "--start=-1h", "--end", "now", "--output", str(tmp_path / "b")]
    assert cli.main(argv) == 0
    assert "holds" in capsys.readouterr().out
    ids = siem_ids(tmp_path / "b")
    assert len(ids) == 20 and set(ids.values()) == {1}


def test_cli_streaming_run(kinds: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queue = tmp_path / "q"
    queue.mkdir()
    for k in range(4):
        (queue / f"m{k}.json").write_bytes(trail_file(10, base=10 * k))
    (queue / "m9.jsonl").write_bytes(lines(fake(1)))  # not a known shape: a dead letter
    argv = [
        "run",
        "--streaming",
        "--source",
        f"fakequeue:{queue}",
        "--idle-stop",
        "1",
        "--output",
        str(tmp_path / "s"),
    ]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert "holds" in captured.out and "stopping" in captured.err
    ids = siem_ids(tmp_path / "s")
    assert len(ids) == 40 and set(ids.values()) == {1}
    assert list(queue.iterdir()) == []
