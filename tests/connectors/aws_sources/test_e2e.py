"""End to end through ``cloudaudit run``: a trail in S3 (batch) and its SQS notifications (streaming, with a
crash before acknowledgement and a restart) give every record exactly once in the output."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from connectors.aws_cloudtrail.read_sqs import SqsSource
from connectors.normalize import normalize_bytes
from connectors.sources import SourceSpec
from pipelines import cli
from schemas.event import Event
from tests.pipelines.test_streaming_support import siem_ids

from .conftest import ACCOUNT_TRAIL, ORG_TRAIL, upload_tree

pytestmark = pytest.mark.emulator


def expected_ids(files: dict[str, bytes]) -> set[str]:
    return {r.id for k, v in files.items() for r in normalize_bytes(v, k) if isinstance(r, Event)}


def test_batch_run_from_s3_writes_every_record_once(s3: Any, make_bucket: Any, tmp_path: Path) -> None:
    bucket = make_bucket()
    stored = upload_tree(s3, bucket, ORG_TRAIL) | upload_tree(s3, bucket, ACCOUNT_TRAIL)
    logs = {k: v for k, v in stored.items() if "/CloudTrail/" in k}
    out = tmp_path / "out"

    code = cli.main(
        [
            "run",
            "--source",
            f"s3:{bucket}?page_size=10",
            "--start",
            "2025-01-14T00:00:00Z",
            "--end",
            "2025-01-15T00:00:00Z",
            "--output",
            str(out),
        ]
    )

    assert code == 0
    ids = siem_ids(out)
    assert set(ids) == expected_ids(logs) and set(ids.values()) == {1}
    summary = json.loads((out / "_summary.json").read_text())
    assert "s3" in json.dumps(summary)


def test_batch_run_with_a_missing_bucket_fails_in_one_line(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["run", "--source", "s3:no-such-trail-bucket", "--start=-1h", "--output", str(tmp_path / "out")]
    )
    assert code != 0  # 2 once the pipeline maps a SourceError raised while building it to a usage error
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 1 and "s3://no-such-trail-bucket/AWSLogs/: the bucket does not exist" in errors[0]


def test_streaming_from_sqs_survives_a_crash_before_ack(
    s3: Any, make_bucket: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import boto3

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"trail-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bucket = make_bucket()
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    stored = upload_tree(s3, bucket, ACCOUNT_TRAIL / "AWSLogs" / "269472394520", "AWSLogs/269472394520/")
    logs = {k: v for k, v in stored.items() if "/CloudTrail/" in k}
    want = expected_ids(logs)
    assert len(stored) > 5 and want
    out = tmp_path / "out"
    source = f"sqs:{url}?visibility=2"
    # The sample day's events span 18 hours: deduplication must remember ids (and accept late events) that
    # long for the guarantee to cover all of them; it holds within --dedup-ttl.
    run = [
        "run",
        "--streaming",
        "--source",
        source,
        "--idle-stop",
        "4",
        "--dedup-ttl",
        "86400",
        "--allowed-lateness",
        "86400",
        "--output",
        str(out),
    ]

    # A reader that polls and dies without acknowledging: its messages come back after the visibility.
    dropped = SqsSource(SourceSpec.parse(source))
    dropped.open()
    assert dropped.poll(10, 1)
    del dropped

    # A run that crashes when acknowledging: what it read is written, nothing is deleted from the queue.
    def crash(self: SqsSource, deliveries: Any) -> None:
        raise RuntimeError("simulated crash before the messages were deleted")

    with monkeypatch.context() as patch:
        patch.setattr(SqsSource, "ack", crash)
        first = cli.main(run)
    assert first != 0
    assert set(siem_ids(out)) == want  # written before the crash, yet still on the queue
    time.sleep(2.5)  # the crashed run's messages become visible again

    second = cli.main(run)

    assert second == 0
    ids = siem_ids(out)
    # Everything came again, and deduplication (seeded from what the crashed run wrote) kept it single.
    assert json.loads((out / "_summary.json").read_text())["duplicates_dropped"] >= len(want)
    assert set(ids) == want and set(ids.values()) == {1}
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    )
