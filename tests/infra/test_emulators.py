"""The stand-ins answer over their real wire protocols (a smoke test per emulator, so a broken one is
reported here once rather than as failures across the connector and sink tests)."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.emulator


def test_moto_s3_and_sqs(aws: str) -> None:
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="smoke")
    s3.put_object(Bucket="smoke", Key="a/b.json", Body=b"{}")
    assert s3.get_object(Bucket="smoke", Key="a/b.json")["Body"].read() == b"{}"
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="smoke")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert msgs[0]["Body"] == "hello"


def test_moto_state_is_reset_per_test(aws: str) -> None:
    import boto3

    assert boto3.client("s3").list_buckets()["Buckets"] == []


def test_azurite_blob(azurite: object) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite.connection_string)  # type: ignore[attr-defined]
    container = service.create_container(f"smoke-{uuid.uuid4().hex[:8]}")
    container.upload_blob("x/PT1H.json", b'{"a": 1}\n')
    assert container.download_blob("x/PT1H.json").readall() == b'{"a": 1}\n'


def test_gcs_emulator(gcs: str) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="cloudaudit-test", credentials=AnonymousCredentials())
    bucket = client.create_bucket(f"smoke-{uuid.uuid4().hex[:8]}")
    bucket.blob("cloudaudit.googleapis.com/activity/x.json").upload_from_string(b"{}")
    assert [b.name for b in client.list_blobs(bucket.name)] == ["cloudaudit.googleapis.com/activity/x.json"]


def test_pubsub_emulator(pubsub: str) -> None:
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path("cloudaudit-test", f"smoke-{uuid.uuid4().hex[:8]}")
    sub = subscriber.subscription_path("cloudaudit-test", f"smoke-{uuid.uuid4().hex[:8]}")
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=sub, topic=topic)
    publisher.publish(topic, b'{"logName": "x"}').result(timeout=30)
    got = subscriber.pull(subscription=sub, max_messages=1, timeout=30)
    assert got.received_messages[0].message.data == b'{"logName": "x"}'
    subscriber.acknowledge(subscription=sub, ack_ids=[m.ack_id for m in got.received_messages])
