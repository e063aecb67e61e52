"""Batch source ``s3`` against the moto server: trail layout discovery, range listing, pagination, errors."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.aws_cloudtrail.read_s3 import (
    ReadCloudTrailS3,
    TrailOptions,
    _FetchFn,
    account_roots,
    day_prefixes,
    file_time,
    keys_in_range,
)
from connectors.normalize import normalize_bytes
from connectors.sources import Delivery, SourceError, SourceSpec, resolve
from schemas.event import Event

from .conftest import ACCOUNT_TRAIL, ORG_TRAIL, run_batch, upload_tree

pytestmark = pytest.mark.emulator

DAY = datetime(2025, 1, 14, tzinfo=UTC)
NEXT_DAY = datetime(2025, 1, 15, tzinfo=UTC)


def spec(text: str, start: datetime | None = None, end: datetime | None = None) -> SourceSpec:
    parsed = SourceSpec.parse(text, start, end)
    resolve(parsed)  # the params are the ones the kind declares
    return parsed


def event_ids(blobs: list[Any]) -> list[str]:
    return [r.id for loc, data in blobs for r in normalize_bytes(data, loc) if isinstance(r, Event)]


def test_org_and_account_trails_in_one_bucket_read_every_log_file_once(
    s3: Any, make_bucket: Any, tmp_path: Path
) -> None:
    bucket = make_bucket()
    stored = upload_tree(s3, bucket, ORG_TRAIL) | upload_tree(s3, bucket, ACCOUNT_TRAIL)
    logs = {k: v for k, v in stored.items() if "/CloudTrail/" in k}
    assert len(logs) > 20 and any("/o-" in k for k in logs)

    got = run_batch(ReadCloudTrailS3(spec(f"s3:{bucket}", DAY, NEXT_DAY)), tmp_path)

    assert all(isinstance(item, tuple) for item in got)
    assert sorted(loc for loc, _ in got) == sorted(f"s3://{bucket}/{k}" for k in logs)  # once each, no digest
    assert all(data == logs[loc.split("/", 3)[3]] for loc, data in got)
    # Every record of every file once: the same events as normalizing the stored files directly.
    ids = event_ids(got)
    assert ids and sorted(ids) == sorted(event_ids([(f"s3://{bucket}/{k}", v) for k, v in logs.items()]))


def test_digests_and_insights_only_when_asked(s3: Any, make_bucket: Any, tmp_path: Path) -> None:
    bucket = make_bucket()
    stored = upload_tree(s3, bucket, ORG_TRAIL)
    got = run_batch(ReadCloudTrailS3(spec(f"s3:{bucket}/AWSLogs/o-0qp8tkn9e5?include=digest")), tmp_path)
    assert sorted(loc for loc, _ in got) == sorted(f"s3://{bucket}/{k}" for k in stored)
    assert any("CloudTrail-Digest" in loc for loc, _ in got)


def _put_log(s3: Any, bucket: str, key: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(json.dumps({"Records": []}).encode()))


def _key(account: str, region: str, stamp: str, org: str = "") -> str:
    y, m, d = stamp[:4], stamp[4:6], stamp[6:8]
    root = f"trails/AWSLogs/{org + '/' if org else ''}{account}/CloudTrail/{region}/{y}/{m}/{d}"
    return f"{root}/{account}_CloudTrail_{region}_{stamp}_abcdEFGH{stamp[-5:-1]}.json.gz"


def test_range_lists_only_its_days_and_filters_by_file_name_time(s3: Any, make_bucket: Any) -> None:
    bucket = make_bucket()
    keys = {
        stamp: _key("111122223333", "eu-west-1", stamp, org="o-abcdefghij")
        for stamp in (
            "20250110T1200Z",
            "20250113T2350Z",
            "20250114T0005Z",
            "20250114T2359Z",
            "20250115T0010Z",
            "20250115T0020Z",
            "20250116T0000Z",
        )
    }
    for key in keys.values():
        _put_log(s3, bucket, key)
    opts = TrailOptions.from_spec(spec(f"s3:{bucket}/trails", DAY, NEXT_DAY))

    roots = account_roots(s3, opts)
    assert roots == ["trails/AWSLogs/o-abcdefghij/111122223333/"]
    prefixes = list(day_prefixes(s3, opts, roots[0]))
    # Only the day folders the range plus the 15 minute delivery lag touch, computed rather than listed.
    assert prefixes == [
        f"{roots[0]}CloudTrail/eu-west-1/2025/01/14/",
        f"{roots[0]}CloudTrail/eu-west-1/2025/01/15/",
    ]
    got = [k for p in prefixes for k in keys_in_range(s3, opts, p)]
    assert got == [keys["20250114T0005Z"], keys["20250114T2359Z"], keys["20250115T0010Z"]]

    exact = TrailOptions.from_spec(spec(f"s3:{bucket}/trails?lag=0", DAY, NEXT_DAY))
    assert [p.rsplit("/", 4)[1:4] for p in day_prefixes(s3, exact, roots[0])] == [["2025", "01", "14"]]

    # Without a range the days are discovered, and everything is read.
    everything = TrailOptions.from_spec(spec(f"s3:{bucket}/trails"))
    assert sorted(
        k for p in day_prefixes(s3, everything, roots[0]) for k in keys_in_range(s3, everything, p)
    ) == sorted(keys.values())


def test_accounts_and_regions_params_and_discovery(s3: Any, make_bucket: Any) -> None:
    bucket = make_bucket()
    for account in ("111111111111", "222222222222"):
        for region in ("us-east-1", "eu-west-1"):
            _put_log(s3, bucket, _key(account, region, "20250114T1200Z").removeprefix("trails/"))
    everything = TrailOptions.from_spec(spec(f"s3:{bucket}", DAY, NEXT_DAY))
    roots = account_roots(s3, everything)
    assert roots == ["AWSLogs/111111111111/", "AWSLogs/222222222222/"]
    assert len([p for r in roots for p in day_prefixes(s3, everything, r)]) == 2 * 2 * 2  # (14th, 15th)

    some = TrailOptions.from_spec(spec(f"s3:{bucket}?accounts=222222222222&regions=eu-west-1", DAY, NEXT_DAY))
    roots = account_roots(s3, some)
    assert roots == ["AWSLogs/222222222222/"]
    assert (
        next(iter(day_prefixes(s3, some, roots[0])))
        == "AWSLogs/222222222222/CloudTrail/eu-west-1/2025/01/14/"
    )


def test_listing_is_paginated(s3: Any, make_bucket: Any, tmp_path: Path) -> None:
    bucket = make_bucket()
    stamps = [f"20250114T{h:02d}{m:02d}Z" for h in range(3) for m in range(0, 60, 5)]  # 36 files in one day
    for stamp in stamps:
        _put_log(s3, bucket, _key("333333333333", "us-east-2", stamp).removeprefix("trails/"))
    got = run_batch(ReadCloudTrailS3(spec(f"s3:{bucket}?page_size=5&threads=2", DAY, NEXT_DAY)), tmp_path)
    assert len(got) == len(stamps) == len({loc for loc, _ in got})


def test_prefix_forms_are_understood() -> None:
    o = TrailOptions.from_spec(
        SourceSpec.parse("s3:b/AWSLogs/o-abcdefghij/123456789012/CloudTrail/us-east-1")
    )
    assert (o.base, o.org, o.accounts, o.regions) == (
        "AWSLogs/",
        "o-abcdefghij",
        ("123456789012",),
        ("us-east-1",),
    )
    assert TrailOptions.from_spec(SourceSpec.parse("s3:b/custom/prefix")).base == "custom/prefix/AWSLogs/"
    assert TrailOptions.from_spec(SourceSpec.parse("s3:b")).base == "AWSLogs/"
    assert file_time("x/1_CloudTrail_us-east-1_20250114T1455Z_abc.json.gz") == datetime(
        2025, 1, 14, 14, 55, tzinfo=UTC
    )
    assert file_time("1_CloudTrail-Digest_us-east-1_t_us-east-1_20250114T150041Z.json.gz") == datetime(
        2025, 1, 14, 15, 0, 41, tzinfo=UTC
    )
    for bad in (
        "s3:b/AWSLogs/notanaccount",
        "s3:b?regions=Nowhere",
        "s3:b?endpoint=http://k:s@127.0.0.1:1",
        "s3:b?org=oops",
        "s3:b?lag=x",
        "s3:b?include=everything",
        "s3:b/AWSLogs/o-abcdefghij?org=o-otherorgxx",
        "s3:b/AWSLogs/123456789012/CloudTrail/r/2025",
    ):
        with pytest.raises(SourceError):
            TrailOptions.from_spec(SourceSpec.parse(bad))
    with pytest.raises(SourceError, match="after"):
        TrailOptions.from_spec(SourceSpec.parse("s3:b", NEXT_DAY, DAY))


def test_missing_bucket_is_one_clear_error_at_start_up(aws: str, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        run_batch(ReadCloudTrailS3(spec("s3:no-such-bucket-here", DAY, NEXT_DAY)), tmp_path)


def test_an_object_gone_since_listing_is_an_error_delivery(s3: Any, make_bucket: Any) -> None:
    bucket = make_bucket()
    _put_log(s3, bucket, "AWSLogs/111111111111/CloudTrail/us-east-1/2025/01/14/a_20250114T1200Z_x.json.gz")
    fn = _FetchFn(TrailOptions.from_spec(spec(f"s3:{bucket}")))
    fn.setup()
    try:
        present = "AWSLogs/111111111111/CloudTrail/us-east-1/2025/01/14/a_20250114T1200Z_x.json.gz"
        got = list(fn.process([present, "AWSLogs/111111111111/gone.json.gz"]))
    finally:
        fn.teardown()
    assert got[0][0] == f"s3://{bucket}/{present}"
    assert (
        isinstance(got[1], Delivery) and got[1].location == f"s3://{bucket}/AWSLogs/111111111111/gone.json.gz"
    )
    assert got[1].error and "NoSuchKey" in got[1].error


def test_throttling_is_retried(aws: str, s3: Any, make_bucket: Any, tmp_path: Path) -> None:
    from .throttle import throttling

    bucket = make_bucket()
    stored = upload_tree(s3, bucket, ORG_TRAIL)
    logs = {k for k in stored if "/CloudTrail/" in k}
    with throttling(aws, fail=2) as (endpoint, throttle):
        got = run_batch(
            ReadCloudTrailS3(spec(f"s3:{bucket}?endpoint={endpoint}&attempts=4", DAY, NEXT_DAY)), tmp_path
        )
    assert throttle.failed == 2 and throttle.forwarded > len(logs)
    assert sorted(loc for loc, _ in got) == sorted(f"s3://{bucket}/{k}" for k in logs)


def test_only_the_prefixes_in_range_are_listed_on_the_wire(
    aws: str, s3: Any, make_bucket: Any, tmp_path: Path
) -> None:
    from .throttle import throttling

    bucket = make_bucket()
    org, accounts = "o-abcdefghij", ("111111111111", "222222222222")
    for account in accounts:
        for day in range(10, 17):
            _put_log(
                s3, bucket, _key(account, "eu-west-1", f"202501{day}T1200Z", org=org).removeprefix("trails/")
            )
    with throttling(aws, fail=0) as (endpoint, recorder):
        got = run_batch(ReadCloudTrailS3(spec(f"s3:{bucket}?endpoint={endpoint}", DAY, NEXT_DAY)), tmp_path)
    assert len(got) == 2  # the 14th's file of each account; the 15th's (12:00) is past end + lag
    listed = sorted(set(recorder.listed_prefixes()))
    # The 15th is listed too (the lag reaches into it); no other day folder is ever asked for.
    days = [f"AWSLogs/{org}/{a}/CloudTrail/eu-west-1/2025/01/{d}/" for a in accounts for d in ("14", "15")]
    assert listed == sorted(
        ["AWSLogs/", f"AWSLogs/{org}/"] + [f"AWSLogs/{org}/{a}/CloudTrail/" for a in accounts] + days
    )


def test_an_empty_trail_reads_nothing_and_says_so(
    s3: Any, make_bucket: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bucket = make_bucket()
    assert run_batch(ReadCloudTrailS3(spec(f"s3:{bucket}/no/trail/here", DAY, NEXT_DAY)), tmp_path) == []
    assert any("no account folders" in r.getMessage() for r in caplog.records)
