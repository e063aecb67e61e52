"""The manifest lists every written file with its records, bytes and SHA-256; ``cloudaudit verify``
finds missing, altered, extra and miscounted files."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from pipelines import batch
from pipelines.cli import main
from pipelines.manifest import MANIFEST_DIR, FileEntry, HashingStream, verify
from pipelines.settings import RunConfig, Settings
from tests.pipelines.fakecloud import CONNECTORS as FAKE
from tests.storage.test_object_stores import write_input


@pytest.fixture(scope="module")
def run_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, batch.Summary]:
    tmp = tmp_path_factory.mktemp("manifest")
    write_input(tmp / "in")
    out = tmp / "out"
    summary = batch.run(RunConfig(inputs=[str(tmp / "in")], output=str(out),
                                  settings=Settings(connectors=FAKE, batch_size=30)))
    assert summary.ok, summary.problems
    return out, summary


def entries(out: Path) -> list[FileEntry]:
    (manifest,) = (out.joinpath(*MANIFEST_DIR)).glob("*.jsonl")
    return [FileEntry.from_json(line) for line in manifest.read_bytes().splitlines()]


def test_manifest_lists_every_file_with_true_counts_and_hashes(run_output: tuple[Path, batch.Summary]) -> None:
    out, summary = run_output
    listed = {e.path: e for e in entries(out)}
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {"_summary.json"}
    on_disk = {p for p in on_disk if not p.startswith("cold/_manifests/")}
    assert set(listed) == on_disk
    kinds = [e.kind for e in listed.values()]
    assert kinds.count("parquet") == summary.parquet_files and kinds.count("raw") == summary.raw_files
    assert kinds.count("siem") == 1 and kinds.count("deadletters") == 1
    for e in listed.values():
        data = (out / e.path).read_bytes()
        assert e.bytes == len(data) and e.sha256 == hashlib.sha256(data).hexdigest()
        assert e.run_id == summary.run_id
        if e.kind == "parquet":
            assert e.records == pq.read_metadata(out / e.path).num_rows
        elif e.kind == "raw":
            assert e.records == len(gzip.decompress(data).splitlines())
        else:
            assert e.records == len(data.splitlines())
    assert sum(e.records for e in listed.values() if e.kind == "parquet") == summary.written_total
    assert sum(e.records for e in listed.values() if e.kind == "deadletters") == summary.deadletters_total


def test_verify_passes_then_finds_each_kind_of_damage(
    run_output: tuple[Path, batch.Summary], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(run_output[0], out)  # a copied lake still verifies: paths are relative
    assert main(["verify", str(out)]) == 0
    assert "all files match" in capsys.readouterr().out

    listed = entries(out)
    parquet = [e for e in listed if e.kind == "parquet"]
    raw = [e for e in listed if e.kind == "raw"]
    (out / parquet[0].path).write_bytes((out / parquet[0].path).read_bytes()[:-1] + b"X")  # altered
    (out / raw[0].path).unlink()  # lost
    extra = out / "cold/events/provider=aws/date=2024-05-01/hour=10/part-intruder.parquet"
    extra.write_bytes(b"PAR1")
    report = verify(str(out))
    assert report.altered and parquet[0].path in report.altered[0]
    assert report.missing == [raw[0].path]
    assert report.extra == [str(extra.relative_to(out))]
    assert not report.ok
    assert main(["verify", str(out)]) == 1
    text = capsys.readouterr().out
    assert "ALTERED" in text and "MISSING" in text and "EXTRA" in text and "FAILED" in text


def test_verify_reports_a_count_mismatch_and_checks_one_manifest(
    run_output: tuple[Path, batch.Summary], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(run_output[0], out)
    (manifest,) = out.joinpath(*MANIFEST_DIR).glob("*.jsonl")
    rows = [orjson.loads(line) for line in manifest.read_bytes().splitlines()]
    rows[0]["records"] += 1
    manifest.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    assert main(["verify", str(manifest)]) == 1
    assert "COUNT MISMATCH" in capsys.readouterr().out


def test_verify_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cloudaudit: error: no manifest found") and "\n" not in err
    assert main(["verify", str(tmp_path / "x.jsonl")]) == 2


def test_hashing_stream_hashes_what_it_writes(tmp_path: Path) -> None:
    target = (tmp_path / "f").open("wb")
    stream = HashingStream(target, str(tmp_path / "f"))
    stream.write(b"abc")
    stream.write(memoryview(b"def"))
    stream.close()
    assert stream.size == 6 and stream.sha256.hexdigest() == hashlib.sha256(b"abcdef").hexdigest()
    assert (tmp_path / "f").read_bytes() == b"abcdef"
