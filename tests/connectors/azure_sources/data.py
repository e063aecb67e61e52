"""Shared test data for the Azure source tests: AzureActivity rows for the Log Analytics stand-in and
diagnostic-settings messages for the Event Hubs one, built from the connector's own fixtures."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

TESTDATA = Path(__file__).resolve().parents[3] / "connectors" / "azure_activity" / "testdata"
WORKSPACE = "0d8e6f4a-2c1b-4a3d-9e5f-7b6c8d9e0f13"
START = datetime(2025, 5, 28, 10, tzinfo=UTC)
END = datetime(2025, 5, 28, 13, tzinfo=UTC)
IN_RANGE = 23  # rows of row_times() inside [START, END)
HUB = "insights-activity-logs"


def template_row() -> dict[str, Any]:
    """The terminal (Success) AzureActivity row of the connector's fixture."""
    rows = [orjson.loads(line) for line in (TESTDATA / "log_analytics_rows.jsonl").read_bytes().splitlines()]
    return next(r for r in rows if r["ActivityStatusValue"] == "Success")


def row_times() -> list[str]:
    """Every 9 minutes across the range, plus the edges: exact slice boundaries, 100 ns digits, and two
    rows just outside [START, END)."""
    times = [
        (START + timedelta(minutes=9 * i, seconds=7)).strftime("%Y-%m-%dT%H:%M:%S") + f".{i:07d}Z"
        for i in range(20)
    ]
    times += ["2025-05-28T11:00:00.0000000Z", "2025-05-28T12:00:00.0000000Z", "2025-05-28T12:59:59.9999999Z"]
    times += ["2025-05-28T09:59:59.9999999Z", "2025-05-28T13:00:00.0000000Z"]  # outside
    return times


def make_id(i: int) -> str:
    return f"{i:08x}-0000-4000-8000-{i:012x}"



TEMPLATE = orjson.loads((TESTDATA / "eventhub_records_envelope.json").read_bytes())["records"][0]


def message(i: int, records: int = 2) -> bytes:
    """A diagnostic-settings message: ``{"records": [...]}`` with events of their own (correlation id and
    time vary, so each record is a distinct event id)."""
    out = []
    for j in range(records):
        r = copy.deepcopy(TEMPLATE)
        r["correlationId"] = str(uuid.UUID(int=i * 1000 + j + 1))
        r["time"] = f"2025-05-28T08:{i % 60:02d}:{j:02d}.{i:07d}Z"
        out.append(r)
    return orjson.dumps({"records": out})
