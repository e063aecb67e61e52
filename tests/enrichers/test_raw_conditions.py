"""The catalog's conditions on the original record (``raw_has_item``, ``raw_contains``) hold whether or not
the run keeps ``raw``: ``--no-raw`` drops it after enrichment, never before, in every place that enriches
(the pipeline's reader, the lone-start stage through the same helper, ``cloudaudit enrich``, ``hunt`` over
raw files). Before, dropping it first lost the tag and with it the alert.

The record is written for this test: a bucket made public where only the policy delta (in ``raw``) names
``allUsers``; the request says nothing the catalog's text conditions could match.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from enrichers.config import EnrichmentConfig
from enrichers.context import context_for, prepare
from pipelines.cli import main
from pipelines.read import SEGMENTS, FileReader
from pipelines.settings import Settings
from pipelines.spill import read_segment

TAG = "storage.public_access"

RECORD = {
    "protoPayload": {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "status": {},
        "authenticationInfo": {"principalEmail": "kim.builder@example.org"},
        "requestMetadata": {"callerIp": "192.0.2.44", "callerSuppliedUserAgent": "test-agent/1.0"},
        "serviceName": "storage.googleapis.com",
        "methodName": "storage.setIamPermissions",
        "resourceName": "projects/_/buckets/raw-conditions-bucket",
        "serviceData": {
            "@type": "type.googleapis.com/google.iam.v1.logging.AuditData",
            "policyDelta": {"bindingDeltas": [
                {"action": "ADD", "role": "roles/storage.objectViewer", "member": "allUsers"},
            ]},
        },
    },
    "insertId": "raw-conditions-1",
    "resource": {"type": "gcs_bucket", "labels": {"project_id": "raw-conditions-project", "bucket_name": "b"}},
    "timestamp": "2026-04-01T08:00:00.000000Z",
    "severity": "NOTICE",
    "logName": "projects/raw-conditions-project/logs/cloudaudit.googleapis.com%2Factivity",
}


@pytest.fixture
def record_file(tmp_path: Path) -> Path:
    path = tmp_path / "bucket.jsonl"
    path.write_bytes(orjson.dumps(RECORD) + b"\n")
    return path


def _out(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [orjson.loads(x) for x in capsys.readouterr().out.splitlines() if x.strip()]


@pytest.mark.parametrize("no_raw", [False, True])
def test_enrich_tags_from_raw_with_or_without_keeping_it(
    record_file: Path, capsys: pytest.CaptureFixture[str], no_raw: bool
) -> None:
    assert main(["enrich", *(["--no-raw"] if no_raw else []), str(record_file)]) == 0
    (event,) = _out(capsys)
    assert TAG in event["what"]["risk_tags"]
    assert (event["raw"] is None) is no_raw


@pytest.mark.parametrize("keep_raw", [True, False])
def test_the_pipeline_reader_tags_from_raw_then_drops_it(record_file: Path, tmp_path: Path, keep_raw: bool) -> None:
    reader = FileReader(Settings(keep_raw=keep_raw, dedup_shards=1), str(tmp_path / "spill"))
    reference = prepare(EnrichmentConfig())  # the bundled action catalog
    assert reference is not None
    reader.enrichment = context_for(reference)
    out = list(reader.read(str(record_file))) + list(reader.flush())
    events = [e for tag, (_key, seg) in out if tag == SEGMENTS for e in read_segment(seg)]
    ((_id, line, raw),) = events
    assert TAG in orjson.loads(line)["what"]["risk_tags"]
    assert (raw is None) is not keep_raw


def test_hunt_over_raw_files_alerts_on_a_tag_from_raw(record_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hunt", str(record_file)]) == 0
    alerts = _out(capsys)
    assert [a["rule"]["id"] for a in alerts] == ["public_data_exposure"]
    assert all("raw" not in e for a in alerts for e in a["events"])  # alerts never carry the record


def test_the_helper_counts_nothing_and_only_drops_without_a_context() -> None:
    from enrichers.context import enrich_document

    doc = {"raw": "{}", "what": {}}
    counts: Counter[str] = Counter()
    assert enrich_document(doc, None, counts, keep_raw=False) == {"raw": None, "what": {}}
    assert not counts
