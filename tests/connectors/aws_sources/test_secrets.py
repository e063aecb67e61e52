"""No credential of the default chain appears in an error, a dead letter (error delivery) or a log record of
the AWS sources, even with every logger at DEBUG (botocore then prints signed requests)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from connectors.aws_cloudtrail.read_s3 import ReadCloudTrailS3, TrailOptions, _FetchFn
from connectors.aws_cloudtrail.read_sqs import SqsSource
from connectors.sources import Delivery, SourceError, SourceSpec

from .conftest import run_batch

pytestmark = pytest.mark.emulator

SECRET_KEY = "SECRETawsSecretAccessKey0123456789abcdefgh"
SESSION_TOKEN = "SECRETawsSessionToken//0123456789+abcdefghijklmnop=="


def test_no_secret_in_errors_logs_or_dead_letters(
    s3: Any,
    make_bucket: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    import boto3

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)  # moto accepts any key pair
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    texts: list[str] = []

    def expect_error(call: Any) -> None:
        with pytest.raises(SourceError) as err:
            call()
        texts.append(str(err.value))

    # S3 batch: a missing bucket, an unreachable endpoint (start-up errors), a missing object (dead letter).
    expect_error(lambda: run_batch(ReadCloudTrailS3(SourceSpec.parse("s3:no-such-bucket-x")), tmp_path))
    expect_error(
        lambda: ReadCloudTrailS3(SourceSpec.parse("s3:b1?endpoint=http://127.0.0.1:1&attempts=2")).expand(
            None
        )
    )
    bucket = make_bucket()
    fn = _FetchFn(TrailOptions.from_spec(SourceSpec.parse(f"s3:{bucket}")))
    fn.setup()
    (gone,) = fn.process(["AWSLogs/111111111111/CloudTrail/us-east-1/2025/01/14/x.json.gz"])
    assert isinstance(gone, Delivery) and gone.error
    texts += [gone.error, gone.location]

    # SQS stream: a queue that does not exist, a message for a missing file and one that is not JSON.
    expect_error(lambda: SqsSource(SourceSpec.parse("sqs:no-such-queue?region=us-east-1")).open())
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="secrets-test")["QueueUrl"]
    sqs.send_message(
        QueueUrl=url, MessageBody=json.dumps({"s3Bucket": bucket, "s3ObjectKey": ["AWSLogs/x.gz"]})
    )
    sqs.send_message(QueueUrl=url, MessageBody="{broken")
    src = SqsSource(SourceSpec.parse(f"sqs:{url}?visibility=30"))
    src.open()
    try:
        got: list[Delivery] = []
        for _ in range(10):
            got += src.poll(10, 1)
            if len(got) >= 2:
                break
        assert len(got) == 2 and all(d.error for d in got)
        texts += [t for d in got for t in (d.error or "", d.location, d.data.decode())]
        src.ack(got)
    finally:
        src.close()

    messages = [r.getMessage() for r in caplog.records]
    assert any("botocore" in r.name for r in caplog.records)  # the SDK did log its requests
    for text in texts + messages:
        assert SECRET_KEY not in text
        assert SESSION_TOKEN not in text
