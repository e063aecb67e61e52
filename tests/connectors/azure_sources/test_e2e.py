"""End to end through ``cloudaudit run``: Log Analytics (batch) and Event Hubs (streaming, with a run that
crashes before it acknowledges, and a restart) give every record exactly once in the output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.azure_activity.read_eventhub import EventHubSource
from connectors.normalize import normalize_bytes
from pipelines import cli
from schemas.event import Event
from tests.pipelines.test_streaming_support import siem_ids

from .data import HUB, IN_RANGE, WORKSPACE, message
from .servers import LogAnalyticsServer, Table


def test_batch_run_from_log_analytics_writes_every_row_once(
    log_analytics: LogAnalyticsServer, workspace_table: Table, tmp_path: Path,
) -> None:
    log_analytics.row_limit = 6  # slices are split
    log_analytics.throttle = 1
    names = [c["name"] for c in workspace_table.columns]
    rows = [json.dumps(dict(zip(names, r, strict=True))).encode() for r in workspace_table.rows]
    everything = {r.id for r in normalize_bytes(b"\n".join(rows), "all") if isinstance(r, Event)}
    out = tmp_path / "out"

    code = cli.main(["run", "--source", f"log-analytics:{WORKSPACE}?endpoint={log_analytics.url}&slice=1h",
                     "--start", "2025-05-28T10:00:00Z", "--end", "2025-05-28T13:00:00Z", "--output", str(out)])

    assert code == 0
    ids = siem_ids(out)
    assert len(ids) == IN_RANGE and set(ids.values()) == {1}
    assert set(ids) < everything  # the two rows outside the range are not read
    summary = json.loads((out / "_summary.json").read_text())
    assert "log-analytics" in json.dumps(summary)


def test_streaming_from_eventhub_survives_a_crash_before_ack(
    eventhubs: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    server, spec, _ = eventhubs
    out = tmp_path / "out"
    run = ["run", "--streaming", "--source", spec, "--idle-stop", "3", "--dedup-ttl", "86400",
           "--allowed-lateness", "86400", "--output", str(out)]
    bodies = [message(i) for i in range(10)]
    want = {r.id for b in bodies for r in normalize_bytes(b, "m") if isinstance(r, Event)}
    assert len(want) == 20

    # 1. a normal run reads the first six messages and checkpoints them
    for i in range(6):
        server.publish(HUB, i % 2, bodies[i])
    assert cli.main(run) == 0
    assert len(siem_ids(out)) == 12

    # 2. four more; a run that dies at its first acknowledgement: what its first round read is written,
    # no checkpoint moves
    for i in range(6, 10):
        server.publish(HUB, i % 2, bodies[i])

    def crash(self: EventHubSource, deliveries: Any) -> None:
        raise RuntimeError("simulated crash before the checkpoint was written")

    with monkeypatch.context() as patch:
        patch.setattr(EventHubSource, "ack", crash)
        assert cli.main(run) != 0
    written_by_crashed_run = len(siem_ids(out)) - 12
    assert written_by_crashed_run > 0 and set(siem_ids(out)) <= want

    # 3. the restart reads the unacknowledged four again (not the checkpointed six), and deduplication
    # keeps every record single
    before = len(server.selectors)
    assert cli.main(run) == 0
    ids = siem_ids(out)
    assert set(ids) == want and set(ids.values()) == {1}
    summary = json.loads((out / "_summary.json").read_text())
    assert summary["duplicates_dropped"] >= written_by_crashed_run
    resumed = server.selectors[before:]
    assert resumed and all("'-1'" not in s for s in resumed)  # both partitions resume from a checkpoint
