"""The ``?key=value`` options of the Azure source kinds (``connectors.options``): one model per kind.

Plain pydantic, no Azure SDK and no Beam: the command line checks a spec with these before anything
connects. What needs the target as well is checked by the reader.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from connectors.options import Csv, Duration, HttpsEndpoint, QueryOptions, duration_text

GUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")

# azure-blob
BLOB_LAG_MINUTES = 60.0  # one more hour blob past --end
BLOB_PAGE = 5000  # List Blobs' own maximum
BLOB_THREADS = 8
BLOB_ATTEMPTS = 6
# log-analytics
LOGS_ENDPOINT = "https://api.loganalytics.io"


def _subscriptions(values: tuple[str, ...]) -> tuple[str, ...]:
    values = tuple(v.upper() for v in values)
    bad = [v for v in values if not GUID.match(v)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a subscription id (a GUID)")
    return values


class AzureBlobQuery(QueryOptions):
    subscriptions: Annotated[Csv, AfterValidator(_subscriptions)] = Field(
        (),
        description="subscriptions to read, comma-separated (default: every `resourceId=/SUBSCRIPTIONS/*` "
        "folder found)",
        json_schema_extra={"takes": "subscription ids (GUIDs), comma-separated"},
    )
    lag: float = Field(
        BLOB_LAG_MINUTES,
        ge=0,
        le=24 * 60,
        description="minutes of delivery lag read past --end (60: one more hour blob; 0 = exactly the hours "
        "`[start, end)` overlaps)",
    )
    page_size: int = Field(BLOB_PAGE, ge=1, le=BLOB_PAGE, description="blobs per List Blobs page")
    threads: int = Field(BLOB_THREADS, ge=1, le=64, description="blobs downloaded in parallel per worker")
    attempts: int = Field(
        BLOB_ATTEMPTS,
        ge=1,
        le=10,
        description="tries per request on 503/500/timeouts/connection errors, exponential backoff with jitter",
    )


class LogAnalyticsQuery(QueryOptions):
    slice: Duration = Field(
        timedelta(hours=1),
        ge=timedelta(seconds=1),
        description="time slice per query; a partial answer halves it",
    )
    min_slice: Duration = Field(
        timedelta(minutes=1),
        ge=timedelta(seconds=1),
        description="smallest slice; still partial there is an error",
    )
    rows_per_blob: int = Field(10_000, ge=1, description="rows per blob handed to the normalizer")
    timeout: int = Field(
        300, ge=1, le=600, description="server timeout per query in seconds (`Prefer: wait=`)"
    )
    endpoint: Annotated[HttpsEndpoint, AfterValidator(lambda v: v.rstrip("/"))] = Field(
        LOGS_ENDPOINT,
        description="query API endpoint (sovereign clouds, e.g. `https://api.loganalytics.azure.cn`); https "
        "only, as azure-core sends a bearer token only over https",
    )

    @model_validator(mode="after")
    def _slices(self) -> LogAnalyticsQuery:
        if self.min_slice > self.slice:
            raise ValueError(
                f"min_slice ({duration_text(self.min_slice)}) is larger than slice ({duration_text(self.slice)})"
            )
        return self


def _checkpoint(value: Any) -> Any:
    if isinstance(value, str):
        parts = urlsplit(value)
        if parts.query or parts.fragment or parts.username or parts.password:
            # A SAS token is a secret: never in a command line or config, and never echoed back.
            raise ValueError(
                "the checkpoint URL must not carry a query such as a SAS token or user info: credentials "
                "come from DefaultAzureCredential"
            )
        segments = [s for s in parts.path.split("/") if s]
        if parts.scheme not in ("https", "http") or not parts.netloc or not segments:
            raise ValueError(
                "expected a blob container URL such as https://ACCOUNT.blob.core.windows.net/CONTAINER"
            )
        return value.rstrip("/")
    return value


def _amqp_endpoint(value: Any) -> Any:
    if isinstance(value, str):
        parts = urlsplit(value if "://" in value else f"sb://{value}")
        if parts.scheme not in ("sb", "amqps") or not parts.hostname or parts.path.strip("/") or parts.query:
            raise ValueError("expected sb://HOST[:PORT]")
        return f"sb://{parts.netloc}"
    return value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class EventHubQuery(QueryOptions):
    consumer_group: str = Field("$Default", description="consumer group (use a dedicated one per pipeline)")
    checkpoint: Annotated[str, BeforeValidator(_checkpoint)] = Field(
        description="the blob container where each partition's position is kept (BlobCheckpointStore), e.g. "
        "`https://ACCOUNT.blob.core.windows.net/CONTAINER`, no SAS: it is what makes a restart resume, "
        "not re-read all",
        json_schema_extra={"takes": "a blob container URL"},
    )
    start: Annotated[Literal["earliest", "latest"], BeforeValidator(_lower)] = Field(
        "earliest", description="where a partition without a checkpoint starts"
    )
    endpoint: Annotated[str | None, BeforeValidator(_amqp_endpoint)] = Field(
        None,
        description="custom AMQP endpoint (private endpoint, gateway); AMQP over TLS always",
        json_schema_extra={"takes": "sb://HOST[:PORT]"},
    )
    # How often ownership is renewed, and how soon a crashed reader's partitions can be claimed again:
    # lower than the defaults only for quick restarts in tests.
    balance_interval: float = Field(
        10.0, ge=0.5, le=300.0, description="seconds between partition ownership renewals"
    )
    ownership_expiry: float | None = Field(
        None,
        le=3600.0,
        description="seconds until a crashed reader's partitions can be claimed (at least twice "
        "`balance_interval`)",
        json_schema_extra={"default": "60, or twice balance_interval if more"},
    )

    @model_validator(mode="after")
    def _expiry(self) -> EventHubQuery:
        low = 2 * self.balance_interval
        if self.ownership_expiry is None:
            object.__setattr__(self, "ownership_expiry", max(60.0, low))
        elif self.ownership_expiry < low:
            raise ValueError(
                f"ownership_expiry ({self.ownership_expiry:g}) must be at least twice balance_interval ({low:g})"
            )
        return self

    @property
    def expiry(self) -> float:
        """``ownership_expiry`` with its default filled in (seconds)."""
        assert self.ownership_expiry is not None
        return self.ownership_expiry
