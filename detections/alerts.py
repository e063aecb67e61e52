"""Where alerts go: alert-mode alerts to JSON lines and the SIEM sinks (under their own index or table),
monitor-mode alerts to the ``signals`` table in cold storage (Parquet), never the SIEM.

Plain functions; ``detections.beam.WriteAlerts`` composes them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.sinks.config import SinkConfig

SENTINEL_ALERT_STREAM = "Custom-CloudAuditAlerts_CL"

SIGNALS_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("rule_id", pa.string()),
    ("rule_title", pa.string()),
    ("severity", pa.string()),
    ("mode", pa.string()),
    ("key", pa.string()),
    ("first", pa.timestamp("us", tz="UTC")),
    ("last", pa.timestamp("us", tz="UTC")),
    ("suppressed", pa.int64()),
    ("techniques", pa.list_(pa.string())),
    ("event_ids", pa.list_(pa.string())),
    ("related_total", pa.int64()),
    ("alert", pa.string()),  # the whole alert document, JSON
])


def alert_sink_config(c: SinkConfig) -> SinkConfig:
    """The same SIEM endpoint, alerts under their own index, index pattern or stream."""
    options = dict(c.options)
    if c.kind in ("hec", "splunk"):
        options["index"] = f"{options['index']}_alerts" if options.get("index") else "cloudaudit_alerts"
    elif c.kind in ("elastic", "opensearch"):
        options["index"] = "cloudaudit-alerts-{date}"
    elif c.kind == "sentinel":
        options["stream"] = SENTINEL_ALERT_STREAM
    return SinkConfig(f"{c.name}-alerts", c.kind, c.url, options)


def signals_table(alerts: Iterable[dict[str, Any]]) -> pa.Table:
    rows = [{
        "id": a["id"], "rule_id": a["rule"]["id"], "rule_title": a["rule"]["title"], "severity": a["severity"],
        "mode": a["mode"], "key": a["key"], "first": datetime.fromisoformat(a["first"]),
        "last": datetime.fromisoformat(a["last"]), "suppressed": a["suppressed"],
        "techniques": a["rule"]["techniques"], "event_ids": a["event_ids"], "related_total": a["related_total"],
        "alert": orjson.dumps(a).decode(),
    } for a in alerts]
    return pa.Table.from_pylist(rows, schema=SIGNALS_SCHEMA)


def write_signals(lines: Sequence[bytes], root: str, run_id: str, part: str = "") -> list[str]:
    """Monitor-mode alerts -> ``ROOT/cold/signals/date=D/signals-<run><part>.parquet`` (one file per day;
    streaming writes one ``part`` per bundle)."""
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        a = orjson.loads(line)
        by_day[a["first"][:10]].append(a)
    written = []
    for day, alerts in sorted(by_day.items()):
        alerts.sort(key=lambda a: (a["first"], a["id"]))
        folder = FileSystems.join(root, "cold", "signals", f"date={day}")
        if "://" not in folder:
            import os

            os.makedirs(folder, exist_ok=True)
        path = FileSystems.join(folder, f"signals-{run_id}{part}.parquet")
        with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            pq.write_table(signals_table(alerts), f, compression="zstd")
        written.append(path)
    return written


def read_signals(root: str) -> list[dict[str, Any]]:
    """The alert documents of a (local) signals table, for reviews and tests."""
    import os

    folder = os.path.join(root, "cold", "signals")
    if not os.path.isdir(folder):
        return []
    table = pq.read_table(folder, columns=["alert"])
    return [orjson.loads(x) for x in table.column("alert").to_pylist()]
