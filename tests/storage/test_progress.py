"""The progress bar: drawn on a terminal from the workers' totals, absent (and nothing written) otherwise."""

from __future__ import annotations

import io
import time
from pathlib import Path

from pipelines import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_files_bytes_and_rate(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(progress, "WRITE_EVERY", 0.0)
    monkeypatch.setattr(progress, "DRAW_EVERY", 0.01)
    monkeypatch.setattr(progress, "_totals", {"files": 0, "bytes": 0, "records": 0})
    spill = tmp_path / "spill"
    out = Terminal()
    with progress.display(str(spill), total_files=2, total_bytes=1000, stream=out):
        assert progress.enabled()
        progress.tick(str(spill), 1, 600, 40)
        deadline = time.monotonic() + 10
        while "files 1/2" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
    assert "files 1/2" in out.getvalue() and "records/s" in out.getvalue()
    assert progress.read_totals(str(spill)) == {"files": 1, "bytes": 600, "records": 40}
    assert not progress.enabled()


def test_nothing_without_a_terminal(tmp_path: Path) -> None:
    out = io.StringIO()
    with progress.display(str(tmp_path / "spill"), total_files=2, total_bytes=1000, stream=out):
        assert not progress.enabled()
        progress.tick(str(tmp_path / "spill"), 1, 600, 40)
    assert out.getvalue() == "" and not (tmp_path / "spill").exists()
