"""Every command block in README.md and docs/*.md, run as written against one demo run's output.

A block is a command block when it is fenced as ``sh``/``bash``/``sql``, or unfenced-language and one of
its lines starts with ``cloudaudit`` or ``make``. Each command block must say what this test does with it,
in an HTML comment on the line before its fence (invisible on GitHub):

- ``<!-- docs-test: run -->``: run with bash (``set -eo pipefail``) in a folder where ``samples/`` and
  ``examples/`` are the checkout's and ``out/`` and ``demo-out/`` hold the output of
  ``make demo``'s command; it must exit 0 and print something.
- ``<!-- docs-test: duckdb -->``: a DuckDB script, run statement by statement in that folder; the last
  statement must return rows.
- ``<!-- docs-test: skip: REASON -->``: not runnable here (a cloud, a SIEM, your own files); the reason
  is reported in the test's output.

A command block without a marker fails the test, so a new block gets a decision. The demo runs once for
all blocks (a module fixture).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_MARKER = re.compile(r"<!--\s*docs-test:\s*(run|duckdb|skip)\s*(?::\s*(.*?))?\s*-->")
_COMMAND = re.compile(r"^\s*(cloudaudit|make)\s", re.M)


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    lang: str
    text: str
    action: str | None  # run, duckdb, skip; None: no marker
    reason: str

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for path in DOCS:
        text = path.read_text()
        for m in _FENCE.finditer(text):
            lang, body = m.group(1), m.group(2)
            is_command = lang in ("sh", "bash", "sql") or (lang == "" and _COMMAND.search(body) is not None)
            if not is_command:
                continue
            before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
            marker = _MARKER.search(before)
            found.append(Block(
                doc=str(path.relative_to(ROOT)),
                line=text[: m.start()].count("\n") + 1,
                lang=lang,
                text=body,
                action=marker.group(1) if marker else None,
                reason=(marker.group(2) or "") if marker else "",
            ))
    return found


ALL = blocks()


def test_every_command_block_has_a_marker() -> None:
    missing = [b.name for b in ALL if b.action is None]
    assert not missing, f"command blocks without a <!-- docs-test: ... --> marker: {missing}"
    skipped = [b for b in ALL if b.action == "skip"]
    assert all(b.reason for b in skipped), [b.name for b in skipped if not b.reason]
    # Reported with -rA or -s; the list of what is not runnable here stays visible.
    for b in skipped:
        print(f"not run: {b.name}: {b.reason}")
    assert any(b.action == "run" for b in ALL) and any(b.action == "duckdb" for b in ALL)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder like a fresh checkout after ``make demo``: samples/, examples/, and the demo's output as
    demo-out/ (as make demo names it) and out/ (the default --output the docs use)."""
    work = tmp_path_factory.mktemp("docs")
    for name in ("samples", "examples"):
        (work / name).symlink_to(ROOT / name)
    bin_dir = work / ".bin"
    bin_dir.mkdir()
    shim = bin_dir / "cloudaudit"  # this checkout's cloudaudit, whatever is installed
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m pipelines "$@"\n')
    shim.chmod(0o755)
    demo = subprocess.run(
        ["cloudaudit", "run", "--input", "samples", "--output", "demo-out",
         "--enrich-config", "examples/reference/enrichment.yaml"],
        cwd=work, env=_env(work), capture_output=True, text=True, timeout=900,
    )
    assert demo.returncode == 0, demo.stderr
    (work / "out").symlink_to(work / "demo-out")
    return work


def _env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{work / '.bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in ALL if b.action == "run"], ids=lambda b: b.name)
def test_command_block_runs_as_written(workdir: Path, block: Block) -> None:
    p = subprocess.run(
        ["bash", "-c", "set -eo pipefail\n" + block.text], cwd=workdir, env=_env(workdir),
        capture_output=True, text=True, timeout=600,
    )
    assert p.returncode == 0, f"{block.name} failed ({p.returncode}):\n{block.text}\n{p.stderr[-2000:]}"
    assert p.stdout.strip(), f"{block.name} printed nothing:\n{block.text}"
    assert "Traceback" not in p.stderr


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in ALL if b.action == "duckdb"], ids=lambda b: b.name)
def test_duckdb_block_returns_rows(workdir: Path, block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    duckdb = pytest.importorskip("duckdb")
    monkeypatch.chdir(workdir)  # the script's paths are relative, as a user runs it
    code = "\n".join(line for line in block.text.splitlines() if not line.lstrip().startswith("--"))
    statements = [s for s in code.split(";") if s.strip()]
    con = duckdb.connect()
    for s in statements[:-1]:
        con.execute(s)
    rows = con.execute(statements[-1]).fetchall()
    assert rows, f"{block.name} returned no rows"
