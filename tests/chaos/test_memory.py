"""A 1 GB CloudTrail file (one ``{"Records": [...]}`` document) through the whole batch run stays under
400 MB peak RSS (``make chaos``; CHAOS_BIG_RECORDS resizes it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.chaos.harness import env
from tests.conftest import ROOT
from tests.storage.test_large_files import write_big_trail

LONG = os.environ.get("CLOUDAUDIT_CHAOS") == "1"


@pytest.mark.skipif(not LONG, reason="long run: make chaos")
def test_a_1gb_cloudtrail_file_runs_under_400mb(tmp_path: Path) -> None:
    records = int(os.environ.get("CHAOS_BIG_RECORDS", "520000"))  # about 2 KB each: 1 GB
    (tmp_path / "in").mkdir()
    size = write_big_trail(tmp_path / "in" / "big.json.gz", records=records)
    out = tmp_path / "out"
    # The run's own peak (VmHWM, printed at exit): ru_maxrss of a child would include the forking pytest
    # process's peak, which Linux carries across exec.
    script = (
        "import atexit, sys\n"
        "from pipelines.cli import main\n"
        "atexit.register(lambda: print('VmHWM', [l for l in open('/proc/self/status')"
        " if l.startswith('VmHWM:')][0].split()[1], file=sys.stderr))\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    p = subprocess.run([sys.executable, "-c", script, "run", "--input", str(tmp_path / "in"), "--output", str(out)],
                       cwd=ROOT, env=env(), capture_output=True, text=True, timeout=7200)
    peak_mib = int(p.stderr.rsplit("VmHWM", 1)[1].split()[0]) // 1024
    print(f"{size / (1 << 30):.2f} GiB of Records: peak RSS {peak_mib} MiB")
    assert p.returncode == 0, p.stderr[-2000:]
    summary = orjson.loads((out / "_summary.json").read_bytes())
    assert summary["events_written_total"] + summary["duplicates_dropped"] == records
    assert peak_mib < 400, peak_mib
