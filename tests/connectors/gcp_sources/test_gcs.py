"""Source kind ``gcs``: a Cloud Storage log-sink export, on the gcp-storage-emulator (``gcs`` fixture)."""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.gcp_audit import read_gcs as rg
from connectors.sources import Delivery, SourceError, SourceSpec, resolve
from tests.connectors.gcp_sources.beamrun import run_source
from tests.connectors.gcp_sources.fixtures import entries, expected_ids, jsonl, normalize
from tests.connectors.gcp_sources.proxy import FaultyProxy

T0 = datetime(2024, 5, 2, 22, 0, tzinfo=UTC)  # the range crosses midnight: two day prefixes
T1 = datetime(2024, 5, 3, 2, 0, tzinfo=UTC)


def hour_file(prefix: str, log: str, hour: datetime, shard: int = 0) -> str:
    return (f"{prefix}cloudaudit.googleapis.com/{log}/{hour:%Y/%m/%d}/"
            f"{hour:%H}:00:00_{hour:%H}:59:59_S{shard}.json")


def storage_client() -> Any:
    from google.cloud import storage

    return storage.Client()


def make_bucket() -> tuple[Any, Any]:
    client = storage_client()
    return client, client.create_bucket(f"audit-sink-{uuid.uuid4().hex[:12]}")


def put(bucket: Any, name: str, data: bytes) -> None:
    bucket.blob(name).upload_from_string(data, content_type="application/json")


def test_prefixes_cover_each_day_of_each_log() -> None:
    opts = rg.options_from_spec(SourceSpec.parse("gcs:audit-bucket/org-sink/?logs=activity,policy", T0, T1))
    assert rg.list_prefixes(opts) == [
        "org-sink/cloudaudit.googleapis.com/activity/2024/05/02/",
        "org-sink/cloudaudit.googleapis.com/activity/2024/05/03/",
        "org-sink/cloudaudit.googleapis.com/policy/2024/05/02/",
        "org-sink/cloudaudit.googleapis.com/policy/2024/05/03/",
    ]
    whole = rg.options_from_spec(SourceSpec.parse("gcs:gs://audit-bucket?logs=system_event"))
    assert rg.list_prefixes(whole) == ["cloudaudit.googleapis.com/system_event/"]


def test_hour_files_in_range() -> None:
    opts = rg.options_from_spec(SourceSpec.parse("gcs:audit-bucket", T0 + timedelta(minutes=30), T1))
    name = "cloudaudit.googleapis.com/activity/2024/05/02/{}_S0.json"
    assert rg.hour_of(name.format("22:00:00_22:59:59")) == T0
    assert rg.in_range(name.format("22:00:00_22:59:59"), opts)  # overlaps the range's start
    assert not rg.in_range(name.format("21:00:00_21:59:59"), opts)
    assert not rg.in_range("cloudaudit.googleapis.com/activity/2024/05/03/02:00:00_02:59:59_S1.json", opts)
    assert rg.in_range("cloudaudit.googleapis.com/activity/2024/05/02/manual-copy.json", opts)


@pytest.mark.parametrize("text", ["gcs:/prefix-only", "gcs:Bad_Bucket", "gcs:my-bucket?logs=nope"])
def test_bad_specs(text: str) -> None:
    s = SourceSpec.parse(text)
    with pytest.raises(SourceError):
        resolve(s).factory(s)


def test_reads_the_hours_in_range_exactly_once(gcs: str) -> None:
    _, bucket = make_bucket()
    prefix = "org-sink/"
    want: list[dict[str, Any]] = []
    locations: set[str] = set()
    n = 0
    for h in range(5):  # 22:00 .. 02:00 (exclusive end at 02:00): 4 hours in range
        hour = T0 - timedelta(hours=1) + timedelta(hours=h)  # 21:00 .. 01:00
        for log in ("activity", "data_access"):
            batch = entries(6, hour + timedelta(minutes=3), timedelta(minutes=9), log=log, first=n)
            n += 10
            name = hour_file(prefix, log, hour)
            put(bucket, name, jsonl(batch))
            if hour >= T0 and log == "activity":
                want += batch
                locations.add(f"gs://{bucket.name}/{name}")
    # A second shard of one hour, and a sink file from another log that was not asked for.
    extra = entries(3, T0 + timedelta(minutes=1), timedelta(minutes=1), first=500)
    put(bucket, hour_file(prefix, "activity", T0, shard=1), jsonl(extra))
    want += extra
    locations.add(f"gs://{bucket.name}/{hour_file(prefix, 'activity', T0, shard=1)}")
    put(bucket, hour_file(prefix, "activity", T1), jsonl(entries(2, T1, timedelta(minutes=1), first=600)))
    put(bucket, hour_file("", "activity", T0), jsonl(entries(2, T0, timedelta(minutes=1), first=700)))

    s = SourceSpec.parse(f"gcs:{bucket.name}/{prefix}?logs=activity", T0, T1)
    blobs = run_source(resolve(s).factory(s))
    assert {loc for loc, _ in blobs} == locations
    ids, dead = normalize(blobs)
    assert not dead
    assert Counter(ids) == Counter(expected_ids(want))


def test_whole_export_without_a_range(gcs: str) -> None:
    _, bucket = make_bucket()
    a = entries(4, T0, timedelta(minutes=1), log="policy", first=0)
    b = entries(4, T1, timedelta(minutes=1), log="system_event", first=10)
    put(bucket, hour_file("", "policy", T0), jsonl(a))
    put(bucket, hour_file("", "system_event", T1), jsonl(b))
    s = SourceSpec.parse(f"gcs:{bucket.name}")
    ids, dead = normalize(run_source(resolve(s).factory(s)))
    assert not dead and Counter(ids) == Counter(expected_ids(a + b))


def test_missing_bucket_and_missing_object(gcs: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """Error paths with recognisable secrets where the default chain could look: none may leak."""
    secret = "SECRET-private-key-9b8a7c6d5e4f"
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "private_key_id": secret, "private_key": secret,
                               "client_email": "x@acme.iam.gserviceaccount.com", "token_uri": "http://127.0.0.1:9/"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    client, bucket = make_bucket()
    opts = rg.options_from_spec(SourceSpec.parse(f"gcs:{bucket.name}"))
    with caplog.at_level(logging.DEBUG):
        gone = rg.fetch(client, opts, "cloudaudit.googleapis.com/activity/2024/05/02/22:00:00_22:59:59_S0.json")
        missing = rg.GcsOptions(f"no-such-bucket-{uuid.uuid4().hex[:8]}", "", ("activity",))
        with pytest.raises(rg.GcsSourceError) as err:
            list(rg.list_objects(client, missing, "cloudaudit.googleapis.com/activity/"))
    assert isinstance(gone, Delivery) and gone.error and gone.data == b""
    assert gone.location == (f"gs://{bucket.name}/cloudaudit.googleapis.com/activity/2024/05/02/"
                             "22:00:00_22:59:59_S0.json")
    assert "NotFound 404" in gone.error
    assert str(err.value).startswith(f"listing gs://{missing.bucket}/cloudaudit.googleapis.com/activity/ failed: ")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for text in (gone.error, str(err.value), logged):
        assert secret not in text


def test_transient_errors_are_retried_by_the_client(gcs: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """503s on the listing and on a download, injected on the wire: the run still reads everything."""
    _, bucket = make_bucket()
    records = entries(5, T0, timedelta(minutes=7), first=900)
    put(bucket, hour_file("", "activity", T0), jsonl(records))
    with FaultyProxy(gcs) as proxy:
        proxy.fail(r"/b/[^/]+/o\?", times=1)  # objects.list
        proxy.fail(r"alt=media", times=1)  # the download
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy.url)
        s = SourceSpec.parse(f"gcs:{bucket.name}?logs=activity", T0, T1)
        blobs = run_source(resolve(s).factory(s))
        assert proxy.served_faults == 2
    ids, dead = normalize(blobs)
    assert not dead and Counter(ids) == Counter(expected_ids(records))
