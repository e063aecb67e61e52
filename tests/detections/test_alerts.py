"""Where alerts go: each SIEM sink's alert index or stream, and the signals table's columns."""

from __future__ import annotations

from pathlib import Path

from detections.alerts import alert_sink_config, read_signals, write_signals
from detections.engine import Engine
from detections.loader import load_pack
from pipelines.sinks import parse_sink
from tests.detections.records import cloudtrail, events


def test_alert_sinks_use_their_own_index_or_stream() -> None:
    hec = alert_sink_config(parse_sink("hec:https://splunk:8088?index=audit&ack=true"))
    assert (hec.name, hec.options["index"], hec.options["ack"]) == ("hec-alerts", "audit_alerts", "true")
    assert alert_sink_config(parse_sink("hec:https://splunk:8088")).options["index"] == "cloudaudit_alerts"
    es = alert_sink_config(parse_sink("elastic:https://es:9200?index=cloudaudit-{date}"))
    assert es.options["index"] == "cloudaudit-alerts-{date}"
    az = alert_sink_config(parse_sink("sentinel:https://dce.example?dcr=dcr-1&stream=Custom-CloudAudit_CL"))
    assert az.options == {"dcr": "dcr-1", "stream": "Custom-CloudAuditAlerts_CL"}


def test_signals_table_round_trip(tmp_path: Path) -> None:
    import orjson

    rule = next(r for r in load_pack().rules if r.id == "denied_calls_burst")
    assert rule.meta.mode == "monitor"
    recs = [cloudtrail("ListUsers", "iam", f"2026-04-02T10:00:{i:02d}Z", error="AccessDenied", n=i) for i in range(11)]
    (alert,) = Engine([rule]).detect(events(*recs))
    (path,) = write_signals([orjson.dumps(alert)], str(tmp_path), "run1")
    assert path.endswith("cold/signals/date=2026-04-02/signals-run1.parquet")
    assert read_signals(str(tmp_path)) == [alert]
