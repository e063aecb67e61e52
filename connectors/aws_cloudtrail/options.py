"""The ``?key=value`` options of the AWS source kinds (``connectors.options``): one model per kind.

Plain pydantic, no boto3 and no Beam: the command line checks a spec with these before anything connects.
What needs the target as well (``accounts=`` against an account in the prefix) is checked by the reader.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from connectors.options import Csv, HttpEndpoint, QueryOptions

DEFAULT_ATTEMPTS = 8  # tries per request (botocore's standard retry mode, capped backoff with jitter)
DEFAULT_THREADS = 8
DEFAULT_LAG_MINUTES = 15.0
LIST_PAGE = 1000  # ListObjectsV2's own maximum
DEFAULT_VISIBILITY = 300

ACCOUNT = re.compile(r"^\d{12}$")
ORG = re.compile(r"^o-[a-z0-9]{10,32}$")
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
INCLUDE = ("digest", "insight")  # besides the log files ("events", always read)


def _accounts(values: tuple[str, ...]) -> tuple[str, ...]:
    bad = [a for a in values if not ACCOUNT.match(a)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a 12-digit account id")
    return values


def _regions(values: tuple[str, ...]) -> tuple[str, ...]:
    bad = [r for r in values if not REGION.match(r)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a region name (like us-east-1)")
    return values


def _org(value: str | None) -> str | None:
    if value is not None and not ORG.match(value):
        raise ValueError(f"{value!r} is not an organization id (o-...)")
    return value


def _include(values: tuple[str, ...]) -> tuple[str, ...]:
    unknown = sorted(set(values) - {*INCLUDE, "events"})
    if unknown:
        raise ValueError(f"takes {', '.join(INCLUDE)} (not {', '.join(unknown)})")
    return values


_REGION_OF_CLIENT = "region for the client (default: the default chain's)"
_ATTEMPTS = "tries per request on throttling/5xx, capped exponential backoff with jitter"


class S3Query(QueryOptions):
    accounts: Annotated[Csv, AfterValidator(_accounts)] = Field(
        (),
        description="account ids to read, comma-separated (default: every account folder found)",
        json_schema_extra={"takes": "12-digit account ids, comma-separated"},
    )
    regions: Annotated[Csv, AfterValidator(_regions)] = Field(
        (),
        description="regions to read, comma-separated (default: every region folder found)",
        json_schema_extra={"takes": "region names, comma-separated"},
    )
    org: Annotated[str | None, AfterValidator(_org)] = Field(
        None,
        description="the organization of an organization trail (default: found under `AWSLogs/`)",
        json_schema_extra={"takes": "an organization id o-..."},
    )
    include: Annotated[Csv, AfterValidator(_include)] = Field(
        (),
        description="also read `CloudTrail-Digest/` and/or `CloudTrail-Insight/` files (default: log files "
        "only); digests become counted non-events",
        json_schema_extra={"takes": "digest, insight (comma-separated)"},
    )
    lag: float = Field(
        DEFAULT_LAG_MINUTES,
        ge=0,
        le=24 * 60,
        description="minutes of delivery lag read past --end (0 = exactly by file-name time)",
    )
    endpoint: HttpEndpoint | None = Field(
        None, description="S3 endpoint URL (default: AWS_ENDPOINT_URL, else AWS's)"
    )
    region: str | None = Field(
        None, description=f"{_REGION_OF_CLIENT}; S3 redirects to the bucket's region"
    )
    page_size: int = Field(LIST_PAGE, ge=1, le=LIST_PAGE, description="keys per ListObjectsV2 page")
    threads: int = Field(DEFAULT_THREADS, ge=1, le=64, description="objects fetched in parallel per worker")
    attempts: int = Field(DEFAULT_ATTEMPTS, ge=1, le=20, description=_ATTEMPTS)


class SqsQuery(QueryOptions):
    region: str | None = Field(
        None, description="queue region when the target is a bare queue name (default: from the URL, else the "
        "default chain's)"
    )
    endpoint: HttpEndpoint | None = Field(
        None, description="SQS and S3 endpoint URL (default: AWS_ENDPOINT_URL, else AWS's)"
    )
    visibility: int = Field(
        DEFAULT_VISIBILITY,
        ge=1,
        le=12 * 3600,
        description="seconds a received message stays hidden while its files are processed",
    )
    threads: int = Field(DEFAULT_THREADS, ge=1, le=64, description="files fetched from S3 in parallel")
    attempts: int = Field(DEFAULT_ATTEMPTS, ge=1, le=20, description=_ATTEMPTS)
