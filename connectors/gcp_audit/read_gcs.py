"""GCP Cloud Audit Logs from a Cloud Storage log-sink export, as blobs.

Source kind ``gcs`` (batch): ``gcs:BUCKET[/PREFIX]``, optionally with ``--start``/``--end``.

A log sink to a bucket writes hourly files per log::

    [PREFIX/]cloudaudit.googleapis.com/activity/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json

(``data_access``, ``system_event``, ``policy`` beside ``activity``; ``S1``, ``S2`` ... when an hour is
split into shards), each a file of LogEntry JSON lines. With a time range only the day prefixes in range
are listed (one ``objects.list`` per log per day, not the whole bucket) and only the hour files that
overlap the range are read; the whole hour is read (an hour file is the unit the sink wrote), so events
at the edges of the range may be a little outside it. A name in a day folder that does not follow the
hourly pattern is read too, rather than skipped unseen. Without a time range everything under the audit
log folders is read.

Client: google-cloud-storage with Application Default Credentials; it honours ``STORAGE_EMULATOR_HOST``
(a local emulator: then anonymous). Transient errors (429, 5xx, dropped connections) are retried by the
library's own policy (exponential backoff with jitter), with a longer deadline here. A listing that fails
for good (bucket missing, access denied) raises ``GcsSourceError``; one object that cannot be read is
yielded as a ``Delivery`` with ``error`` set, so the pipeline dead-letters it and reads the rest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import apache_beam as beam

from connectors.gcp_audit.options import GcsQuery
from connectors.gcp_audit.read_common import AUDIT_LOG_PREFIX, describe, time_range
from connectors.options import parse_options
from connectors.sources import Blob, Delivery, SourceError, SourceSpec

log = logging.getLogger(__name__)

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
_HOUR_FILE = re.compile(r"^(\d\d):(\d\d):(\d\d)_(\d\d):(\d\d):(\d\d)_S\d+\.json$")
_DAY = re.compile(r"/(\d{4})/(\d\d)/(\d\d)/[^/]+$")


class GcsSourceError(RuntimeError):
    """Listing the sink's objects failed for good (bucket missing, access denied, retries exhausted)."""


@dataclass(frozen=True)
class GcsOptions:
    bucket: str
    prefix: str  # "" or "some/folder/" (always ending in a slash)
    logs: tuple[str, ...]
    start: datetime | None = None
    end: datetime | None = None
    deadline: float = 600.0  # seconds the library may spend retrying one call


def options_from_spec(spec: SourceSpec) -> GcsOptions:
    target = spec.target.strip()
    if target.startswith("gs://"):
        target = target[5:]
    bucket, _, prefix = target.partition("/")
    if not _BUCKET.match(bucket):
        raise SourceError(f"gcs target {spec.target!r} does not start with a bucket name (gcs:BUCKET[/PREFIX])")
    prefix = prefix.strip("/")
    start, end = time_range(spec, required=False)
    logs = parse_options(GcsQuery, spec.params, f"source {spec.kind!r}").logs
    return GcsOptions(bucket, f"{prefix}/" if prefix else "", logs, start, end)


# --- plain functions -------------------------------------------------------------------------------


def log_folder(options: GcsOptions, log_name: str) -> str:
    return f"{options.prefix}{AUDIT_LOG_PREFIX}/{log_name}/"


def list_prefixes(options: GcsOptions) -> list[str]:
    """The object-name prefixes to list: one per log per UTC day overlapping [start, end), or each log's
    whole folder when there is no range."""
    out: list[str] = []
    for name in options.logs:
        folder = log_folder(options, name)
        if options.start is None or options.end is None:
            out.append(folder)
            continue
        day = options.start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        while day < options.end:
            out.append(f"{folder}{day:%Y/%m/%d}/")
            day += timedelta(days=1)
    return out


def hour_of(name: str) -> datetime | None:
    """The UTC hour an export file covers, from ``.../YYYY/MM/DD/HH:00:00_HH:59:59_Sn.json``."""
    day = _DAY.search(name)
    if not day:
        return None
    m = _HOUR_FILE.match(name.rsplit("/", 1)[-1])
    if not m:
        return None
    try:
        return datetime(int(day[1]), int(day[2]), int(day[3]), int(m[1]), tzinfo=UTC)
    except ValueError:
        return None


def in_range(name: str, options: GcsOptions) -> bool:
    """Whether an object found under a listed prefix is to be read: its hour overlaps the range (names
    without a readable hour are read: better a few events outside the range than a file unseen)."""
    if options.start is None or options.end is None:
        return True
    hour = hour_of(name)
    if hour is None:
        return True
    return hour < options.end and hour + timedelta(hours=1) > options.start


def object_location(bucket: str, name: str) -> str:
    return f"gs://{bucket}/{name}"


def _retry(deadline: float) -> Any:
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_timeout(deadline)


def make_client() -> Any:
    """A storage client on the default chain (or the emulator named by STORAGE_EMULATOR_HOST)."""
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import storage

    try:
        return storage.Client()
    except (DefaultCredentialsError, OSError, ValueError) as exc:
        raise GcsSourceError(
            "no usable Google credentials in the default chain (Application Default Credentials): "
            f"{type(exc).__name__}"
        ) from None


def list_objects(client: Any, options: GcsOptions, prefix: str) -> Iterator[str]:
    """Object names under ``prefix`` that are to be read (sink files; folders placeholders skipped)."""
    from google.api_core import exceptions as gexc

    try:
        for blob in client.list_blobs(options.bucket, prefix=prefix, retry=_retry(options.deadline)):
            name = blob.name
            if name.endswith("/"):
                continue
            if in_range(name, options):
                yield name
    except (gexc.GoogleAPIError, OSError) as exc:
        raise GcsSourceError(f"listing gs://{options.bucket}/{prefix} failed: {describe(exc)}") from None


def fetch(client: Any, options: GcsOptions, name: str) -> Blob | Delivery:
    """One object's bytes, or a Delivery with the reason it could not be read."""
    from google.api_core import exceptions as gexc

    location = object_location(options.bucket, name)
    try:
        data = client.bucket(options.bucket).blob(name).download_as_bytes(retry=_retry(options.deadline))
    except (gexc.GoogleAPIError, OSError) as exc:
        reason = f"could not read {location}: {describe(exc)}"
        log.warning("%s", reason)
        return Delivery(location=location, data=b"", ack_id=None, error=reason)
    return location, data


# --- Beam ------------------------------------------------------------------------------------------


class _ClientDoFn(beam.DoFn):
    def __init__(self, options: GcsOptions) -> None:
        self.options = options

    def setup(self) -> None:
        self._client = make_client()

    def teardown(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None and hasattr(client, "close"):
            client.close()


class _List(_ClientDoFn):
    def process(self, prefix: str) -> Iterator[str]:
        yield from list_objects(self._client, self.options, prefix)


class _Fetch(_ClientDoFn):
    def process(self, name: str) -> Iterator[Blob | Delivery]:
        yield fetch(self._client, self.options, name)


class ReadGcsSinkExport(beam.PTransform):
    """``pipeline | ReadGcsSinkExport(options)`` -> ``PCollection[(gs://bucket/name, bytes)]`` (or a
    ``Delivery`` with ``error`` for an object that could not be read)."""

    def __init__(self, options: GcsOptions) -> None:
        super().__init__()
        self.options = options

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection[Blob]:
        return (
            pbegin
            | "Prefixes" >> beam.Create(list_prefixes(self.options))
            | "List" >> beam.ParDo(_List(self.options))
            | "Spread" >> beam.Reshuffle()
            | "Fetch" >> beam.ParDo(_Fetch(self.options))
        )


def source(spec: SourceSpec) -> ReadGcsSinkExport:
    return ReadGcsSinkExport(options_from_spec(spec))
