"""What a directory input reads: log-like files by default (--include changes it); FIFOs, devices and
dangling links are never opened, and every file left out is counted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines import batch
from pipelines.read import list_inputs
from pipelines.settings import RunConfig, Settings
from tests.pipelines.conftest import fake, lines
from tests.pipelines.fakecloud import CONNECTORS as FAKE


def _folder(root: Path) -> Path:
    d = root / "in"
    (d / "sub").mkdir(parents=True)
    (d / "a.jsonl").write_bytes(lines(fake(1), fake(2)))
    (d / "sub" / "PT1H.json").write_bytes(lines(fake(3)))
    (d / "README.md").write_text("# not a log\nthese lines would be dead letters\n")
    (d / "notes.txt").write_text("nor this\n")
    os.mkfifo(d / "pipe.json")  # a FIFO would block the reader forever
    (d / "gone.jsonl").symlink_to(root / "missing.jsonl")
    return d


def test_list_inputs_reads_log_like_files_and_says_why_others_are_left_out(tmp_path: Path) -> None:
    d = _folder(tmp_path)
    got = list(list_inputs(str(d / "**")))
    read = sorted(os.path.relpath(m.path, d) for why, m in got if m is not None)
    skipped = sorted(why for why, m in got if m is None)
    assert read == ["a.jsonl", "sub/PT1H.json"]
    assert skipped == ["dangling_link", "not_log_like", "not_log_like", "special_file"]
    included = sorted(os.path.relpath(m.path, d) for _, m in list_inputs(str(d / "**"), ["*.md"]) if m)
    assert included == ["README.md"]
    # A glob names its files itself: only what cannot be read is left out.
    globbed = sorted(os.path.basename(m.path) for _, m in list_inputs(str(d / "*.*")) if m)
    assert globbed == ["README.md", "a.jsonl", "notes.txt"]


@pytest.mark.parametrize("shuffle", [False, True], ids=["spill", "shuffle"])
def test_a_run_over_a_directory_skips_and_counts(tmp_path: Path, shuffle: bool) -> None:
    """The same listing on the local spill path and the shuffle path that distributed runners take."""
    d = _folder(tmp_path)
    summary = batch.run(RunConfig(inputs=[str(d)], output=str(tmp_path / "out"),
                                  settings=Settings(connectors=FAKE), shuffle=shuffle))
    assert summary.written_total == 3 and summary.deadletters_total == 0 and summary.invariant_holds
    assert summary.skipped_inputs == {"not_log_like": 2, "special_file": 1, "dangling_link": 1}
