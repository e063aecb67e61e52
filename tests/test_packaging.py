"""The wheel: what an install gets. Built from a copy of the checkout's tracked files (the build writes
build/ and *.egg-info beside its sources), without network (no build isolation)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    src = tmp_path_factory.mktemp("src")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in tracked.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        check=True, capture_output=True, timeout=600,
    )
    (whl,) = out.glob("cloudaudit-*.whl")
    return zipfile.ZipFile(whl)


@pytest.mark.slow
def test_the_wheel_holds_no_test_fixtures(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    assert not [n for n in names if "/testdata/" in n or n.startswith("tests/")]
    assert not [n for n in names if n.endswith((".jsonl", ".gz", ".expected.json"))]


@pytest.mark.slow
def test_the_wheel_holds_no_sample_generators(wheel: zipfile.ZipFile) -> None:
    """The generators (sampledata/, ~4,500 lines) are for a checkout: the demo, the tests, benchmarks."""
    names = wheel.namelist()
    assert not [n for n in names if n.startswith("sampledata/") or n.endswith(("/samples.py", "/sampledata.py"))]
    assert "connectors/aws_cloudtrail/mapping.py" in names  # the connectors themselves are there


@pytest.mark.slow
def test_the_wheel_holds_what_runs(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for needed in ("pipelines/cli.py", "schemas/generated/event.schema.json", "schemas/generated/event.arrow.txt",
                   "enrichers/data/actions.yaml", "connectors/gcp_audit/read_logging.py", "connectors/azure_retry.py"):
        assert needed in names, needed
    metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert any(r.startswith("requests") for r in requires), requires
