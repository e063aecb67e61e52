"""The GCP sources through ``cloudaudit run``: batch (Logging API stand-in + GCS export, overlapping) and
streaming (Pub/Sub emulator) with a crash before ack and a restart: every record once in the output."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.gcp_audit import read_pubsub as rp
from connectors.sources import SourceSpec
from pipelines import cli
from tests.connectors.gcp_sources.fixtures import entries, expected_ids, jsonl
from tests.connectors.gcp_sources.logging_server import LoggingApiServer
from tests.connectors.gcp_sources.test_gcs import hour_file, make_bucket, put
from tests.connectors.gcp_sources.test_pubsub import make_subscription, publish
from tests.pipelines.test_streaming_support import deadletters, parquet_ids, siem_ids

T0 = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=2)


def test_batch_logging_api_and_gcs_export_once_each(gcs: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    only_api = entries(30, T0, timedelta(minutes=3), first=0)
    both = entries(20, T0 + timedelta(seconds=20), timedelta(minutes=5), log="policy", first=100)
    only_export = entries(10, T0 + timedelta(hours=1, seconds=40), timedelta(minutes=4), first=200)
    _, bucket = make_bucket()
    for hour in (T0, T0 + timedelta(hours=1)):
        for log in ("activity", "policy"):
            inside = [e for e in both + only_export
                      if e["logName"].endswith(log) and e["timestamp"].startswith(f"{hour:%Y-%m-%dT%H}")]
            if inside:
                put(bucket, hour_file("sink/", log, hour), jsonl(inside))
    out = tmp_path / "out"
    with LoggingApiServer(only_api + both) as api:
        api.fail(429, "Quota exceeded", retry_after="1")
        rc = cli.main([
            "run", "--source", f"logging:projects/acme-prod?endpoint={api.endpoint}&rpm=6000&page_size=9",
            "--source", f"gcs:{bucket.name}/sink", "--start", "2024-05-02T10:00:00Z",
            "--end", "2024-05-02T12:00:00Z", "--output", str(out),
        ])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    want = Counter(expected_ids(only_api + both + only_export))
    assert siem_ids(out) == want  # the 20 read from both sources written once
    assert parquet_ids(out) == want
    assert deadletters(out) == []


def test_streaming_pubsub_crash_before_ack_then_restart(pubsub: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    topic, sub = make_subscription(ack_deadline=10)
    first = entries(4, T0, timedelta(minutes=1), first=0)
    publish(topic, first)
    out = tmp_path / "out"
    args = ["run", "--streaming", "--source", f"pubsub:{sub}?ack_deadline=10", "--output", str(out),
            "--window", "60"]

    # Run 1 writes its events and is killed before its acknowledgements reach Pub/Sub: nothing acked,
    # nothing given back (the lease thread dies with the process).
    def crashed_close(self: rp.PubSubSource) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._client is not None:
            self._client.close()
            self._client = None

    with monkeypatch.context() as m:
        m.setattr(rp.PubSubSource, "ack", lambda self, deliveries: None)
        m.setattr(rp.PubSubSource, "close", crashed_close)
        assert cli.main([*args, "--idle-stop", "3"]) == 0, capsys.readouterr()
    assert siem_ids(out) == Counter(expected_ids(first))

    # Meanwhile: new entries, and one entry the sink published twice.
    second = entries(3, T0 + timedelta(minutes=5), timedelta(minutes=1), first=10)
    publish(topic, [*second, first[0]])
    # Run 2 gets the new messages at once and run 1's again when their deadline runs out.
    assert cli.main([*args, "--idle-stop", "15"]) == 0, capsys.readouterr()
    want = Counter(expected_ids(first + second))
    assert siem_ids(out) == want
    assert parquet_ids(out) == want
    # Everything was acknowledged this time: the subscription is empty.
    source = rp.source(SourceSpec.parse(f"pubsub:{sub}"))
    source.open()
    try:
        assert source.poll(100, 2.0) == []
    finally:
        source.close()
