"""Crash safety of an output folder: reruns store each event once, leftovers of an interrupted run are
found by verify and removed by cleanup (or the next run), one run at a time, private file modes."""

from __future__ import annotations

import os
import shutil
import socket
import stat
from collections import Counter
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from pipelines import batch
from pipelines.cleanup import LOCK_NAME, cleanup
from pipelines.cli import main
from pipelines.errors import UsageError
from pipelines.manifest import MANIFEST_DIR, verify
from pipelines.settings import RunConfig, Settings
from pipelines.summary import format_summary
from tests.pipelines.fakecloud import CONNECTORS as FAKE
from tests.storage.test_object_stores import write_input

DEAD_RUN = "20200101T000000Z-dead00"


def _config(tmp: Path, out: Path, **kw: object) -> RunConfig:
    return RunConfig(inputs=[str(tmp / "in")], output=str(out),
                     settings=Settings(connectors=FAKE, batch_size=30), **kw)  # type: ignore[arg-type]


def parquet_ids(out: Path) -> Counter[str]:
    ids: Counter[str] = Counter()
    for p in out.glob("cold/events/**/*.parquet"):
        ids.update(pq.read_table(p, columns=["id"]).column("id").to_pylist())
    return ids


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, batch.Summary, batch.Summary]:
    tmp = tmp_path_factory.mktemp("crash")
    write_input(tmp / "in")
    out = tmp / "out"
    first = batch.run(_config(tmp, out))
    second = batch.run(_config(tmp, out))
    return tmp, out, first, second


def test_a_rerun_stores_each_event_once_and_counts_what_was_stored(twice) -> None:  # type: ignore[no-untyped-def]
    _, out, first, second = twice
    assert first.written_total == 100 and first.already_stored == 0 and first.ok
    assert second.written_total == 0 and second.already_stored == 100
    assert second.duplicates_dropped == first.duplicates_dropped == 1  # this run's own duplicate, apart
    assert second.invariant_holds, second.invariant_text()
    ids = parquet_ids(out)
    assert len(ids) == 100 and set(ids.values()) == {1}
    assert verify(str(out)).ok


def test_each_run_keeps_its_summary_beside_its_manifest(twice) -> None:  # type: ignore[no-untyped-def]
    _, out, first, second = twice
    folder = out.joinpath(*MANIFEST_DIR)
    for s in (first, second):
        kept = orjson.loads((folder / f"{s.run_id}.summary.json").read_bytes())
        assert kept["run_id"] == s.run_id and kept["invariant"]["holds"]
    assert orjson.loads((out / "_summary.json").read_bytes())["run_id"] == second.run_id
    assert "already stored 100" in orjson.loads((out / "_summary.json").read_bytes())["invariant"]["text"]


def test_output_files_are_private(twice) -> None:  # type: ignore[no-untyped-def]
    _, out, _, _ = twice
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, p


def _plant_leftovers(out: Path) -> list[Path]:
    """What a run killed with -9 leaves: a complete but uncommitted Parquet file, a half-written one, its
    spill folder, a SIEM file Beam renamed into place and Beam's temporary folder."""
    part = next(out.glob("cold/events/**/*.parquet"))
    planted = [
        part.with_name(f"part-{DEAD_RUN}-s000.parquet"),
        part.with_name(f".part-{DEAD_RUN}-s001.parquet.123.inprogress"),
        out / f"_tmp-{DEAD_RUN}" / "abc.spill",
        out / "siem" / f"events-{DEAD_RUN}-00000-of-00001.jsonl",
        out / "siem" / f"beam-temp-events-{DEAD_RUN}-0123" / "x",
    ]
    for p in planted:
        p.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(part, planted[0])
    planted[1].write_bytes(b"PAR1 half")
    for p in planted[2:]:
        p.write_bytes(b"{}\n")
    return planted


def test_verify_reports_and_cleanup_removes_what_a_killed_run_left(twice, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    _, source, _, _ = twice
    out = tmp_path / "out"
    shutil.copytree(source, out)
    planted = _plant_leftovers(out)
    report = verify(str(out))
    assert not report.ok and any(DEAD_RUN in e for e in report.extra)
    assert "UNCOMMITTED" in report.text()
    assert main(["cleanup", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "5 leftovers removed" in printed and f"part-{DEAD_RUN}-s000.parquet" in printed
    assert not any(p.exists() for p in planted)
    assert verify(str(out)).ok
    ids = parquet_ids(out)
    assert len(ids) == 100 and set(ids.values()) == {1}
    assert cleanup(str(out)) == []  # committed files are never touched


def test_the_next_run_cleans_up_and_says_so(twice, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tmp, source, _, _ = twice
    out = tmp_path / "out"
    shutil.copytree(source, out)
    _plant_leftovers(out)
    summary = batch.run(_config(tmp, out))
    assert len(summary.cleaned) == 5 and any(DEAD_RUN in c for c in summary.cleaned)
    assert summary.already_stored == 100 and verify(str(out)).ok
    assert "cleaned up          5 leftovers" in format_summary(summary)


def test_one_run_at_a_time_and_a_dead_runs_lock_is_taken_over(twice, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tmp, _, _, _ = twice
    out = tmp_path / "out"
    out.mkdir()
    lock = {"run_id": "20240101T000000Z-aaaaaa", "host": socket.gethostname(), "pid": os.getpid(), "started": 0}
    (out / LOCK_NAME).write_bytes(orjson.dumps(lock))
    with pytest.raises(UsageError, match="in use by run 20240101T000000Z-aaaaaa"):
        batch.run(_config(tmp, out))
    assert not list(out.glob("cold/**/*.parquet"))
    dead = _dead_pid()
    (out / LOCK_NAME).write_bytes(orjson.dumps({**lock, "pid": dead}))
    summary = batch.run(_config(tmp, out))
    assert summary.written_total == 100
    assert any("stale lock" in c for c in summary.cleaned)
    assert not (out / LOCK_NAME).exists()  # released at the end


def _dead_pid() -> int:
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.mark.parametrize("kind", ["s3"])  # the other stores share the code path (FileSystems)
def test_a_killed_runs_objects_are_cleaned_and_a_rerun_stores_once_on_an_object_store(
    kind: str, store_factory, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    from tests.storage.test_object_stores import run_into

    store = store_factory(kind)
    first = run_into(store, tmp_path)
    part = next(p for p in store.files("cold/events") if p.endswith(".parquet"))
    planted = [
        part.rsplit("/", 1)[0] + f"/part-{DEAD_RUN}-s000.parquet",  # complete, but in no manifest
        FileSystems.join(store.root, f"_tmp-{DEAD_RUN}", "abc.spill"),
    ]
    for path in planted:
        with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            f.write(store.read(part))
    assert not verify(store.root).ok
    second = run_into(store, tmp_path)
    assert sorted(second.cleaned) == sorted(
        [f"uncommitted file {planted[0][len(store.root.rstrip('/')) + 1:]}", f"temporary folder _tmp-{DEAD_RUN} (1 files)"]
    )
    assert first.written_total == 100 and second.written_total == 0 and second.already_stored == 100
    assert verify(store.root).ok
    table = store.parquet()
    assert table is not None and table.num_rows == 100
