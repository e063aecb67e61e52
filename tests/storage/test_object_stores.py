"""Cold storage through Beam's filesystems on every store: a local folder, S3 (moto server), GCS
(gcp-storage-emulator) and Azure Blob (Azurite), reached over their real HTTP APIs; then the same runs
behind a proxy that answers 503/429, resets connections or stalls for a seeded share of requests."""

from __future__ import annotations

import gzip
import os
from collections import Counter
from pathlib import Path

import orjson
import pytest

from connectors.registry import connectors
from pipelines import batch
from pipelines.layout import Layout, PartitionKey
from pipelines.manifest import FileEntry, verify
from pipelines.settings import RunConfig, Settings
from pipelines.spill import encode_event, write_spill
from pipelines.store import PartitionStore
from schemas.deadletter import DeadLetter
from tests.pipelines.conftest import fake, lines
from tests.pipelines.fakecloud import CONNECTORS as FAKE
from tests.storage.conftest import STORES, Store


def write_input(folder: Path) -> dict[str, int]:
    """Events over two providers and several hours, a duplicate, and two bad lines."""
    folder.mkdir(parents=True, exist_ok=True)
    good = [fake(i, "aws", 10 + i % 3) for i in range(60)] + [fake(i, "gcp", 14) for i in range(40)]
    (folder / "a.jsonl").write_bytes(lines(*good[:70], good[5]))
    (folder / "b.json.gz").write_bytes(gzip.compress(lines(*good[70:]) + b'{"fakecloud": 1, "time"\n', mtime=0))
    (folder / "c.jsonl").write_bytes(lines({"fakecloud": 1, "eventID": "no-time"}))
    return {"events": len(good), "duplicates": 1, "deadletters": 2}


def run_into(store: Store, tmp_path: Path, settings: Settings | None = None) -> batch.Summary:
    expected = write_input(tmp_path / "in")
    settings = settings or Settings(connectors=FAKE + connectors(), batch_size=25, dedup_shards=2)
    summary = batch.run(RunConfig(inputs=[str(tmp_path / "in")], output=store.root, settings=settings))
    assert summary.invariant_holds, summary.invariant_text()
    assert summary.records_read == expected["events"] + expected["duplicates"] + expected["deadletters"]
    return summary


def check_exactly_once(store: Store, summary: batch.Summary) -> None:
    """Every input event in the Parquet files exactly once (by id), the raw archive beside it, dead
    letters for the rest, the manifest matching, nothing temporary left."""
    table = store.parquet()
    assert table is not None
    ids = Counter(table.column("id").to_pylist())
    assert len(ids) == summary.written_total == 100
    assert max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]
    raw_lines = sum(len(gzip.decompress(store.read(p)).splitlines()) for p in store.files("cold/raw"))
    assert raw_lines == 100
    siem = [orjson.loads(x) for p in store.files("siem") for x in store.read(p).splitlines() if x.strip()]
    assert Counter(e["id"] for e in siem) == ids
    dead = [orjson.loads(x) for p in store.files("deadletters") for x in store.read(p).splitlines() if x.strip()]
    assert len(dead) == summary.deadletters_total == 2
    assert all(DeadLetter.from_dict(d).payload for d in dead)
    report = verify(store.root)
    assert report.ok, report.text()
    assert report.checked == summary.parquet_files + summary.raw_files + 2  # + one SIEM and one dead-letter file
    assert not summary.problems
    assert not [p for p in store.files() if "_tmp-" in p or "beam-temp" in p or ".temp" in p]


def test_run_writes_cold_storage_on_every_store(store: Store, tmp_path: Path) -> None:
    summary = run_into(store, tmp_path)
    check_exactly_once(store, summary)
    parquet = [p for p in store.files("cold/events") if p.endswith(".parquet")]
    assert any("/provider=aws/date=2024-05-01/hour=11/part-" in p for p in parquet)
    assert any("/provider=gcp/date=2024-05-01/hour=14/part-" in p for p in parquet)
    (summary_path,) = [p for p in store.files() if p.endswith("_summary.json")]
    assert orjson.loads(store.read(summary_path))["invariant"]["holds"]


@pytest.mark.parametrize("kind", [s for s in STORES if s != "local"])
def test_faults_on_the_wire_lose_nothing_and_duplicate_nothing(kind: str, store_factory, tmp_path: Path) -> None:
    store = store_factory(kind, fault_rate=0.12, seed=11)
    summary = run_into(store, tmp_path)
    assert store.proxy is not None
    counts = dict(store.proxy.counts)
    assert sum(counts.get(f, 0) for f in ("503", "429", "500", "reset", "stall")) >= 3, counts
    store.proxy.enabled = False  # read the result back without faults
    check_exactly_once(store, summary)


def _segments(tmp_path: Path, n: int) -> list:
    from connectors.normalize import Normalizer
    from schemas.event import Event

    normalizer = Normalizer(registered=FAKE)
    events = [r for r in normalizer.blob(lines(*[fake(i) for i in range(n)]), "in.jsonl") if isinstance(r, Event)]
    key = ("aws", "2024-05-01", "13", 0)
    spill = str(tmp_path / "spill")
    Path(spill).mkdir(exist_ok=True)
    return [seg for batch_ in (events[: n // 2], events[n // 2:])
            for _, seg in write_spill(spill, {key: [encode_event(e) for e in batch_]})]


class _Broken(Exception):
    pass


@pytest.mark.parametrize("kind", STORES)
def test_a_failed_partition_write_leaves_no_file_and_no_entry_and_a_retry_overwrites(
    kind: str, store_factory, tmp_path: Path
) -> None:
    """A bundle that fails halfway abandons its files (nothing committed, nothing listed); the runner's
    retry of it writes the same names again, complete."""
    store = store_factory(kind)
    layout = Layout(store.root, "RUN1")
    key = PartitionKey("aws", "2024-05-01", "13", 0)
    segments = _segments(tmp_path, 40)

    def failing():
        yield segments[0]
        raise _Broken("the worker died")

    first = PartitionStore(layout, Settings(batch_size=10))
    with pytest.raises(_Broken):
        for _ in first.store(key, failing()):
            pass
    assert first.files == []
    assert store.files("cold") == []
    if kind == "s3":  # and no multipart upload left behind
        import boto3

        bucket = store.root.split("/")[2]
        assert boto3.client("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    retry = PartitionStore(layout, Settings(batch_size=10))
    siem = [blob for tag, blob in retry.store(key, segments) if tag == "siem"]
    assert sum(len(b.splitlines()) for b in siem) == 40
    assert [e.kind for e in retry.files] == ["parquet", "raw"]
    assert sorted(store.files("cold")) == sorted([layout.parquet_path(key), layout.raw_path(key)])
    again = PartitionStore(layout, Settings(batch_size=10))  # a second retry: same names, same bytes
    for _ in again.store(key, segments):
        pass
    assert [e.sha256 for e in again.files] == [e.sha256 for e in retry.files]
    assert sorted(store.files("cold")) == sorted([layout.parquet_path(key), layout.raw_path(key)])
    entry: FileEntry = again.files[0]
    assert entry.records == 40 and entry.path.startswith("cold/events/provider=aws/")


@pytest.mark.parametrize("kind", [s for s in STORES if s != "local"])
def test_a_clean_run_with_no_dead_letters_on_an_object_store(kind: str, store_factory, tmp_path: Path) -> None:
    """Empty outputs (no dead letters) must not break the stores: S3 refuses an empty multipart upload."""
    store = store_factory(kind)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_bytes(lines(*[fake(i) for i in range(5)]))
    summary = batch.run(RunConfig(inputs=[str(tmp_path / "in")], output=store.root, settings=Settings(connectors=FAKE)))
    assert summary.ok and summary.deadletters_total == 0 and summary.written_total == 5
    report = verify(store.root)
    assert report.ok, report.text()
    # A temporary folder of this run left behind (a rename that never happened) is reported.
    from apache_beam.io.filesystems import FileSystems

    layout = Layout(store.root, summary.run_id)
    stray = FileSystems.join(store.root, "siem", f"beam-temp-events-{summary.run_id}-0a1b", "part-0")
    with FileSystems.create(stray) as f:
        f.write(b"x\n")
    (problem,) = batch.leftover_temp_files(layout)
    assert "temporary folder left behind" in problem and f"beam-temp-events-{summary.run_id}-0a1b" in problem


@pytest.mark.parametrize("kind", ["gcs", "s3"])
def test_command_line_run_and_verify_on_an_object_store(kind: str, store_factory, tmp_path: Path) -> None:
    """The console script in a fresh process: only the environment points it at the stand-in."""
    import subprocess

    from tests.conftest import ROOT
    from tests.pipelines.conftest import console_entry

    store = store_factory(kind)
    write_input(tmp_path / "in")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # The fake connector is not registered in a fresh process: every record is a dead letter there, which
    # makes the exit status 1 unless the threshold allows it (this test is about the object store).
    ran = subprocess.run([*console_entry(), "run", "--input", str(tmp_path / "in"), "--output", store.root,
                          "--max-deadletter-ratio", "1"],
                         capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert ran.returncode == 0, ran.stderr[-2000:] + ran.stdout[-3000:]
    assert "invariant" in ran.stdout and "holds" in ran.stdout
    checked = subprocess.run([*console_entry(), "verify", store.root], capture_output=True, text=True, env=env,
                             timeout=300, cwd=ROOT)
    assert checked.returncode == 0, checked.stdout + checked.stderr[-2000:]
    assert "all files match" in checked.stdout
