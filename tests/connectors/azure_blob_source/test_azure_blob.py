"""Batch source ``azure-blob`` against Azurite: the Activity Log storage export, by subscription and hour."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.azure_activity.read_blob import (
    BlobOptions,
    ReadActivityLogBlobs,
    _FetchFn,
    blob_names,
    hour_prefixes,
    parse_target,
    subscription_prefixes,
)
from connectors.normalize import normalize_bytes
from connectors.sources import Delivery, SourceError, SourceSpec, resolve
from schemas.event import Event
from tests.connectors.aws_sources.conftest import run_batch

pytestmark = pytest.mark.emulator

EXPORT = (
    Path(__file__).resolve().parents[3] / "samples" / "azure" / "stacmeauditlogs" / "insights-activity-logs"
)
DAY = datetime(2025, 1, 14, tzinfo=UTC)
NEXT_DAY = datetime(2025, 1, 15, tzinfo=UTC)
SUB_A = "11111111-2222-3333-4444-555555555555"
SUB_B = "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"


@pytest.fixture
def container(azurite: Any) -> Any:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    client = service.create_container(f"activity-{uuid.uuid4().hex[:10]}")
    yield client
    client.delete_container()


def url(azurite: Any, container: Any, query: str = "") -> str:
    return f"azure-blob:{azurite.blob_endpoint}/{container.container_name}" + (f"?{query}" if query else "")


def spec(text: str, start: datetime | None = None, end: datetime | None = None) -> SourceSpec:
    parsed = SourceSpec.parse(text, start, end)
    resolve(parsed)
    return parsed


def upload_export(container: Any) -> dict[str, bytes]:
    stored: dict[str, bytes] = {}
    for path in sorted(p for p in EXPORT.rglob("PT1H.json")):
        name = path.relative_to(EXPORT).as_posix()
        container.upload_blob(name, path.read_bytes(), blob_type="AppendBlob")  # what the export writes
        stored[name] = path.read_bytes()
    return stored


def record(sub: str, when: str) -> bytes:
    return (
        json.dumps(
            {
                "time": when,
                "resourceId": f"/SUBSCRIPTIONS/{sub}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/"
                "VIRTUALMACHINES/VM1",
                "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
                "category": "Administrative",
                "resultType": "Success",
                "correlationId": str(uuid.uuid4()),
                "callerIpAddress": "192.0.2.1",
                "identity": {"claims": {"name": "a@example.com"}},
                "level": "Information",
                "properties": {"eventCategory": "Administrative"},
            }
        ).encode()
        + b"\n"
    )


def hour_blob(sub: str, y: int, m: int, d: int, h: int) -> str:
    return f"resourceId=/SUBSCRIPTIONS/{sub}/y={y}/m={m:02d}/d={d:02d}/h={h:02d}/m=00/PT1H.json"


def test_every_record_of_the_export_once(azurite: Any, container: Any, tmp_path: Path) -> None:
    stored = upload_export(container)
    assert len(stored) >= 10

    got = run_batch(ReadActivityLogBlobs(spec(url(azurite, container), DAY, NEXT_DAY)), tmp_path)

    base = f"{azurite.blob_endpoint}/{container.container_name}/"
    assert all(isinstance(item, tuple) for item in got)
    assert sorted(loc for loc, _ in got) == sorted(base + n for n in stored)
    assert all(data == stored[loc.removeprefix(base)] for loc, data in got)
    ids = [r.id for loc, data in got for r in normalize_bytes(data, loc) if isinstance(r, Event)]
    direct = [r.id for n, data in stored.items() for r in normalize_bytes(data, n) if isinstance(r, Event)]
    assert ids and sorted(ids) == sorted(direct)


def test_range_lists_only_its_hours_and_subscriptions_are_discovered(
    azurite: Any, container: Any, tmp_path: Path
) -> None:
    names = [
        hour_blob(SUB_A, 2025, 1, 13, 23),
        hour_blob(SUB_A, 2025, 1, 14, 0),
        hour_blob(SUB_A, 2025, 1, 14, 5),
        hour_blob(SUB_B, 2025, 1, 14, 6),
        hour_blob(SUB_B, 2025, 1, 14, 7),
        hour_blob(SUB_B, 2025, 1, 14, 8),
    ]
    for name in names:
        container.upload_blob(name, record(name.split("/")[2], "2025-01-14T05:10:00Z"))
    start, end = datetime(2025, 1, 14, 0, 30, tzinfo=UTC), datetime(2025, 1, 14, 7, tzinfo=UTC)
    opts = BlobOptions.from_spec(spec(url(azurite, container), start, end))
    with opts.client() as client:
        subs = subscription_prefixes(client, opts)
        assert subs == [f"resourceId=/SUBSCRIPTIONS/{SUB_A}/", f"resourceId=/SUBSCRIPTIONS/{SUB_B}/"]
        hours = hour_prefixes(opts, subs[0])
        assert (
            hours[0].endswith("/y=2025/m=01/d=14/h=00/") and hours[-1].endswith("/h=07/") and len(hours) == 8
        )
        found = sorted(n for s in subs for p in hour_prefixes(opts, s) for n in blob_names(client, opts, p))
    assert found == sorted(names[1:5])  # h=07 is the lag's extra hour

    exact = BlobOptions.from_spec(
        spec(url(azurite, container, f"lag=0&subscriptions={SUB_B.lower()}"), start, end)
    )
    got = run_batch(ReadActivityLogBlobs(exact), tmp_path)
    assert sorted(loc.rsplit("/", 7)[1:] for loc, _ in got) == [n.rsplit("/", 7)[1:] for n in names[3:4]]


def test_listing_is_paginated_and_without_range_reads_everything(
    azurite: Any, container: Any, tmp_path: Path
) -> None:
    names = [hour_blob(SUB_A, 2025, 1, d, h) for d in (10, 11) for h in range(0, 24, 2)]
    for name in names:
        container.upload_blob(name, record(SUB_A, "2025-01-10T01:00:00Z"))
    got = run_batch(ReadActivityLogBlobs(spec(url(azurite, container, "page_size=5&threads=2"))), tmp_path)
    assert len(got) == len(names) == len({loc for loc, _ in got})


def test_missing_container_and_wrong_account_are_clear_errors_at_start_up(
    azurite: Any, tmp_path: Path
) -> None:
    with pytest.raises(SourceError, match="container does not exist"):
        run_batch(
            ReadActivityLogBlobs(spec(f"azure-blob:{azurite.blob_endpoint}/no-such-container")), tmp_path
        )
    other = azurite.blob_endpoint.rsplit("/", 1)[0] + "/someotheraccount/insights-activity-logs"
    with pytest.raises(SourceError, match="someotheraccount"):
        run_batch(ReadActivityLogBlobs(spec(f"azure-blob:{other}")), tmp_path)


def test_a_blob_gone_since_listing_is_an_error_delivery(azurite: Any, container: Any) -> None:
    name = hour_blob(SUB_A, 2025, 1, 14, 1)
    container.upload_blob(name, record(SUB_A, "2025-01-14T01:00:00Z"))
    fn = _FetchFn(BlobOptions.from_spec(spec(url(azurite, container))))
    fn.setup()
    try:
        got = list(fn.process([name, hour_blob(SUB_A, 2025, 1, 14, 2)]))
    finally:
        fn.teardown()
    assert got[0][0].endswith(name)
    assert isinstance(got[1], Delivery) and got[1].error and "BlobNotFound" in got[1].error
    assert (
        got[1].location
        == f"{azurite.blob_endpoint}/{container.container_name}/{hour_blob(SUB_A, 2025, 1, 14, 2)}"
    )


def test_secrets_never_appear_in_errors_logs_or_dead_letters(
    azurite: Any, container: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import base64

    caplog.set_level(logging.DEBUG)
    secret_key = base64.b64encode(b"SECRET-azure-account-key-0123456789").decode()
    wrong = azurite.connection_string.replace(azurite.key, secret_key)
    texts: list[str] = []
    # A wrong account key: access denied at start-up.
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", wrong)
    with pytest.raises(SourceError) as denied:
        ReadActivityLogBlobs(spec(url(azurite, container))).expand(None)  # type: ignore[arg-type]
    texts.append(str(denied.value))
    assert "denied" in str(denied.value) or "AuthenticationFailed" in str(denied.value)
    # A SAS token in the source is refused without being repeated.
    sas = "sv=2022-11-02&ss=b&sig=SECRETsasSignature0123456789%3D"
    with pytest.raises(SourceError) as refused:
        parse_target(f"{azurite.blob_endpoint}/{container.container_name}?{sas}")
    texts.append(str(refused.value))
    # A SAS in the connection string, a missing blob: the dead letter names the blob, not the SAS.
    with_sas = f"BlobEndpoint={azurite.blob_endpoint};SharedAccessSignature={sas}"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", with_sas)
    fn = _FetchFn(BlobOptions.from_spec(spec(url(azurite, container))))
    fn.setup()
    try:
        (gone,) = fn.process([hour_blob(SUB_A, 2025, 1, 14, 2)])
    finally:
        fn.teardown()
    assert isinstance(gone, Delivery) and gone.error
    texts += [gone.error, gone.location]
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        assert secret_key not in text and "SECRETsasSignature" not in text and "sig=SECRET" not in text


def test_target_forms() -> None:
    assert parse_target("https://acct1.blob.core.windows.net/insights-activity-logs") == (
        "acct1",
        "https://acct1.blob.core.windows.net",
        "insights-activity-logs",
    )
    assert parse_target("https://acct1.blob.core.windows.net")[2] == "insights-activity-logs"
    assert parse_target("http://127.0.0.1:10000/devstoreaccount1/logs") == (
        "devstoreaccount1",
        "http://127.0.0.1:10000/devstoreaccount1",
        "logs",
    )
    assert parse_target("acct1")[1] == "https://acct1.blob.core.windows.net"
    for bad in (
        "https://a.blob.core.windows.net/c/deeper",
        "https://u:p@a.blob.core.windows.net/c",
        "Not An Account",
    ):
        with pytest.raises(SourceError):
            parse_target(bad)
    with pytest.raises(SourceError):
        BlobOptions.from_spec(SourceSpec.parse("azure-blob:acct1?subscriptions=nope"))


def test_server_busy_is_retried(
    azurite: Any, container: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.connectors.aws_sources.throttle import throttling

    name = hour_blob(SUB_A, 2025, 1, 14, 3)
    container.upload_blob(name, record(SUB_A, "2025-01-14T03:00:00Z"))
    upstream = azurite.blob_endpoint.rsplit("/", 1)[0]
    with throttling(upstream, fail=1) as (front, throttle):
        endpoint = f"{front}/{azurite.account}"
        monkeypatch.setenv(
            "AZURE_STORAGE_CONNECTION_STRING",
            azurite.connection_string.replace(azurite.blob_endpoint, endpoint),
        )
        got = run_batch(
            ReadActivityLogBlobs(spec(f"azure-blob:{endpoint}/{container.container_name}")), tmp_path
        )
    assert throttle.failed == 1
    assert [loc for loc, _ in got] == [f"{endpoint}/{container.container_name}/{name}"]


def test_only_the_hours_in_range_are_listed_on_the_wire(
    azurite: Any, container: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.connectors.aws_sources.throttle import throttling

    for day in (12, 13, 14, 15):
        for hour in (1, 2, 3):
            container.upload_blob(
                hour_blob(SUB_A, 2025, 1, day, hour), record(SUB_A, f"2025-01-{day}T0{hour}:00:00Z")
            )
    upstream = azurite.blob_endpoint.rsplit("/", 1)[0]
    start, end = datetime(2025, 1, 14, 1, 30, tzinfo=UTC), datetime(2025, 1, 14, 3, tzinfo=UTC)
    with throttling(upstream, fail=0) as (front, recorder):
        endpoint = f"{front}/{azurite.account}"
        monkeypatch.setenv(
            "AZURE_STORAGE_CONNECTION_STRING",
            azurite.connection_string.replace(azurite.blob_endpoint, endpoint),
        )
        got = run_batch(
            ReadActivityLogBlobs(spec(f"azure-blob:{endpoint}/{container.container_name}?lag=0", start, end)),
            tmp_path,
        )
    assert sorted(loc.split("/")[-3] for loc, _ in got) == ["h=01", "h=02"]
    sub = f"resourceId=/SUBSCRIPTIONS/{SUB_A}/"
    assert sorted(set(recorder.listed_prefixes())) == [
        "resourceId=/SUBSCRIPTIONS/",
        f"{sub}y=2025/m=01/d=14/h=01/",
        f"{sub}y=2025/m=01/d=14/h=02/",
    ]
