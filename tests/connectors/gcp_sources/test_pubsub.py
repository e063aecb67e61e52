"""Source kind ``pubsub``: pull, lease, ack and redelivery on the gcloud Pub/Sub emulator (``pubsub``)."""

from __future__ import annotations

import json
import logging
import pickle
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.gcp_audit import read_pubsub as rp
from connectors.sources import Delivery, SourceError, SourceSpec, StreamSource, resolve
from tests.connectors.gcp_sources.fixtures import entries, expected_ids, normalize
from tests.emulators import GCP_PROJECT

T0 = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)


def make_subscription(ack_deadline: int = 10) -> tuple[str, str]:
    """A fresh topic and subscription (the emulator's minimum ack deadline, 10 s, so redelivery is quick)."""
    from google.cloud import pubsub_v1

    name = uuid.uuid4().hex[:10]
    topic = f"projects/{GCP_PROJECT}/topics/audit-{name}"
    sub = f"projects/{GCP_PROJECT}/subscriptions/audit-{name}"
    publisher = pubsub_v1.PublisherClient()
    publisher.create_topic(name=topic)
    with pubsub_v1.SubscriberClient() as subscriber:
        subscriber.create_subscription(name=sub, topic=topic, ack_deadline_seconds=ack_deadline)
    return topic, sub


def publish(topic: str, records: Sequence[dict[str, Any]]) -> list[str]:
    """Publish each LogEntry as a log sink does: the entry's JSON as the message data."""
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    futures = [publisher.publish(topic, orjson.dumps(r), **{"logging.googleapis.com/timestamp": r["timestamp"]})
               for r in records]
    return [f.result(timeout=30) for f in futures]


def drain(source: rp.PubSubSource, want: int, seconds: float = 30.0) -> list[Delivery]:
    """Poll until ``want`` deliveries arrived (the emulator hands out messages in small bunches)."""
    got: list[Delivery] = []
    deadline = time.monotonic() + seconds
    while len(got) < want and time.monotonic() < deadline:
        got.extend(source.poll(100, 2.0))
    return got


def open_source(sub: str, **params: str) -> rp.PubSubSource:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    s = SourceSpec.parse(f"pubsub:{sub}" + (f"?{query}" if query else ""))
    source = resolve(s).factory(s)
    assert isinstance(source, rp.PubSubSource) and isinstance(source, StreamSource)
    source = pickle.loads(pickle.dumps(source))  # the pipeline ships it pickled
    source.open()
    return source


@pytest.mark.parametrize(
    "text", ["pubsub:my-sub", "pubsub:projects/p/topics/t", "pubsub:projects/acme/subscriptions/s?ack_deadline=5"]
)
def test_bad_specs(text: str) -> None:
    s = SourceSpec.parse(text)
    with pytest.raises(SourceError):
        resolve(s).factory(s)


def test_every_message_once_then_acked(pubsub: str) -> None:
    topic, sub = make_subscription()
    from google.cloud import pubsub_v1

    records = entries(6, T0, timedelta(minutes=1))
    message_ids = publish(topic, records)
    bad_id = pubsub_v1.PublisherClient().publish(topic, b'{"textPayload": "not an audit entry"').result(30)
    source = open_source(sub)
    try:
        got = drain(source, len(records) + 1)
        assert len(got) == len(records) + 1
        assert {d.location for d in got} == {f"pubsub://{sub}#{m}" for m in [*message_ids, bad_id]}
        ids, dead = normalize(got)
        assert Counter(ids) == Counter(expected_ids(records))
        assert [(d.location, d.code) for d in dead] == [(f"pubsub://{sub}#{bad_id}#0", "invalid_json")]
        source.ack(got)
        assert source.poll(100, 1.0) == []  # acked: nothing comes back
    finally:
        source.close()


def test_crash_before_ack_delivers_again_and_leases_hold_slow_batches(pubsub: str) -> None:
    topic, sub = make_subscription(ack_deadline=10)
    records = entries(3, T0, timedelta(minutes=1), first=50)
    publish(topic, records)
    first = open_source(sub, ack_deadline="10")
    got = drain(first, len(records))
    assert len(got) == len(records)
    # A slow batch: past the subscription's 10 s deadline, the lease thread keeps the messages out of
    # other readers' hands.
    other = open_source(sub)
    time.sleep(12)
    assert other.poll(100, 1.0) == []
    # The first reader crashes before ack: its lease thread dies with it and nothing is given back.
    assert first._thread is not None
    first._stop.set()
    first._thread.join()
    first._client = None
    # The deadline runs out and Pub/Sub delivers the same messages to the next reader.
    again = drain(other, len(records), seconds=40)
    try:
        assert sorted(d.location for d in again) == sorted(d.location for d in got)
        ids, _ = normalize(got + again)
        assert Counter(ids) == Counter({i: 2 for i in expected_ids(records)})  # dedup keeps one of each
        other.ack(again)
        assert other.poll(100, 1.0) == []
    finally:
        other.close()


def test_close_gives_unacked_messages_back_at_once(pubsub: str) -> None:
    topic, sub = make_subscription(ack_deadline=600)
    records = entries(2, T0, timedelta(minutes=1), first=80)
    publish(topic, records)
    first = open_source(sub)
    got = drain(first, len(records))
    first.close()  # stopped before ack: a nack, so the long deadline does not hold the messages
    second = open_source(sub)
    try:
        again = drain(second, len(records), seconds=20)
        assert sorted(d.location for d in again) == sorted(d.location for d in got)
        second.ack(again)
    finally:
        second.close()


def test_missing_subscription_is_a_clear_error_without_secrets(
    pubsub: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "SECRET-private-key-4e5f6a7b8c9d"
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "private_key_id": secret, "private_key": secret,
                               "client_email": "x@acme.iam.gserviceaccount.com", "token_uri": "http://127.0.0.1:9/"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    sub = f"projects/{GCP_PROJECT}/subscriptions/missing-{uuid.uuid4().hex[:8]}"
    source = open_source(sub)
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(rp.PubSubSourceError) as err:
            source.poll(10, 2.0)
        source.ack([Delivery("pubsub://x#1", b"", "not-an-ack-id")])  # a failed ack is logged, not raised
    finally:
        source.close()
    assert str(err.value).startswith(f"cannot pull from {sub}: NotFound 404")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert secret not in str(err.value) and secret not in logged
