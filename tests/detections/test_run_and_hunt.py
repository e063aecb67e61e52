"""`cloudaudit run --rules` on the bundled samples (the demo), `hunt` over its cold storage and `hunt` over
the same raw files give the same alerts; alert-mode alerts reach the SIEM under their own index,
monitor-mode alerts only the signals table."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import orjson
import pytest

from detections.alerts import read_signals
from pipelines.cli import main
from tests.sinks.servers import HecServer

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = str(ROOT / "samples")
REFERENCE = str(ROOT / "examples" / "reference" / "enrichment.yaml")


def _signature(alerts: list[dict]) -> list[tuple]:
    return sorted(
        (a["id"], a["rule"]["id"], a["key"], a["first"], a["last"], a["suppressed"], tuple(a["event_ids"]),
         tuple((r["id"], tuple(r["risk_tags"])) for r in a["related"]))
        for a in alerts
    )


def _lines(text: str) -> list[dict]:
    return [orjson.loads(x) for x in text.splitlines() if x.strip()]


@pytest.mark.slow
def test_run_hunt_cold_and_hunt_raw_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPLUNK_HEC_TOKEN", "hec-token-for-detections")
    out = str(tmp_path / "demo-out")
    with HecServer("hec-token-for-detections") as hec:
        code = main(["run", "--input", SAMPLES, "--output", out, "--enrich-config", REFERENCE, "--rules",
                     "--sink", f"hec:{hec.url}?index=audit"])
        assert code == 0, capsys.readouterr()
        capsys.readouterr()
        sent = [e for e in hec.events if e.get("index") == "audit_alerts"]
    alerted = [orjson.loads(x) for f in glob.glob(os.path.join(out, "alerts", "*.jsonl"))
               for x in Path(f).read_bytes().splitlines()]
    signals = read_signals(out)
    assert alerted and signals
    assert {a["mode"] for a in alerted} == {"alert"} and {a["mode"] for a in signals} == {"monitor"}
    assert sorted(e["event"]["id"] for e in sent) == sorted(a["id"] for a in alerted)  # monitor: not the SIEM
    for a in alerted + signals:
        assert a["rule"]["runbook"] and a["events"] and a["events"][0]["what"]["risk_tags"] is not None
        assert all(r["id"] not in a["event_ids"] for r in a["related"])

    assert main(["hunt", out]) == 0
    from_cold = _lines(capsys.readouterr().out)
    assert main(["hunt", "--enrich-config", REFERENCE, SAMPLES]) == 0
    from_raw = _lines(capsys.readouterr().out)
    assert _signature(from_cold) == _signature(alerted + signals) == _signature(from_raw)

    assert main(["hunt", out, "--report", "--since", "2025-01-14", "--until", "2025-01-15"]) == 0
    report = capsys.readouterr()
    assert "per day: 2025-01-14" in report.out and "rows_candidate" in report.err
    assert main(["hunt", out, "--since", "2025-02-01"]) == 0
    assert capsys.readouterr().out == ""  # every partition pruned by date


def test_run_refuses_a_broken_rule_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rules" / "bad_rule").mkdir(parents=True)
    (tmp_path / "rules" / "bad_rule" / "rule.py").write_text("raise RuntimeError('oops')\n")
    code = main(["run", "--input", SAMPLES, "--output", str(tmp_path / "o"), "--rules", str(tmp_path / "rules")])
    assert code == 2
    assert "bad_rule: cannot load rule.py: RuntimeError: oops" in capsys.readouterr().err
