"""What the chaos tests share: generated input, the real command started and killed, and the checks
that every event is in cold storage exactly once, ``verify`` passes and DuckDB reads the lake."""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import orjson
import pyarrow.parquet as pq

from connectors.normalize import Normalizer
from pipelines.manifest import verify
from pipelines.stages.lone_start import lone_start_events
from schemas.event import Event
from tests.conftest import ROOT
from tests.pipelines.conftest import console_entry


def make_input(folder: Path, events: int, seed: int = 5) -> set[str]:
    """Generated audit files (the project's sample generator) and the set of their event ids."""
    from sampledata import generate

    generate(str(folder), events, seed=seed, layout="bench")
    ids: set[str] = set()
    n = Normalizer(keep_raw=False)
    paths = sorted(str(p) for p in folder.rglob("*") if p.is_file())
    for path in paths:
        with open(path, "rb") as f:
            ids.update(r.id for r in n.stream(f, path) if isinstance(r, Event))
    ids.update(e.id for e in lone_start_events(paths, keep_raw=False))  # Azure Starts without an end
    return ids


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*console_entry(), *args], cwd=ROOT, env=env(), capture_output=True, text=True,
                          timeout=timeout)


def run_and_kill(args: list[str], after: float, sig: int, once: Path | None = None) -> int:
    """Start the command, send ``sig`` after ``after`` seconds (counted from when ``once`` exists, if
    given: e.g. the run's lock) (SIGKILL to its whole process group, as a crash of the machine would;
    SIGTERM to the command only, as ``kill PID`` does) and return its exit status (0 if it finished
    first)."""
    p = subprocess.Popen([*console_entry(), *args], cwd=ROOT, env=env(), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    if once is not None:  # the lock of this process (a killed run's stale lock may be there before)
        while p.poll() is None and _lock_pid(once) != p.pid:
            time.sleep(0.05)
    try:
        p.wait(timeout=after)
        return p.returncode
    except subprocess.TimeoutExpired:
        pass
    if sig == signal.SIGKILL:
        os.killpg(p.pid, signal.SIGKILL)
    else:
        p.send_signal(sig)
    code = p.wait(timeout=300)
    if sig != signal.SIGKILL:  # its worker processes, if any, end with it
        time.sleep(0.2)
        _reap_group(p.pid)
    return code


def _lock_pid(path: Path) -> int | None:
    try:
        return int(orjson.loads(path.read_bytes()).get("pid"))
    except (OSError, ValueError, TypeError):
        return None


def _reap_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def parquet_ids(out: Path) -> Counter[str]:
    ids: Counter[str] = Counter()
    for p in out.glob("cold/events/**/*.parquet"):
        ids.update(pq.read_table(p, columns=["id"]).column("id").to_pylist())
    return ids


def readme_query(out: Path) -> list[tuple]:  # type: ignore[type-arg]
    """The README's DuckDB query as written (the week up to the newest event), pointed at ``out``: it must
    run."""
    import duckdb

    text = (ROOT / "README.md").read_text()
    (sql,) = [b for b in re.findall(r"```sql\n(.*?)```", text, flags=re.S) if "read_parquet" in b]
    sql = sql.replace("'demo-out/cold/events/", f"'{out}/cold/events/")
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    con = duckdb.connect()
    statements = [s for s in code.split(";") if s.strip()]
    for s in statements[:-1]:
        con.execute(s)
    rows = con.execute(statements[-1]).fetchall()
    total = con.execute(
        f"SELECT count(*), count(DISTINCT id) FROM read_parquet('{out}/cold/events/**/*.parquet', "
        "hive_partitioning = true)"
    ).fetchone()
    assert total is not None and total[0] == total[1], f"duplicates in the lake: {total}"
    return rows


def check_exactly_once(out: Path, expected: set[str]) -> None:
    ids = parquet_ids(out)
    doubled = [i for i, n in ids.items() if n > 1]
    assert not doubled, f"{len(doubled)} events stored more than once"
    assert set(ids) == expected, f"{len(expected - set(ids))} missing, {len(set(ids) - expected)} unexpected"
    report = verify(str(out))
    assert report.ok, report.text()
    readme_query(out)


def random_points(n: int, low: float, high: float, seed: int) -> list[float]:
    rnd = random.Random(seed)
    return [rnd.uniform(low, high) for _ in range(n)]


PY = sys.executable
