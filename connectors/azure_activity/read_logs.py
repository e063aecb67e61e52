"""Azure Activity Logs through Log Analytics: the ``AzureActivity`` table for a time range, as blobs.

Source kind ``log-analytics`` (batch): ``log-analytics:WORKSPACE_ID`` with ``--start``/``--end``.

The query API answers one query with at most 500,000 rows and ~64 MB, within a server timeout; past a
limit it does not fail, it returns what it has with a ``PartialError`` (azure-monitor-query's
``LogsQueryPartialResult``). A truncated answer read as complete would lose events silently, so the
range is queried in time slices (``slice``, default 1 h), and a slice whose answer is partial is split in
half and both halves queried again, down to ``min_slice``; a slice still partial at that size is an error
that names it (the run fails loudly rather than writing a hole).

Rows are sent on as JSON lines in the AzureActivity table shape the normalizer reads (``TimeGenerated``,
``OperationNameValue``, ``Claims_d`` ...), ``rows_per_blob`` rows a blob, at
``loganalytics://WORKSPACE/AzureActivity?from=..&to=..&offset=N`` (the normalizer adds ``#row``).
Values are taken from the response body as the service wrote them: the SDK would turn ``datetime``
columns into Python datetimes and drop the 100 ns digit the event id is computed from, so the id of a
row would differ from the id of the same event read from the storage export.

Credentials: ``DefaultAzureCredential`` only (managed identity, workload identity, Azure CLI ...).
Retries: azure-core's retry policy (``connectors.azure_retry``: 408, 429, 5xx, connection and read errors,
exponential backoff, Retry-After honoured; POST retried like a GET, since a query only reads), at most
``max_attempts`` requests a query; a query that still fails, and any other error (401, 403, 404, a bad
query), raises ``LogAnalyticsError`` with one readable sentence, the attempts made and no credential.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import apache_beam as beam
import orjson

from connectors.azure_retry import PostRetryPolicy, retry_policy
from connectors.options import parse_options
from connectors.sources import Blob, SourceError, SourceSpec
from connectors.timeutil import time_slices

from .options import LOGS_ENDPOINT, LogAnalyticsQuery

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = LOGS_ENDPOINT
TABLE = "AzureActivity"
INGESTION_LAG = timedelta(minutes=15)
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

class LogAnalyticsError(RuntimeError):
    """A query failed for good (denied, workspace not found, still partial at the smallest slice)."""


@dataclass(frozen=True)
class LogAnalyticsOptions:
    """What to read and how; made from a ``SourceSpec`` by ``options_from_spec``."""

    workspace: str
    start: datetime
    end: datetime
    endpoint: str = DEFAULT_ENDPOINT
    slice: timedelta = timedelta(hours=1)
    min_slice: timedelta = timedelta(minutes=1)
    rows_per_blob: int = 10_000
    server_timeout: int = 300
    max_attempts: int = 8  # requests per query, retries included (azure-core's retry policy)
    backoff: float = 1.0  # seconds, doubled per retry
    backoff_max: float = 60.0  # cap on a backoff wait (a Retry-After is waited as the service says)


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def options_from_spec(spec: SourceSpec) -> LogAnalyticsOptions:
    """Check the spec early (at pipeline construction), so a typo is a one-line usage error."""
    workspace = spec.target.strip().strip("/")
    if not _GUID.match(workspace):
        raise SourceError(
            f"log-analytics target {spec.target!r} is not a workspace id (a GUID, the Workspace ID on the "
            "workspace's overview page)"
        )
    if spec.start is None:
        raise SourceError("log-analytics needs --start (and --end, default now): the time range to read")
    start = _utc(spec.start)
    end = _utc(spec.end) if spec.end is not None else datetime.now(UTC)
    if end <= start:
        raise SourceError(f"log-analytics: --end {end.isoformat()} is not after --start {start.isoformat()}")
    if end > datetime.now(UTC) - INGESTION_LAG:
        log.warning(
            "log-analytics: the range ends less than %s ago; rows still being ingested are not read "
            "(Activity Log rows reach the workspace minutes late): rerun that part later, duplicates "
            "are removed by event id", INGESTION_LAG,
        )
    # azure-core refuses to send a bearer token over plain http: the model wants https before the run.
    query = parse_options(LogAnalyticsQuery, spec.params, "source 'log-analytics'")
    return LogAnalyticsOptions(
        workspace=workspace.lower(),
        start=start,
        end=end,
        endpoint=query.endpoint,
        slice=query.slice,
        min_slice=query.min_slice,
        rows_per_blob=query.rows_per_blob,
        server_timeout=query.timeout,
    )


# --- plain functions -------------------------------------------------------------------------------


def kusto_time(t: datetime) -> str:
    """A KQL datetime literal, 100 ns precision, UTC."""
    return _utc(t).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def query_text(start: datetime, end: datetime) -> str:
    """The slice's query. The API's ``timespan`` alone is inclusive at both ends, so the half-open
    bounds are in the query too: a row exactly on a slice boundary is read once, by the later slice."""
    return (
        f"{TABLE} | where TimeGenerated >= datetime({kusto_time(start)}) "
        f"and TimeGenerated < datetime({kusto_time(end)})"
    )


def records_of_body(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The response's primary table (``tables[0]``) -> one dict per row, keyed by column name, values
    exactly as the service wrote them."""
    tables = body.get("tables")
    if not isinstance(tables, list) or not tables:
        return []
    table = tables[0]
    if not isinstance(table, dict):
        raise LogAnalyticsError("Log Analytics response: tables[0] is not an object")
    columns = table.get("columns") or []
    rows = table.get("rows") or []
    names = [c.get("name") if isinstance(c, dict) else c for c in columns]
    if not all(isinstance(n, str) for n in names) or not isinstance(rows, list):
        raise LogAnalyticsError("Log Analytics response: tables[0] has malformed columns or rows")
    # A row that is not a list is passed on as it is: the normalizer makes it a dead letter of its own.
    columns = [str(n) for n in names]
    return [dict(zip(columns, row, strict=False)) if isinstance(row, list) else row for row in rows]


def slice_location(workspace: str, start: datetime, end: datetime, offset: int) -> str:
    return (
        f"loganalytics://{workspace}/{TABLE}?from={kusto_time(start)}&to={kusto_time(end)}&offset={offset}"
    )


def blobs_of_records(
    workspace: str, start: datetime, end: datetime, records: list[Any], rows_per_blob: int
) -> Iterator[Blob]:
    """JSON lines, ``rows_per_blob`` records a blob."""
    for offset in range(0, len(records), rows_per_blob):
        chunk = records[offset : offset + rows_per_blob]
        data = b"\n".join(orjson.dumps(r) for r in chunk) + b"\n"
        yield slice_location(workspace, start, end, offset), data


def describe_error(exc: Exception) -> str:
    """One line about a failed query: status, service error code and message, or why no token could be
    had. Only what the service or the credential chain answered: the request (and so its bearer token)
    is never part of it, and the chain's messages name credentials, never their values."""
    status = getattr(exc, "status_code", None)
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    lines = [line.strip() for line in str(getattr(error, "message", None) or exc).splitlines() if line.strip()]
    message = lines[0] if lines else type(exc).__name__
    if "DefaultAzureCredential failed" in message:
        # The chain lists every credential it tried; the ones that got an answer say what went wrong.
        tried = [line for line in lines[1:] if "error" in line.lower()]
        message = "no token from DefaultAzureCredential" + (f" ({'; '.join(tried)})" if tried else "")
    parts = [f"HTTP {status}" if status else None, code, message]
    return ": ".join(p for p in parts if p)


# --- the query loop ----------------------------------------------------------------------------------


QueryFn = Callable[[datetime, datetime], tuple[dict[str, Any], str | None]]


class SliceReader:
    """Reads slices: retries transient failures, halves a slice whose answer is partial.

    ``query(start, end)`` returns the response body and the partial error text (None when complete);
    it is ``sdk_query`` (azure-monitor-query) in production, anything in a unit test.
    """

    def __init__(self, options: LogAnalyticsOptions, query: QueryFn) -> None:
        self.options = options
        self.query = query
        self.queries = 0
        self.splits = 0

    def read(self, start: datetime, end: datetime) -> Iterator[Blob]:
        pending = [(start, end)]
        while pending:
            s, e = pending.pop()
            body, partial = self._query_with_retries(s, e)
            if partial is not None:
                if e - s <= self.options.min_slice:
                    raise LogAnalyticsError(
                        f"Log Analytics workspace {self.options.workspace}: the answer for "
                        f"[{kusto_time(s)}, {kusto_time(e)}) is still partial at the smallest slice "
                        f"({self.options.min_slice}): {partial}; lower min_slice"
                    )
                middle = s + (e - s) / 2
                self.splits += 1
                log.info(
                    "Log Analytics answer for [%s, %s) is partial (%s): splitting at %s",
                    kusto_time(s), kusto_time(e), partial, kusto_time(middle),
                )
                pending.append((middle, e))  # popped second: slices are read in time order
                pending.append((s, middle))
                continue
            records = records_of_body(body)
            yield from blobs_of_records(self.options.workspace, s, e, records, self.options.rows_per_blob)

    def _query_with_retries(self, start: datetime, end: datetime) -> tuple[dict[str, Any], str | None]:
        """One query; the client's retry policy retries what is transient. What still fails is an error
        that says how many requests were made (``attempts`` of the query function, when it counts)."""
        from azure.core.exceptions import AzureError

        self.queries += 1
        try:
            return self.query(start, end)
        except AzureError as exc:
            attempts = int(getattr(self.query, "attempts", 1) or 1)
            outcome = f"failed after {attempts} attempts" if attempts > 1 else "failed"
            raise LogAnalyticsError(
                f"Log Analytics query on workspace {self.options.workspace} for "
                f"[{kusto_time(start)}, {kusto_time(end)}) {outcome}: {describe_error(exc)}"
            ) from None


def make_client(options: LogAnalyticsOptions) -> Any:
    """A LogsQueryClient on DefaultAzureCredential, retrying with azure-core's policy (POST included)."""
    from azure.identity import DefaultAzureCredential
    from azure.monitor.query import LogsQueryClient


    policy = retry_policy(options.max_attempts, options.backoff, options.backoff_max)
    client = LogsQueryClient(DefaultAzureCredential(), endpoint=options.endpoint, retry_policy=policy)
    setattr(client, "cloudaudit_retry_policy", policy)  # noqa: B010  # for SdkQuery.attempts
    return client


class SdkQuery:
    """``query_workspace`` for one slice, returning the raw body (see the module doc: the SDK's row
    objects lose the 100 ns digit) and the partial error's text when the answer is partial.

    ``attempts``: the requests the last query took, retries included (from the client's retry policy)."""

    def __init__(self, client: Any, options: LogAnalyticsOptions, policy: PostRetryPolicy | None = None) -> None:
        self.client = client
        self.options = options
        self.policy = policy

    @property
    def attempts(self) -> int:
        return self.policy.attempts() if self.policy is not None else 1

    def __call__(self, start: datetime, end: datetime) -> tuple[dict[str, Any], str | None]:
        from azure.monitor.query import LogsQueryPartialResult

        captured: dict[str, Any] = {}

        def keep_body(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
            captured["body"] = pipeline_response.http_response.json()
            return deserialized

        result = self.client.query_workspace(
            self.options.workspace,
            query_text(start, end),
            timespan=(start, end),
            server_timeout=self.options.server_timeout,
            read_timeout=self.options.server_timeout + 60,  # the HTTP read outlasts the server's own limit
            cls=keep_body,
        )
        body = captured.get("body") or {}
        if isinstance(result, LogsQueryPartialResult):
            return body, describe_partial(result.partial_error, body)
        return body, None


def sdk_query(client: Any, options: LogAnalyticsOptions) -> SdkQuery:
    return SdkQuery(client, options, getattr(client, "cloudaudit_retry_policy", None))


def describe_partial(err: Any, body: dict[str, Any]) -> str:
    """The innermost message of a PartialError (it names the limit: E_QUERY_RESULT_SET_TOO_LARGE ...)."""
    error = body.get("error") if isinstance(body, dict) else None
    inner: Any = error
    while isinstance(inner, dict):
        details = inner.get("details")
        nxt = inner.get("innererror") or (details[0] if isinstance(details, list) and details else None)
        if not isinstance(nxt, dict):
            break
        inner = nxt
    if isinstance(inner, dict) and inner.get("message"):
        return str(inner["message"]).splitlines()[0]
    return str(getattr(err, "message", None) or "PartialError").splitlines()[0]


# --- Beam ----------------------------------------------------------------------------------------------


class _ReadSlicesFn(beam.DoFn):
    """One client per worker (made in ``setup``: clients do not pickle); a slice in, its blobs out."""

    def __init__(self, options: LogAnalyticsOptions) -> None:
        self.options = options
        self._client: Any = None

    def setup(self) -> None:
        self._client = make_client(self.options)
        self._reader = SliceReader(self.options, sdk_query(self._client, self.options))

    def process(self, element: tuple[datetime, datetime]) -> Iterator[Blob]:
        yield from self._reader.read(*element)

    def teardown(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class ReadLogAnalytics(beam.PTransform):
    """``pipeline | ReadLogAnalytics(options)`` -> ``PCollection[(location, bytes)]`` of AzureActivity
    rows for [start, end) as JSON lines."""

    def __init__(self, options: LogAnalyticsOptions | SourceSpec) -> None:
        super().__init__()
        self.options = options if isinstance(options, LogAnalyticsOptions) else options_from_spec(options)

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection[Blob]:
        o = self.options
        return (
            pbegin
            | "Slices" >> beam.Create(time_slices(o.start, o.end, o.slice))
            | "Spread" >> beam.Reshuffle()
            | "Query" >> beam.ParDo(_ReadSlicesFn(o))
        )


def source(spec: SourceSpec) -> ReadLogAnalytics:
    """The ``log-analytics`` factory for ``SOURCES``."""
    return ReadLogAnalytics(options_from_spec(spec))
