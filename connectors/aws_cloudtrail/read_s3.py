"""Batch source ``s3``: the log files of a CloudTrail trail in S3, for a time range.

A trail writes ``[PREFIX/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/
ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz``, with ``CloudTrail-Digest/`` and
``CloudTrail-Insight/`` beside ``CloudTrail/``. Listing a whole trail bucket is slow and costs money
(a busy organization writes millions of files a day), so the reader lists only what the range needs:

1. at start-up (``expand``), one delimiter listing of ``AWSLogs/`` finds the organization trails and
   account folders (and proves the bucket is readable: a missing bucket or denied access is one clear
   ``SourceError`` there, not a failure per object), and one per organization finds its accounts;
2. per account (in parallel), the region folders, unless ``regions=`` names them;
3. per region, the day folders ``YYYY/MM/DD/`` that the range touches (computed, not listed; without a
   range they are discovered by delimiter listing: everything under the prefix is read);
4. per day folder (in parallel), the keys, paginated, kept when the time in the file name is in range;
5. the objects, fetched in parallel (a thread pool per chunk of keys).

**Delivery lag.** The time in a file name is when CloudTrail delivered the file; the events in it happened
before, usually within 5 minutes and by CloudTrail's documentation within about 15. So to find every event
of ``[start, end)``, files named ``[start, end + lag)`` are read (``lag`` defaults to 15 minutes). Their
records are all passed on, including the few older than ``start`` or from the margin: nothing read is
dropped, event ids are deterministic, so two runs over adjacent ranges give the same event twice at most
and idempotent sinks keep it once. ``lag=0`` partitions files exactly by delivery time instead, which
suits incremental runs that must never read a file twice.

An object listed but unreadable when fetched (deleted since, access denied on that key) becomes a
``Delivery`` with ``error`` (a dead letter downstream); the rest of the run goes on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import apache_beam as beam

from connectors.fetching import chunks, fetch_chunk
from connectors.options import parse_options
from connectors.sources import Delivery, SourceError, SourceSpec

from .options import ACCOUNT, DEFAULT_LAG_MINUTES, DEFAULT_THREADS, LIST_PAGE, ORG, S3Query
from .read import (
    ClientOptions,
    describe,
    error_code,
    fetch_object,
    s3_location,
)

log = logging.getLogger(__name__)

AWSLOGS = "AWSLogs"
KINDS = {"events": "CloudTrail", "digest": "CloudTrail-Digest", "insight": "CloudTrail-Insight"}
DEFAULT_LAG = timedelta(minutes=DEFAULT_LAG_MINUTES)
# ..._20250114T1455Z_unique.json.gz (log and Insight files), ..._20250114T150041Z.json.gz (digests)
_NAME_TIME = re.compile(r"_(\d{8}T\d{4}(?:\d{2})?Z)(?:_|\.)")


@dataclass(frozen=True)
class TrailOptions:
    """A parsed ``s3:`` source: where the trail is and what of it to read (picklable, no credential)."""

    bucket: str
    base: str  # the key prefix ending in "AWSLogs/"
    org: str | None = None
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ("CloudTrail",)
    start: datetime | None = None
    end: datetime | None = None
    lag: timedelta = DEFAULT_LAG
    page_size: int = LIST_PAGE
    threads: int = DEFAULT_THREADS
    client: ClientOptions = field(default_factory=ClientOptions)

    @classmethod
    def from_spec(cls, spec: SourceSpec) -> TrailOptions:
        bucket, _, prefix = spec.target.strip("/").partition("/")
        if not bucket:
            raise SourceError("s3 source needs a bucket: s3:BUCKET[/PREFIX]")
        base, org, account, region = _split_prefix(prefix)
        query = parse_options(S3Query, spec.params, "source 's3'")
        if query.org and org and query.org != org:
            raise SourceError(f"s3 source: org={query.org} contradicts the prefix's {org}")
        org = org or query.org
        if org and not ORG.match(org):
            raise SourceError(f"s3 source: {org!r} is not an organization id (o-...)")
        accounts = query.accounts
        if account:
            if accounts and accounts != (account,):
                raise SourceError(f"s3 source: accounts= contradicts the prefix's account {account}")
            accounts = (account,)
        regions = query.regions
        if region:
            if regions and regions != (region,):
                raise SourceError(f"s3 source: regions= contradicts the prefix's region {region}")
            regions = (region,)
        kinds = tuple(KINDS[k] for k in ("events", "digest", "insight") if k == "events" or k in query.include)
        start, end = _utc(spec.start), _utc(spec.end)
        if start and end and end <= start:
            raise SourceError("s3 source: --end must be after --start")
        return cls(
            bucket=bucket,
            base=base,
            org=org,
            accounts=accounts,
            regions=regions,
            kinds=kinds,
            start=start,
            end=end,
            lag=timedelta(minutes=query.lag),
            page_size=query.page_size,
            threads=query.threads,
            client=ClientOptions(endpoint=query.endpoint, region=query.region, attempts=query.attempts),
        )

    def in_range(self, when: datetime) -> bool:
        """Whether a file delivered at ``when`` may hold events of [start, end) (see the module doc)."""
        if self.start and when < self.start:
            return False
        return not (self.end and when >= self.end + self.lag)

    def days(self) -> list[date] | None:
        """The day folders the range touches, or None without a range (then they are listed)."""
        if self.start is None and self.end is None:
            return None
        if self.start is None or self.end is None:
            return None  # half-open ranges: list the days and filter them
        last = self.end + self.lag - timedelta(microseconds=1)
        return [
            self.start.date() + timedelta(days=i) for i in range((last.date() - self.start.date()).days + 1)
        ]


def _split_prefix(prefix: str) -> tuple[str, str | None, str | None, str | None]:
    """``[P/]AWSLogs[/o-ORG][/ACCOUNT[/CloudTrail[/REGION]]]`` -> (base ending in AWSLogs/, org, account,
    region). A prefix without ``AWSLogs`` is the trail's own S3 key prefix."""
    parts = [p for p in prefix.split("/") if p]
    if AWSLOGS not in parts:
        return "/".join([*parts, AWSLOGS]) + "/", None, None, None
    i = parts.index(AWSLOGS)
    base = "/".join(parts[: i + 1]) + "/"
    rest = parts[i + 1 :]
    org = rest.pop(0) if rest and rest[0].startswith("o-") else None
    account = rest.pop(0) if rest else None
    if account is not None and not ACCOUNT.match(account):
        raise SourceError(f"s3 source: {account!r} in the prefix is not a 12-digit account id")
    if rest and rest.pop(0) != "CloudTrail":
        raise SourceError("s3 source: after the account the prefix can only name CloudTrail/REGION")
    region = rest.pop(0) if rest else None
    if rest:
        raise SourceError("s3 source: the prefix can go down to the region; choose days with --start/--end")
    return base, org, account, region


def _utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def file_time(key: str) -> datetime | None:
    """The delivery time in a CloudTrail file name, or None for a name without one."""
    m = _NAME_TIME.search(key.rsplit("/", 1)[-1])
    if not m:
        return None
    text = m.group(1)
    fmt = "%Y%m%dT%H%M%SZ" if len(text) == 16 else "%Y%m%dT%H%MZ"
    try:
        return datetime.strptime(text, fmt).replace(tzinfo=UTC)
    except ValueError:
        return None


# --- listing (plain functions over an S3 client) --------------------------------------------------


def folders(s3: Any, bucket: str, prefix: str, page_size: int = LIST_PAGE) -> Iterator[str]:
    """The names of the "folders" directly under ``prefix`` (delimiter listing, every page)."""
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, Delimiter="/", PaginationConfig={"PageSize": page_size}
    )
    for page in pages:
        for cp in page.get("CommonPrefixes", ()):
            yield cp["Prefix"][len(prefix) :].rstrip("/")


def keys(s3: Any, bucket: str, prefix: str, page_size: int = LIST_PAGE) -> Iterator[tuple[str, int]]:
    """(key, size) of every object under ``prefix``, every page."""
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
    )
    for page in pages:
        for obj in page.get("Contents", ()):
            yield obj["Key"], int(obj.get("Size", 0))


def account_roots(s3: Any, opts: TrailOptions) -> list[str]:
    """The ``.../AWSLogs/[o-ORG/]ACCOUNT/`` prefixes to read. This is the start-up check too: a bucket
    that does not exist or cannot be listed raises one ``SourceError``."""
    try:
        if opts.org:
            orgs = [opts.org]
            direct: list[str] = []
            # Prove access even when nothing else needs listing at this level.
            s3.list_objects_v2(Bucket=opts.bucket, Prefix=opts.base, MaxKeys=1)
        else:
            top = list(folders(s3, opts.bucket, opts.base, opts.page_size))
            orgs = [f for f in top if ORG.match(f)]
            direct = [f for f in top if ACCOUNT.match(f)]
        roots = [opts.base + a + "/" for a in direct]
        for org in orgs:
            if opts.accounts:
                roots += [f"{opts.base}{org}/{a}/" for a in opts.accounts]
            else:
                found = folders(s3, opts.bucket, f"{opts.base}{org}/", opts.page_size)
                roots += [f"{opts.base}{org}/{a}/" for a in found if ACCOUNT.match(a)]
    except Exception as exc:
        raise SourceError(
            f"s3 source: cannot list s3://{opts.bucket}/{opts.base}: {_listing_error(exc)}"
        ) from None
    if opts.accounts and not opts.org:
        wanted = set(opts.accounts)
        roots = [r for r in roots if r.rstrip("/").rsplit("/", 1)[-1] in wanted]
    if not roots:
        log.warning("s3 source: no account folders under s3://%s/%s", opts.bucket, opts.base)
    return roots


def _listing_error(exc: BaseException) -> str:
    code = error_code(exc)
    if code == "NoSuchBucket":
        return "the bucket does not exist"
    if code in ("AccessDenied", "403", "AllAccessDisabled"):
        return "access denied (the default credential chain's principal needs s3:ListBucket)"
    return describe(exc)


def day_prefixes(s3: Any, opts: TrailOptions, root: str) -> Iterator[str]:
    """Per account root: ``ROOT/KIND/REGION/YYYY/MM/DD/`` for each region and day in range."""
    for kind in opts.kinds:
        kind_root = f"{root}{kind}/"
        regions = opts.regions or tuple(r for r in folders(s3, opts.bucket, kind_root, opts.page_size) if r)
        for region in regions:
            region_root = f"{kind_root}{region}/"
            days = opts.days()
            if days is not None:
                for d in days:
                    yield f"{region_root}{d.year:04d}/{d.month:02d}/{d.day:02d}/"
                continue
            for year in folders(s3, opts.bucket, region_root, opts.page_size):
                for month in folders(s3, opts.bucket, f"{region_root}{year}/", opts.page_size):
                    month_root = f"{region_root}{year}/{month}/"
                    for day in folders(s3, opts.bucket, month_root, opts.page_size):
                        if _day_may_be_in_range(opts, year, month, day):
                            yield f"{month_root}{day}/"


def _day_may_be_in_range(opts: TrailOptions, year: str, month: str, day: str) -> bool:
    try:
        d = date(int(year), int(month), int(day))
    except ValueError:
        return True  # not a date folder: list it rather than skip something unknown
    if opts.start and d < opts.start.date():
        return False
    return not (opts.end and d > (opts.end + opts.lag).date())


def keys_in_range(s3: Any, opts: TrailOptions, prefix: str) -> Iterator[str]:
    """The keys of one day folder whose file-name time is in range (folder markers skipped)."""
    for key, _size in keys(s3, opts.bucket, prefix, opts.page_size):
        if key.endswith("/"):
            continue
        when = file_time(key)
        if when is None or opts.in_range(when):  # a name without a time is read, not guessed away
            yield key


# --- Beam ---------------------------------------------------------------------------------------


class _S3Fn(beam.DoFn):
    def __init__(self, opts: TrailOptions) -> None:
        self._opts = opts

    def setup(self) -> None:
        self._s3 = self._opts.client.client("s3")

    def _fail(self, what: str, exc: BaseException) -> SourceError:
        # A listing that fails after retries leaves a hole nobody could see: stop the run, clearly.
        return SourceError(f"s3 source: cannot list s3://{self._opts.bucket}/{what}: {describe(exc)}")


class _DayPrefixesFn(_S3Fn):
    def process(self, root: str) -> Iterator[str]:
        try:
            yield from day_prefixes(self._s3, self._opts, root)
        except SourceError:
            raise
        except Exception as exc:
            raise self._fail(root, exc) from None


class _ListKeysFn(_S3Fn):
    def process(self, prefix: str) -> Iterator[list[str]]:
        try:
            yield from chunks(keys_in_range(self._s3, self._opts, prefix), self._opts.threads * 2)
        except Exception as exc:
            raise self._fail(prefix, exc) from None


class _FetchFn(_S3Fn):
    """A chunk of keys -> their blobs, fetched by a thread pool (S3 GETs are latency bound)."""

    def setup(self) -> None:
        super().setup()
        self._pool = ThreadPoolExecutor(self._opts.threads, thread_name_prefix="s3-fetch")

    def teardown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def process(self, chunk: Sequence[str]) -> Iterator[tuple[str, bytes] | Delivery]:
        bucket = self._opts.bucket
        fetch = partial(fetch_object, self._s3, bucket)
        yield from fetch_chunk(self._pool, chunk, fetch, partial(s3_location, bucket), log)


class ReadCloudTrailS3(beam.PTransform):
    """``pipeline | ReadCloudTrailS3(spec)`` -> blobs ``(s3://bucket/key, bytes)`` of a trail's files in
    the spec's range (``Delivery`` with ``error`` for an object that could not be read)."""

    def __init__(self, spec: SourceSpec | TrailOptions) -> None:
        super().__init__()
        self._opts = spec if isinstance(spec, TrailOptions) else TrailOptions.from_spec(spec)

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        # Start-up: one bad bucket is one clear error before anything runs.
        roots = account_roots(self._opts.client.client("s3"), self._opts)
        return (
            pbegin
            | "AccountRoots" >> beam.Create(roots)
            | "SpreadAccounts" >> beam.Reshuffle()
            | "DayPrefixes" >> beam.ParDo(_DayPrefixesFn(self._opts))
            | "SpreadDays" >> beam.Reshuffle()
            | "ListKeys" >> beam.ParDo(_ListKeysFn(self._opts))
            | "SpreadKeys" >> beam.Reshuffle()
            | "Fetch" >> beam.ParDo(_FetchFn(self._opts))
        )


def source(spec: SourceSpec) -> ReadCloudTrailS3:
    return ReadCloudTrailS3(spec)
