"""Batch source ``azure-blob``: the Activity Log export of a diagnostic setting to a storage account.

The export writes one append blob per subscription and hour into the ``insights-activity-logs``
container: ``resourceId=/SUBSCRIPTIONS/<SUB>/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json``, JSON lines of
diagnostic-settings records (the shape ``parse.unwrap`` reads). The reader lists only what a range needs:

1. at start-up (``expand``), one delimiter listing of ``resourceId=/SUBSCRIPTIONS/`` finds the
   subscriptions (unless ``subscriptions=`` names them) and proves the container is readable: a missing
   container, a wrong account or denied access is one clear ``SourceError`` there;
2. the hour folders ``.../y=/m=/d=/h=/`` of each subscription that the range touches are computed, not
   listed (without a range, everything under each subscription is listed);
3. per hour folder (in parallel), the blobs, paginated;
4. the blobs, downloaded in parallel (a thread pool per chunk).

**Delivery lag.** The hour in a blob's path is the hour the records were *received* by the export, and
Activity Log records reach it minutes after they happened. So for ``[start, end)`` the hour blobs from
``start``'s hour up to ``end + lag`` are read (``lag`` defaults to 60 minutes, i.e. one more hour blob);
every record read is passed on (deterministic event ids make overlapping runs harmless). ``lag=0`` reads
exactly the hour blobs that ``[start, end)`` overlaps.

**Credentials.** ``AZURE_STORAGE_CONNECTION_STRING``, when set, is used (the Azurite / local development
override; its account must be the target's); otherwise ``DefaultAzureCredential`` (managed identity,
workload identity, Azure CLI login, environment service principal). A SAS token or account key is never
taken in the source spec, and locations are plain blob URLs without a query string.

**Retries.** azure-storage-blob's ``ExponentialRetry`` (server busy 503, 500, timeouts, connection
errors): backoff ``1 + 2**n`` seconds with jitter, ``attempts`` tries in all. A blob that still cannot be
read (deleted since listing, access denied) becomes a ``Delivery`` with ``error`` (a dead letter).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

import apache_beam as beam

from connectors.fetching import chunks, fetch_chunk
from connectors.options import parse_options
from connectors.sources import Delivery, SourceError, SourceSpec

from .options import BLOB_ATTEMPTS, BLOB_LAG_MINUTES, BLOB_PAGE, BLOB_THREADS, AzureBlobQuery

log = logging.getLogger(__name__)

CONTAINER = "insights-activity-logs"
SUBSCRIPTIONS = "resourceId=/SUBSCRIPTIONS/"
CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"
DEFAULT_LAG = timedelta(minutes=BLOB_LAG_MINUTES)
DEFAULT_THREADS = BLOB_THREADS
DEFAULT_ATTEMPTS = BLOB_ATTEMPTS
PAGE = BLOB_PAGE
_HOUR = re.compile(r"/y=(\d{4})/m=(\d{1,2})/d=(\d{1,2})/h=(\d{1,2})/")
# The SDK's and urllib3's loggers print request URLs at DEBUG (with a SAS from a connection string).
SDK_LOGGERS = ("urllib3.connectionpool", "azure.core.pipeline.policies.http_logging_policy", "azure.identity")
_SECRET = re.compile(r"((?:AccountKey|SharedAccessSignature|sig)=)[^;&\s\"']+", re.IGNORECASE)


@dataclass(frozen=True)
class BlobOptions:
    """A parsed ``azure-blob:`` source (picklable, no credential)."""

    account: str
    account_url: str  # https://ACCOUNT.blob.core.windows.net or http://127.0.0.1:PORT/ACCOUNT
    container: str = CONTAINER
    subscriptions: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    lag: timedelta = DEFAULT_LAG
    page_size: int = PAGE
    threads: int = DEFAULT_THREADS
    attempts: int = DEFAULT_ATTEMPTS

    @classmethod
    def from_spec(cls, spec: SourceSpec) -> BlobOptions:
        account, account_url, container = parse_target(spec.target)
        query = parse_options(AzureBlobQuery, spec.params, "source 'azure-blob'")
        start, end = _utc(spec.start), _utc(spec.end)
        if start and end and end <= start:
            raise SourceError("azure-blob source: --end must be after --start")
        return cls(
            account=account,
            account_url=account_url,
            container=container,
            subscriptions=query.subscriptions,
            start=start,
            end=end,
            lag=timedelta(minutes=query.lag),
            page_size=query.page_size,
            threads=query.threads,
            attempts=query.attempts,
        )

    @property
    def container_url(self) -> str:
        return f"{self.account_url}/{self.container}"

    def location(self, name: str) -> str:
        return f"{self.container_url}/{name}"

    def hours(self) -> list[datetime] | None:
        """The hour folders the range touches, or None without a complete range (then they are listed)."""
        if self.start is None or self.end is None:
            return None
        first = self.start.replace(minute=0, second=0, microsecond=0)
        last = self.end + self.lag - timedelta(microseconds=1)
        return [first + timedelta(hours=i) for i in range(int((last - first) / timedelta(hours=1)) + 1)]

    def hour_in_range(self, hour: datetime) -> bool:
        if self.start and hour + timedelta(hours=1) <= self.start:
            return False
        return not (self.end and hour >= self.end + self.lag)

    def client(self) -> Any:
        """A ContainerClient: the connection string when set (emulator, local development), else
        DefaultAzureCredential."""
        from azure.storage.blob import ContainerClient, ExponentialRetry

        install_redaction(SDK_LOGGERS)
        retry = ExponentialRetry(
            initial_backoff=1, increment_base=2, retry_total=max(0, self.attempts - 1), random_jitter_range=1
        )
        conn = os.environ.get(CONNECTION_STRING_ENV)
        if conn:
            named = _connection_account(conn)
            if named and named != self.account:
                raise SourceError(
                    f"azure-blob source: {CONNECTION_STRING_ENV} is for account {named!r}, "
                    f"the source names {self.account!r}"
                )
            try:
                return ContainerClient.from_connection_string(conn, self.container, retry_policy=retry)
            except Exception:  # the message could quote the string: say only what is wrong
                raise SourceError(
                    f"azure-blob source: {CONNECTION_STRING_ENV} is not a valid connection string"
                ) from None
        from azure.identity import DefaultAzureCredential

        return ContainerClient(
            self.account_url, self.container, credential=DefaultAzureCredential(), retry_policy=retry
        )


def parse_target(target: str) -> tuple[str, str, str]:
    """``https://ACCOUNT.blob.core.windows.net[/CONTAINER]``, ``http://HOST:PORT/ACCOUNT[/CONTAINER]``
    (Azurite's path style) or a bare ``ACCOUNT`` -> (account, account URL, container)."""
    target = target.strip().rstrip("/")
    if "://" not in target:
        if not re.fullmatch(r"[a-z0-9]{3,24}", target):
            raise SourceError(
                "azure-blob source: give the container URL, https://ACCOUNT.blob.core.windows.net/"
                "insights-activity-logs"
            )
        return target, f"https://{target}.blob.core.windows.net", CONTAINER
    parts = urlsplit(target)
    if parts.username or parts.password or parts.query or parts.fragment:
        raise SourceError(
            "azure-blob source: the URL must not carry credentials or a query (no SAS token: "
            "credentials come from the default chain)"
        )
    host = parts.hostname or ""
    path = [p for p in parts.path.split("/") if p]
    if _path_style(host):
        if not path:
            raise SourceError("azure-blob source: an emulator URL is http://HOST:PORT/ACCOUNT/CONTAINER")
        account, path = path[0], path[1:]
        account_url = f"{parts.scheme}://{parts.netloc}/{account}"
    else:
        account = host.split(".", 1)[0]
        account_url = f"{parts.scheme}://{parts.netloc}"
    if len(path) > 1:
        raise SourceError("azure-blob source: the URL names a container; choose hours with --start/--end")
    return account, account_url, path[0] if path else CONTAINER


def _path_style(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


def _connection_account(conn: str) -> str | None:
    for part in conn.split(";"):
        name, _, value = part.partition("=")
        if name.strip().lower() == "accountname":
            return value.strip()
    return None


def _utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def redact(text: str) -> str:
    """``text`` without the connection string's key or SAS, or any ``sig=``/``AccountKey=`` value."""
    conn = os.environ.get(CONNECTION_STRING_ENV) or ""
    for part in conn.split(";"):
        name, _, value = part.partition("=")
        if name.strip().lower() in ("accountkey", "sharedaccesssignature") and len(value) >= 8:
            text = text.replace(value.strip(), "<redacted>")
    return _SECRET.sub(lambda m: m.group(1) + "<redacted>", text)


def _code(exc: BaseException) -> str:
    code = getattr(exc, "error_code", None) or ""
    return str(getattr(code, "value", code))  # StorageErrorCode is an enum of the service's words


class _RedactingFilter(logging.Filter):
    """Rewrites a log record whose text holds a credential (see ``redact``); never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot format itself is left to the handler
            return True
        clean = redact(text)
        if clean != text:
            record.msg, record.args = clean, ()
        return True


def install_redaction(names: Sequence[str]) -> None:
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
            logger.addFilter(_RedactingFilter())


def describe(exc: BaseException) -> str:
    """One line naming an Azure error without credentials: ``BlobNotFound: The specified blob does not
    exist.`` for a service error, the exception's type and first line otherwise."""
    code = _code(exc)
    status = getattr(getattr(exc, "response", None), "status_code", None)
    first = (str(getattr(exc, "reason", None) or exc).splitlines() or [""])[0]
    if code:
        text = f"{code}: {first}"
    elif status:
        text = f"HTTP {status}: {first}"
    else:
        text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return redact(text)[:500]


# --- listing (plain functions over a ContainerClient) --------------------------------------------


def subscription_prefixes(container: Any, opts: BlobOptions) -> list[str]:
    """``resourceId=/SUBSCRIPTIONS/<SUB>/`` of each subscription to read; the start-up check too."""
    try:
        if opts.subscriptions:
            next(
                iter(container.list_blobs(name_starts_with=SUBSCRIPTIONS, results_per_page=1).by_page()), None
            )
            return [f"{SUBSCRIPTIONS}{s}/" for s in opts.subscriptions]
        found = [
            item.name
            for item in container.walk_blobs(
                name_starts_with=SUBSCRIPTIONS, delimiter="/", results_per_page=opts.page_size
            )
            if item.name.endswith("/")
        ]
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(
            f"azure-blob source: cannot list {opts.container_url}: {_listing_error(exc)}"
        ) from None
    if not found:
        log.warning("azure-blob source: no subscriptions under %s/%s", opts.container_url, SUBSCRIPTIONS)
    return sorted(found)


def _listing_error(exc: BaseException) -> str:
    code = _code(exc)
    if code == "ContainerNotFound":
        return "the container does not exist"
    if code.startswith("Authorization") or code == "AuthenticationFailed":
        return f"access denied ({code}: the principal needs Storage Blob Data Reader)"
    if type(exc).__name__ == "ClientAuthenticationError":
        return "no credential (DefaultAzureCredential found none, and AZURE_STORAGE_CONNECTION_STRING is not set)"
    return describe(exc)


def hour_prefixes(opts: BlobOptions, sub_prefix: str) -> list[str]:
    """The hour folders of one subscription in range, or the subscription itself without a full range."""
    hours = opts.hours()
    if hours is None:
        return [sub_prefix]
    return [f"{sub_prefix}y={h.year:04d}/m={h.month:02d}/d={h.day:02d}/h={h.hour:02d}/" for h in hours]


def blob_names(container: Any, opts: BlobOptions, prefix: str) -> Iterator[str]:
    """The blobs under ``prefix``, every page; with a half-open range, only hours that can be in it."""
    for blob in container.list_blobs(name_starts_with=prefix, results_per_page=opts.page_size):
        name = blob.name
        if name.endswith("/"):
            continue
        m = _HOUR.search(name)
        if m and (opts.start or opts.end):
            try:
                hour = datetime(*(int(g) for g in m.groups()), tzinfo=UTC)  # type: ignore[misc]
            except ValueError:
                hour = None
            if hour is not None and not opts.hour_in_range(hour):
                continue
        yield name


def fetch_blob(container: Any, opts: BlobOptions, name: str) -> tuple[bytes | None, str | None]:
    """(bytes, None) or (None, why it could not be read, without credentials)."""
    try:
        return container.download_blob(name, max_concurrency=1).readall(), None
    except Exception as exc:
        return None, f"cannot read {opts.location(name)}: {describe(exc)}"


# --- Beam ---------------------------------------------------------------------------------------


class _ContainerFn(beam.DoFn):
    def __init__(self, opts: BlobOptions) -> None:
        self._opts = opts

    def setup(self) -> None:
        self._container = self._opts.client()

    def teardown(self) -> None:
        close = getattr(getattr(self, "_container", None), "close", None)
        if close:
            close()


class _ListBlobsFn(_ContainerFn):
    def process(self, prefix: str) -> Iterator[list[str]]:
        try:
            yield from chunks(blob_names(self._container, self._opts, prefix), self._opts.threads * 2)
        except Exception as exc:  # a listing that fails after retries would leave a hole: stop, clearly
            raise SourceError(
                f"azure-blob source: cannot list {self._opts.location(prefix)}: {describe(exc)}"
            ) from None


class _FetchFn(_ContainerFn):
    def setup(self) -> None:
        super().setup()
        self._pool = ThreadPoolExecutor(self._opts.threads, thread_name_prefix="blob-fetch")

    def teardown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        super().teardown()

    def process(self, chunk: Sequence[str]) -> Iterator[tuple[str, bytes] | Delivery]:
        fetch = partial(fetch_blob, self._container, self._opts)
        yield from fetch_chunk(self._pool, chunk, fetch, self._opts.location, log, "azure-blob source: ")


class ReadActivityLogBlobs(beam.PTransform):
    """``pipeline | ReadActivityLogBlobs(spec)`` -> blobs ``(blob URL, bytes)`` of the storage export's
    ``PT1H.json`` files in the spec's range (``Delivery`` with ``error`` for a blob that could not be read)."""

    def __init__(self, spec: SourceSpec | BlobOptions) -> None:
        super().__init__()
        self._opts = spec if isinstance(spec, BlobOptions) else BlobOptions.from_spec(spec)

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        container = self._opts.client()
        try:
            subs = subscription_prefixes(container, self._opts)
        finally:
            container.close()
        prefixes = [p for s in subs for p in hour_prefixes(self._opts, s)]
        return (
            pbegin
            | "HourPrefixes" >> beam.Create(prefixes)
            | "SpreadPrefixes" >> beam.Reshuffle()
            | "ListBlobs" >> beam.ParDo(_ListBlobsFn(self._opts))
            | "SpreadBlobs" >> beam.Reshuffle()
            | "Fetch" >> beam.ParDo(_FetchFn(self._opts))
        )


def source(spec: SourceSpec) -> ReadActivityLogBlobs:
    return ReadActivityLogBlobs(spec)
