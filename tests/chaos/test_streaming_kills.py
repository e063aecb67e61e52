"""Streaming runs killed with -9 at random points, on SQS (moto server, S3 notifications), Pub/Sub (the
emulator) and Event Hubs (the AMQP stand-in, checkpoints in Azurite), each followed by a restart: every
published event ends in cold storage exactly once (written = published, duplicates = 0).

Each round publishes a few more messages, starts ``cloudaudit run --streaming`` and kills its process
group with SIGKILL at a random moment after it took the output's lock; a last run reads on until the
source is idle. Only committed files count (Parquet files some manifest lists). ``make chaos`` runs 20
kills per source (``CHAOS_STREAM_KILLS``) within a time bound per source (``CHAOS_STREAM_SECONDS``); the
normal suite a short version (one kill on SQS and on Event Hubs; Pub/Sub, which redelivers only after
its 10 s minimum ack deadline, only in ``make chaos``).
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from connectors.normalize import normalize_bytes
from pipelines.manifest import verify
from schemas.event import Event
from tests.chaos import harness

LONG = os.environ.get("CLOUDAUDIT_CHAOS") == "1"
KILLS = int(os.environ.get("CHAOS_STREAM_KILLS", "20")) if LONG else 0
BUDGET = float(os.environ.get("CHAOS_STREAM_SECONDS", "900"))
# Minute windows: panes are committed, and deliveries acknowledged, all through a run (kills land between).
WINDOWS = ["--window", "60", "--allowed-lateness", "86400", "--dedup-ttl", "86400"]


def committed_ids(out: Path) -> Counter[str]:
    """Event ids in the Parquet files the manifests list (what readers and ``verify`` trust)."""
    ids: Counter[str] = Counter()
    for manifest in (out / "cold" / "_manifests").glob("*.jsonl"):
        for line in manifest.read_bytes().splitlines():
            entry = orjson.loads(line)
            if entry["path"].endswith(".parquet"):
                ids.update(pq.read_table(out / entry["path"], columns=["id"]).column("id").to_pylist())
    return ids


def ids_of(data: bytes) -> set[str]:
    return {r.id for r in normalize_bytes(data, "chaos") if isinstance(r, Event)}


def kill_loop(
    tmp_path: Path, source: str, publish: Callable[[int], set[str]], kills: int, seed: int, settle: float,
    idle_stop: float, final_idle_stop: float,
) -> dict[str, Any]:
    """Publish, run, kill -9, until ``kills`` runs were killed (bounded by ``BUDGET`` seconds); then a last
    run. Returns the figures for the report."""
    out = tmp_path / "out"
    args = ["run", "--streaming", "--source", source, "--output", str(out), "--idle-stop", str(idle_stop), *WINDOWS]
    rnd = random.Random(seed)
    published: set[str] = set()
    killed = finished = 0
    started = time.monotonic()
    k = 0
    while killed < kills and time.monotonic() - started < BUDGET:  # a run that finished first is no kill
        published |= publish(k)
        k += 1
        code = harness.run_and_kill(args, after=rnd.uniform(0.0, settle), sig=signal.SIGKILL,
                                    once=out / "_run.lock")
        killed += code == -signal.SIGKILL
        finished += code == 0
    published |= publish(k)
    last = harness.run(*args[:-len(WINDOWS) - 2], "--idle-stop", str(final_idle_stop), *WINDOWS, timeout=300)
    assert last.returncode == 0, last.stderr[-3000:]
    ids = committed_ids(out)
    doubled = sorted(i for i, n in ids.items() if n > 1)
    assert not doubled, f"{len(doubled)} events committed more than once"
    assert set(ids) == published, f"{len(published - set(ids))} missing, {len(set(ids) - published)} unexpected"
    report = verify(str(out))
    assert report.ok, report.text()
    summary = orjson.loads((out / "_summary.json").read_bytes())
    figures = {"published": len(published), "written": len(ids), "duplicates_in_lake": len(doubled),
               "kills": killed, "runs_finished_before_kill": finished,
               "duplicates_dropped_last_run": summary["duplicates_dropped"],
               "seconds": round(time.monotonic() - started, 1)}
    print(f"\n{source.split(':')[0]}: {figures}")
    return figures


# --- SQS -------------------------------------------------------------------------------------------


def cloudtrail_file(n: int, first: int) -> bytes:
    records = [
        {"eventVersion": "1.08", "eventTime": f"2024-05-01T13:{(first + i) % 60:02d}:{i % 60:02d}Z",
         "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey", "awsRegion": "us-east-1",
         "sourceIPAddress": "203.0.113.7", "eventType": "AwsApiCall", "recipientAccountId": "111122223333",
         "eventID": str(uuid.UUID(int=first + i + 1)),
         "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/chaos",
                          "accountId": "111122223333", "userName": "chaos"}}
        for i in range(n)
    ]
    return orjson.dumps({"Records": records})


def test_sqs_kills(aws: str, tmp_path: Path) -> None:
    import boto3

    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    bucket = f"chaos-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    url = sqs.create_queue(QueueName=f"chaos-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )

    def publish(k: int) -> set[str]:
        ids: set[str] = set()
        for f in range(3):
            data = cloudtrail_file(20, (k * 3 + f) * 20)
            s3.put_object(Bucket=bucket, Key=f"AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/f{k}-{f}.json",
                          Body=data)
            ids |= ids_of(data)
        return ids

    kill_loop(tmp_path, f"sqs:{url}?visibility=2", publish, KILLS or 1, seed=11, settle=6.0, idle_stop=3,
              final_idle_stop=5)


# --- Pub/Sub ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not LONG, reason="Pub/Sub redelivers after its 10 s minimum ack deadline: make chaos")
def test_pubsub_kills(pubsub: str, tmp_path: Path) -> None:
    from tests.connectors.gcp_sources.fixtures import entries
    from tests.connectors.gcp_sources.test_pubsub import make_subscription
    from tests.connectors.gcp_sources.test_pubsub import publish as publish_entries
    from tests.pipelines.conftest import lines

    topic, sub = make_subscription(ack_deadline=10)
    t0 = datetime(2024, 5, 1, 14, tzinfo=UTC)

    def publish(k: int) -> set[str]:
        batch = entries(15, t0 + timedelta(seconds=15 * k), timedelta(seconds=1), first=k * 15)
        publish_entries(topic, batch)
        return ids_of(lines(*batch))

    # Messages a killed run held come again after the 10 s ack deadline: the last run waits that long.
    kill_loop(tmp_path, f"pubsub:{sub}?ack_deadline=10", publish, KILLS or 1, seed=12, settle=6.0,
              idle_stop=3, final_idle_stop=14)


# --- Event Hubs ------------------------------------------------------------------------------------


@pytest.fixture
def eventhubs(azurite: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """The AMQP Event Hubs stand-in (two partitions) and a --source for it, checkpoints in Azurite."""
    from azure.storage.blob import ContainerClient

    from tests.connectors.azure_sources.amqp_server import EventHubServer
    from tests.connectors.azure_sources.data import HUB

    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "IDENTITY_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    server = EventHubServer({HUB: 2})
    monkeypatch.setenv("AZURE_EVENTHUB_CONNECTION_STRING", server.connection_string("ehkey" + secrets.token_hex(16)))
    container = "chaos-" + secrets.token_hex(6)
    with ContainerClient.from_connection_string(azurite.connection_string, container) as c:
        c.create_container()
    # A killed reader's partitions are claimable again after 3 s (60 s by default).
    yield server, (f"eventhub:127.0.0.1:{server.port}/{HUB}?checkpoint={azurite.blob_endpoint}/{container}"
                   "&balance_interval=1&ownership_expiry=3")
    server.close()


def test_eventhub_kills(eventhubs: tuple[Any, str], tmp_path: Path) -> None:
    from tests.connectors.azure_sources.data import HUB, message

    server, spec = eventhubs

    def publish(k: int) -> set[str]:
        ids: set[str] = set()
        for i in range(k * 6, k * 6 + 6):
            body = message(i, records=3)
            server.publish(HUB, i % 2, body)
            ids |= ids_of(body)
        return ids

    kill_loop(tmp_path, spec, publish, KILLS or 1, seed=13, settle=6.0, idle_stop=5, final_idle_stop=6)
