"""The DuckDB query documented in docs/cold-storage.md, run as written over a pipeline run of the bundled
samples: "everything this principal did last week, in every cloud"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines import batch
from pipelines.settings import RunConfig, Settings
from tests.conftest import ROOT

DOC = ROOT / "docs" / "cold-storage.md"


def documented_query() -> str:
    text = DOC.read_text()
    blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1, "docs/cold-storage.md should hold one sql block"
    return blocks[0]


def test_documented_duckdb_query_finds_one_principal_in_every_cloud(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    samples = ROOT / "samples"
    out = tmp_path / "out"
    summary = batch.run(RunConfig(inputs=[str(samples)], output=str(out), settings=Settings()))
    assert summary.invariant_holds

    sql = documented_query()
    # The samples are from 2025-01-14: "last week" is the week before the next day, not before today.
    sql = sql.replace("now() - INTERVAL 7 DAY", "TIMESTAMPTZ '2025-01-15 00:00:00+00' - INTERVAL 7 DAY")
    sql = sql.replace("'demo-out/cold/events/", f"'{out}/cold/events/")
    assert "fatima.schmidt@example.com" in sql
    con = duckdb.connect()
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    statements = [s for s in code.split(";") if s.strip()]
    for s in statements[:-1]:
        con.execute(s)
    rows = con.execute(statements[-1]).fetchall()
    clouds = {r[1] for r in rows}
    assert clouds == {"aws", "gcp", "azure", "entra", "google_workspace"}, clouds  # and her sign-ins
    assert len(rows) >= 10
    assert all(r[0].year == 2025 for r in rows)
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    # nobody else's events, and not the week after
    con.execute("SET VARIABLE principal = 'nobody@example.com'")
    assert con.execute(statements[-1]).fetchall() == []


def test_readme_shows_the_documented_query() -> None:
    """The README repeats the query; it must stay the one this module runs."""
    readme = (ROOT / "README.md").read_text()
    assert documented_query() in re.findall(r"```sql\n(.*?)```", readme, flags=re.S)
