"""Stream source ``sqs`` against the moto server: real S3 event notifications (direct and through SNS),
CloudTrail's SNS notification, control and broken messages, ack-on-all-parts, crash and redelivery."""

from __future__ import annotations

import json
import pickle
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connectors.aws_cloudtrail.read_sqs import SqsSource, parse_message
from connectors.normalize import normalize_bytes
from connectors.sources import Delivery, SourceError, SourceSpec, StreamSource, resolve
from schemas.event import Event

from .conftest import ACCOUNT_TRAIL

pytestmark = pytest.mark.emulator

LOG_FILES = sorted(
    p for p in (ACCOUNT_TRAIL / "AWSLogs").rglob("*.json.gz") if "/CloudTrail/" in p.as_posix()
)


@pytest.fixture
def sqs(aws: str) -> Any:
    import boto3

    return boto3.client("sqs")


@pytest.fixture
def queue(sqs: Any) -> tuple[str, str]:
    """(url, arn) of a fresh queue."""
    url = sqs.create_queue(QueueName=f"trail-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def source(url: str, **params: str) -> SqsSource:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    spec = SourceSpec.parse(f"sqs:{url}" + (f"?{query}" if query else ""))
    resolve(spec)
    src = SqsSource(spec)
    assert isinstance(src, StreamSource)
    return src


def drain(src: SqsSource, want: int, patience: float = 10.0) -> list[Delivery]:
    """Poll until ``want`` deliveries came (or ``patience`` seconds passed without reaching it)."""
    got: list[Delivery] = []
    deadline = time.monotonic() + patience
    while len(got) < want and time.monotonic() < deadline:
        got += src.poll(10, 1)
    return got


def notify_bucket(s3: Any, bucket: str, queue_arn: str) -> None:
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )


def test_notifications_of_every_shape_deliver_each_file_and_delete_on_ack(
    s3: Any, sqs: Any, queue: tuple[str, str], make_bucket: Callable[[], str]
) -> None:
    import boto3

    url, arn = queue
    direct, via_sns, quiet = make_bucket(), make_bucket(), make_bucket()  # quiet: no bucket notifications
    notify_bucket(s3, direct, arn)  # S3 sends its s3:TestEvent first, then one event per object
    sns = boto3.client("sns")
    topic = sns.create_topic(Name=f"trail-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    s3.put_bucket_notification_configuration(
        Bucket=via_sns,
        NotificationConfiguration={
            "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    expected: dict[str, bytes] = {}
    for i, path in enumerate(LOG_FILES[:6]):
        bucket = direct if i % 2 == 0 else via_sns
        key = path.relative_to(ACCOUNT_TRAIL).as_posix()
        if i == 0:
            key = key.replace(".json.gz", " copy+1.json.gz")  # S3 event keys are form-encoded: + and %2B
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        expected[f"s3://{bucket}/{key}"] = path.read_bytes()
    # CloudTrail's own SNS notification names two files in one message.
    pair = [p.relative_to(ACCOUNT_TRAIL).as_posix() for p in LOG_FILES[6:8]]
    for key, path in zip(pair, LOG_FILES[6:8], strict=True):
        s3.put_object(Bucket=quiet, Key=key, Body=path.read_bytes())
        expected[f"s3://{quiet}/{key}"] = path.read_bytes()
    sns.publish(TopicArn=topic, Message=json.dumps({"s3Bucket": quiet, "s3ObjectKey": pair}))
    # EventBridge's S3 "Object Created" event, delivered to the queue by a rule.
    key = LOG_FILES[8].relative_to(ACCOUNT_TRAIL).as_posix()
    s3.put_object(Bucket=quiet, Key=key, Body=LOG_FILES[8].read_bytes())
    expected[f"s3://{quiet}/{key}"] = LOG_FILES[8].read_bytes()
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps(
            {
                "version": "0",
                "detail-type": "Object Created",
                "source": "aws.s3",
                "detail": {"bucket": {"name": quiet}, "object": {"key": key, "size": 1}},
            }
        ),
    )
    assert len(expected) == 9

    src = source(url, visibility="30")
    src.open()
    try:
        got = drain(src, len(expected))
        assert sorted(d.location for d in got) == sorted(expected)  # each file once
        assert all(d.error is None and d.data == expected[d.location] for d in got)
        pairs = [d for d in got if d.parts == 2]
        assert sorted(d.part for d in pairs) == [0, 1] and len({d.ack_id for d in pairs}) == 1
        # S3's test event, direct and through SNS: acknowledged, counted, not delivered.
        assert src.counts["sqs.control.s3:TestEvent"] == 2

        ids = [r.id for d in got for r in normalize_bytes(d.data, d.location) if isinstance(r, Event)]
        assert ids and len(ids) == len(set(ids))

        src.ack(got)
        # One message per file, the pair shares one; plus the two test events deleted at once.
        assert src.counts["sqs.deleted"] == len(got) - 1 + 2
    finally:
        src.close()
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    )


def test_a_message_is_deleted_only_when_all_its_files_are_acknowledged(
    s3: Any, sqs: Any, queue: tuple[str, str], make_bucket: Callable[[], str]
) -> None:
    url, _arn = queue
    bucket = make_bucket()
    keys = [p.relative_to(ACCOUNT_TRAIL).as_posix() for p in LOG_FILES[:2]]
    for key, path in zip(keys, LOG_FILES[:2], strict=True):
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"s3Bucket": bucket, "s3ObjectKey": keys}))

    first = source(url, visibility="1")
    first.open()
    got = drain(first, 2)
    assert [d.part for d in got] == [0, 1]
    first.ack(got[:1])  # one part only: the message stays
    assert first.counts["sqs.deleted"] == 0

    # A crash: the reader is gone without acknowledging the rest. After the visibility timeout a new
    # reader gets the whole message again, and deletes it once both parts are acknowledged.
    del first
    second = source(url, visibility="1")
    second.open()
    try:
        again = drain(second, 2)
        assert sorted(d.location for d in again) == sorted(f"s3://{bucket}/{k}" for k in keys)
        second.ack(again)
        assert second.counts["sqs.deleted"] == 1
        assert drain(second, 1, patience=2.5) == []  # nothing comes back once deleted
    finally:
        second.close()


def test_close_releases_held_messages_at_once(
    s3: Any, sqs: Any, queue: tuple[str, str], make_bucket: Callable[[], str]
) -> None:
    url, _arn = queue
    bucket = make_bucket()
    key = LOG_FILES[0].relative_to(ACCOUNT_TRAIL).as_posix()
    s3.put_object(Bucket=bucket, Key=key, Body=LOG_FILES[0].read_bytes())
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"s3Bucket": bucket, "s3ObjectKey": [key]}))
    first = source(url, visibility="600")
    first.open()
    assert len(drain(first, 1)) == 1
    first.close()  # stopped before ack: the message is made visible again, not held for 10 minutes
    second = source(url, visibility="600")
    second.open()
    try:
        again = drain(second, 1)
        assert [d.location for d in again] == [f"s3://{bucket}/{key}"]
        second.ack(again)
    finally:
        second.close()


def test_unreadable_message_and_missing_file_are_error_deliveries_that_are_acknowledged(
    sqs: Any, queue: tuple[str, str], make_bucket: Callable[[], str]
) -> None:
    url, _arn = queue
    bucket = make_bucket()
    sqs.send_message(QueueUrl=url, MessageBody="not json {")
    sqs.send_message(
        QueueUrl=url, MessageBody=json.dumps({"s3Bucket": bucket, "s3ObjectKey": ["AWSLogs/gone.json.gz"]})
    )
    src = source(url, visibility="30")
    src.open()
    try:
        got = drain(src, 2)
        assert len(got) == 2 and all(d.error for d in got)
        broken = next(d for d in got if d.location.startswith("sqs://"))
        assert broken.data == b"not json {" and "not JSON" in (broken.error or "")
        gone = next(d for d in got if d.location.startswith("s3://"))
        assert gone.location == f"s3://{bucket}/AWSLogs/gone.json.gz" and "NoSuchKey" in (gone.error or "")
        src.ack(got)
        assert src.counts["sqs.deleted"] == 2
    finally:
        src.close()


def test_source_pickles_and_checks_the_queue_at_open(aws: str) -> None:
    src = source("http://127.0.0.1:1/123456789012/x")
    assert pickle.loads(pickle.dumps(src)).queue_name == "x"
    missing = source("no-such-queue", region="us-east-1")
    with pytest.raises(SourceError, match="no-such-queue"):
        missing.open()
    opened = source(missing.queue_name, region="us-east-1")
    for bad in (
        "",
        "a/b",
        "https://user:pw@sqs.us-east-1.amazonaws.com/1/q",
        "q?visibility=0",
        "q?endpoint=ftp://x",
    ):
        with pytest.raises(SourceError):
            SqsSource(
                SourceSpec(
                    "sqs",
                    bad.partition("?")[0],
                    dict([bad.partition("?")[2].split("=")]) if "?" in bad else {},
                )
            )
    assert opened._sqs is None  # nothing connects before open()


@pytest.mark.parametrize(
    ("body", "files", "control"),
    [
        ('{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}', (), "s3:TestEvent"),
        (
            '{"Type":"Notification","Message":"CloudTrail validation message."}',
            (),
            "cloudtrail:ValidationMessage",
        ),
        ('{"Type":"SubscriptionConfirmation","Message":"..."}', (), "sns:SubscriptionConfirmation"),
        (
            '{"Records":[{"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}',
            (),
            "s3:ObjectRemoved:Delete",
        ),
        (
            '{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a+b%2Bc%3D"}}}]}',
            (("b", "a b+c="),),
            None,
        ),
        ('{"s3Bucket":"b","s3ObjectKey":"one"}', (("b", "one"),), None),
    ],
)
def test_parse_message_shapes(body: str, files: tuple[tuple[str, str], ...], control: str | None) -> None:
    notice = parse_message(body)
    assert (notice.files, notice.control, notice.error) == (files, control, None)


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '{"Records":[{"eventName":"x"}]}',
        '{"hello":1}',
        '{"Type":"Notification","Message":"{\\"Type\\":\\"Notification\\",\\"Message\\":1}"}',
        '{"s3Bucket":"b","s3ObjectKey":[]}',
    ],
)
def test_parse_message_errors(body: str) -> None:
    assert parse_message(body).error


def test_readme_example_is_a_valid_spec(tmp_path: Path) -> None:
    from connectors.aws_cloudtrail import SOURCES

    for kind in SOURCES:
        spec = SourceSpec.parse(kind.example)
        assert resolve(spec) is kind
        kind.factory(spec) if kind.mode == "stream" else None


def test_throttling_is_retried(
    aws: str, s3: Any, sqs: Any, queue: tuple[str, str], make_bucket: Callable[[], str]
) -> None:
    from .throttle import throttling

    url, _arn = queue
    bucket = make_bucket()
    key = LOG_FILES[0].relative_to(ACCOUNT_TRAIL).as_posix()
    s3.put_object(Bucket=bucket, Key=key, Body=LOG_FILES[0].read_bytes())
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"s3Bucket": bucket, "s3ObjectKey": [key]}))
    with throttling(aws, fail=2) as (endpoint, throttle):
        src = source(url, endpoint=endpoint, attempts="4", visibility="30")
        src.open()  # its first requests are refused, and retried
        try:
            got = drain(src, 1)
            src.ack(got)
        finally:
            src.close()
    assert throttle.failed == 2
    assert [d.location for d in got] == [f"s3://{bucket}/{key}"] and got[0].error is None
    assert src.counts["sqs.deleted"] == 1
