"""`cloudaudit detect test` over the bundled pack (CI runs it here), and the checks that make it fail."""

from __future__ import annotations

import os
import shutil

import pytest

from detections.loader import BUNDLED, load_pack
from detections.testing import run_tests
from pipelines.cli import main


def test_bundled_pack_passes_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "test"]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("OK")
    pack = load_pack()
    assert len(pack.rules) >= 20 and not pack.problems
    report = run_tests()
    for r in pack.rules:  # every cloud a rule names has both kinds of case
        for cloud in r.meta.clouds:
            kinds = {c.kind for c in report.cases if c.rule == r.id and cloud in c.providers and c.ok}
            assert kinds == {"match", "nomatch"}, (r.id, cloud, kinds)


def test_every_rule_has_complete_metadata_and_a_runbook() -> None:
    for r in load_pack().rules:
        m = r.meta
        assert m.techniques and m.tactics and m.owner and m.scenario and m.clouds
        assert r.runbook.startswith("# ") and "## Triage" in r.runbook


def _copy_rule(tmp: str, rule_id: str, as_id: str | None = None) -> str:
    dst = os.path.join(tmp, as_id or rule_id)
    shutil.copytree(os.path.join(BUNDLED, rule_id), dst)
    return dst


def test_missing_case_kind_fails(tmp_path: os.PathLike[str], capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy_rule(str(tmp_path), "leave_organization")
    shutil.rmtree(os.path.join(folder, "tests", "nomatch"))
    assert main(["detect", "test", str(tmp_path)]) == 1
    assert "leave_organization: no must-not-match case" in capsys.readouterr().out


def test_missing_cloud_fails(tmp_path: os.PathLike[str]) -> None:
    folder = _copy_rule(str(tmp_path), "leave_organization")
    for kind in ("match", "nomatch"):
        for name in os.listdir(os.path.join(folder, "tests", kind)):
            if name.startswith("gcp-"):
                os.remove(os.path.join(folder, "tests", kind, name))
    report = run_tests(str(tmp_path))
    assert not report.ok
    assert any("no must-match case for gcp" in p for p in report.problems)


def test_incomplete_metadata_fails(tmp_path: os.PathLike[str]) -> None:
    folder = _copy_rule(str(tmp_path), "leave_organization")
    path = os.path.join(folder, "rule.py")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace('    owner="cloud-platform",\n', "").replace('techniques=("T1666",)', 'techniques=("1666",)'))
    report = run_tests(str(tmp_path))
    assert not report.ok
    (problem,) = report.problems
    assert "incomplete or invalid metadata" in problem and "owner" in problem and "techniques" in problem


def test_duplicate_id_fails(tmp_path: os.PathLike[str]) -> None:
    _copy_rule(str(tmp_path), "leave_organization")
    _copy_rule(str(tmp_path), "leave_organization", as_id="leave_organization_copy")
    report = run_tests(str(tmp_path))
    assert any("duplicate rule id 'leave_organization'" in p for p in report.problems)


def test_a_mapping_drift_fails_the_rule_test(tmp_path: os.PathLike[str]) -> None:
    # A must-match case the rule does not match (as when a mapper or the catalog drifts) fails.
    folder = _copy_rule(str(tmp_path), "logging_disabled")
    src = os.path.join(folder, "tests", "match", "aws-stop-logging.json")
    with open(src) as f:
        text = f.read()
    with open(src, "w") as f:
        f.write(text.replace('"StopLogging"', '"StartLogging"'))
    report = run_tests(str(tmp_path))
    failed = [c for c in report.cases if not c.ok]
    assert [c.path for c in failed] == [os.path.join("tests", "match", "aws-stop-logging.json")]
    assert "no alert" in failed[0].message


def test_a_record_that_is_no_event_fails(tmp_path: os.PathLike[str]) -> None:
    folder = _copy_rule(str(tmp_path), "leave_organization")
    with open(os.path.join(folder, "tests", "match", "broken.json"), "w") as f:
        f.write('{"not": "an audit record"}\n')
    report = run_tests(str(tmp_path))
    (bad,) = [c for c in report.cases if not c.ok]
    assert "dead letter" in bad.message


def test_coverage_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "coverage"]) == 0
    out = capsys.readouterr().out
    assert "logging_disabled" in out and "T1562.008" in out
    assert "forensics only" in out  # e.g. Azure Activity data_access feeds no rule
