"""Recorded-shaped audit LogEntries for the GCP source tests, and how to read event ids out of blobs.

Entries are copies of the golden fixtures' entries (connectors/gcp_audit/testdata), each given its own
insertId, timestamp and logName, so a test knows exactly which events a source must deliver.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from connectors.normalize import Normalizer
from connectors.sources import Delivery
from schemas.deadletter import DeadLetter
from schemas.event import Event

TESTDATA = Path(__file__).resolve().parents[3] / "connectors" / "gcp_audit" / "testdata"
LOG_IDS = {
    "activity": "cloudaudit.googleapis.com%2Factivity",
    "data_access": "cloudaudit.googleapis.com%2Fdata_access",
    "system_event": "cloudaudit.googleapis.com%2Fsystem_event",
    "policy": "cloudaudit.googleapis.com%2Fpolicy",
}


@cache
def _templates() -> tuple[dict[str, Any], ...]:
    out: list[dict[str, Any]] = []
    out.extend(orjson.loads((TESTDATA / "logging_api_page.json").read_bytes())["entries"])
    for name in ("gcs_sink_service_account_key.jsonl", "impersonation_chain.jsonl", "system_event.jsonl"):
        for line in (TESTDATA / name).read_bytes().splitlines():
            if line.strip():
                out.append(orjson.loads(line))
    return tuple(out)


def stamp(t: datetime) -> str:
    """RFC 3339 with nanoseconds, as Cloud Logging writes timestamps."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def entry(i: int, when: datetime, resource: str = "projects/acme-prod", log: str = "activity") -> dict[str, Any]:
    """The i-th test entry: a real-shaped AuditLog LogEntry at ``when`` in ``resource``'s ``log``."""
    templates = _templates()
    e = copy.deepcopy(templates[i % len(templates)])
    e["insertId"] = f"t{i:06d}x{log[:2]}"
    e["timestamp"] = stamp(when)
    e["receiveTimestamp"] = stamp(when + timedelta(seconds=1))
    e["logName"] = f"{resource}/logs/{LOG_IDS[log]}"
    return e


def entries(n: int, start: datetime, step: timedelta, resource: str = "projects/acme-prod",
            log: str = "activity", first: int = 0) -> list[dict[str, Any]]:
    return [entry(first + k, start + k * step, resource, log) for k in range(n)]


def jsonl(records: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def normalize(blobs: Iterable[tuple[str, bytes] | Delivery]) -> tuple[list[str], list[DeadLetter]]:
    """(event ids, one per event, in order; dead letters) of blobs as the pipeline would read them."""
    norm = Normalizer()
    ids: list[str] = []
    dead: list[DeadLetter] = []
    for b in blobs:
        location, data = (b.location, b.data) if isinstance(b, Delivery) else b
        for r in norm.blob(data, location):
            if isinstance(r, Event):
                ids.append(r.id)
            elif isinstance(r, DeadLetter):
                dead.append(r)
    return ids, dead


def expected_ids(records: Iterable[dict[str, Any]]) -> list[str]:
    ids, dead = normalize([("test://expected", jsonl(records))])
    assert not dead, [d.reason for d in dead]
    return ids
