"""GCP Cloud Audit Logs through the Cloud Logging API (``entries.list``), for a time range, as blobs.

Source kind ``logging`` (batch): ``logging:projects/P`` (or ``organizations/O``, ``folders/F``,
``billingAccounts/B``) with ``--start``/``--end``.

The request is the REST ``POST /v2/entries:list`` with ``resourceNames``, a filter on the audit log names
and the half-open time range (``timestamp >= start AND timestamp < end``, so an entry on a slice boundary
is read once), ``orderBy: timestamp asc`` and ``pageSize``, paged by ``nextPageToken`` until the API gives
none (a page may be empty and still have a token: the service stops scanning after a while and says
"go on"). Each page's entries are sent on as JSON lines, each entry's JSON exactly the LogEntry the REST
API returned (the shape the mapper reads), at ``logging://RESOURCE?from=..&to=..&page=N``.

The read quota is 60 ``entries.list`` requests a minute per project. The range is cut into slices
(``slice``, default 1 h) read in parallel; each worker process paces its requests with a token bucket
(``rpm``, default 60, a small burst allowed), and a 429/RESOURCE_EXHAUSTED (or 500/502/503/504, a dropped
connection) is retried with capped exponential backoff and full jitter, honouring Retry-After. On a
runner with several worker processes, set ``rpm`` to the quota divided by their number. Other errors
(400 bad filter, 403, 404) are permanent: ``LoggingSourceError`` with one readable sentence.

Requests go through google-cloud-logging's REST connection (``Client(_use_grpc=False)``): its endpoint
handling, user agent and authorized session. Credentials: Application Default Credentials
(``google.auth.default``, scope logging.read) only. With ``endpoint=`` (a local stand-in of the API, or a
private endpoint) the client's ``api_endpoint`` is that URL and requests are unauthenticated
(``AnonymousCredentials``), so no token can ever be sent to a test server.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import apache_beam as beam
import orjson

from connectors.backoff import backoff_delay, retry_after_seconds
from connectors.gcp_audit.options import LoggingQuery
from connectors.gcp_audit.read_common import (
    AUDIT_LOG_PREFIX,
    describe,
    rfc3339,
    safe_text,
    time_range,
)
from connectors.options import parse_options
from connectors.sources import Blob, SourceError, SourceSpec
from connectors.timeutil import time_slices

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://logging.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/logging.read"
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
TRANSIENT_CODES = frozenset({"RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED", "ABORTED"})
_RESOURCE = re.compile(r"^(projects|organizations|folders|billingAccounts)/[A-Za-z0-9._:-]+$")


class LoggingSourceError(RuntimeError):
    """entries.list failed for good (denied, bad filter, retries exhausted, no credentials)."""


@dataclass(frozen=True)
class LoggingOptions:
    """What to read and how; made from a ``SourceSpec`` by ``options_from_spec``."""

    resource: str
    logs: tuple[str, ...]
    start: datetime
    end: datetime
    extra_filter: str | None = None
    slice: timedelta = timedelta(hours=1)
    page_size: int = 1000
    endpoint: str | None = None  # None: the public API with Application Default Credentials
    rpm: int = 60
    timeout: float = 60.0
    max_attempts: int = 8
    backoff: float = 1.0  # seconds, doubled per attempt, full jitter
    backoff_max: float = 60.0  # cap on any one wait, Retry-After included


def options_from_spec(spec: SourceSpec) -> LoggingOptions:
    """Check the spec at pipeline construction, so a typo is a one-line usage error."""
    resource = spec.target.strip().strip("/")
    if not _RESOURCE.match(resource):
        raise SourceError(
            f"logging target {spec.target!r} is not a resource name such as projects/my-project, "
            "organizations/123456789012 or folders/987654321"
        )
    start, end = time_range(spec, required=True)
    assert start is not None and end is not None
    query = parse_options(LoggingQuery, spec.params, f"source {spec.kind!r}")
    return LoggingOptions(
        resource=resource,
        logs=query.logs,
        start=start,
        end=end,
        extra_filter=query.filter or None,
        slice=query.slice,
        page_size=query.page_size,
        endpoint=query.endpoint.rstrip("/") if query.endpoint else None,
        rpm=query.rpm,
    )


# --- plain functions -------------------------------------------------------------------------------


def log_names(resource: str, logs: tuple[str, ...]) -> list[str]:
    """Full log names, as LogEntry.logName spells them (the slash in the log id URL-encoded)."""
    return [f"{resource}/logs/{quote(f'{AUDIT_LOG_PREFIX}/{name}', safe='')}" for name in logs]


def log_filter(resource: str, logs: tuple[str, ...], start: datetime, end: datetime, extra: str | None) -> str:
    """The entries.list filter: exact audit log names (indexed, and nothing but audit logs), the
    half-open time range, and the user's extra filter in parentheses so its ORs stay inside."""
    names = " OR ".join(f'logName="{n}"' for n in log_names(resource, logs))
    text = f'({names}) AND timestamp >= "{rfc3339(start)}" AND timestamp < "{rfc3339(end)}"'
    if extra:
        text += f" AND ({extra})"
    return text


def request_body(options: LoggingOptions, start: datetime, end: datetime, token: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceNames": [options.resource],
        "filter": log_filter(options.resource, options.logs, start, end, options.extra_filter),
        "orderBy": "timestamp asc",
        "pageSize": options.page_size,
    }
    if token:
        body["pageToken"] = token
    return body


def page_location(resource: str, start: datetime, end: datetime, page: int) -> str:
    return f"logging://{resource}?from={rfc3339(start)}&to={rfc3339(end)}&page={page}"


def entries_blob(entries: list[Any]) -> bytes:
    """A page's entries as JSON lines: one bad entry costs one record, and each record's raw is its own
    LogEntry JSON."""
    return b"".join(orjson.dumps(e) + b"\n" for e in entries)


def api_error(status: int, body: bytes) -> tuple[str | None, str]:
    """(google.rpc status name, message) from an error body ``{"error": {code, message, status}}``."""
    try:
        err = orjson.loads(body).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        err = None
    if isinstance(err, dict):
        return err.get("status"), safe_text(err.get("message") or "")
    return None, safe_text(body[:200].decode("utf-8", "replace")) if body else f"HTTP {status}"


class RateLimiter:
    """A token bucket shared by every reader in this process for one (endpoint, resource): the quota is
    per project, and the slices of one run all spend it."""

    _buckets: dict[tuple[str, str], RateLimiter] = {}
    _guard = threading.Lock()

    def __init__(self, rpm: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rpm / 60.0
        self.capacity = float(max(1, rpm // 10))  # a burst of 6 s worth: slices start together
        self.tokens = self.capacity
        self.clock = clock
        self.stamp = clock()
        self.lock = threading.Lock()

    @classmethod
    def shared(cls, key: tuple[str, str], rpm: int) -> RateLimiter:
        with cls._guard:
            found = cls._buckets.get(key)
            if found is None or found.rate != rpm / 60.0:
                found = cls._buckets[key] = cls(rpm)
            return found

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> None:
        while True:
            with self.lock:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1.0:
                    self.tokens -= 1.0
                    return
                need = (1.0 - self.tokens) / self.rate
            sleep(need)


# (status, headers, body) of one POST; raises OSError-like exceptions for connection failures.
PostFn = Callable[[dict[str, Any]], tuple[int, dict[str, str], bytes]]


class SliceReader:
    """Reads one time slice, page by page, retrying what is transient. ``post`` sends one entries.list
    request (``make_post``: the google-cloud-logging client's connection in production; anything in a
    unit test)."""

    def __init__(
        self,
        options: LoggingOptions,
        post: PostFn,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.options = options
        self.post = post
        self.limiter = limiter
        self.sleep = sleep
        self.rng = rng
        self.requests = 0
        self.retries = 0

    def blobs(self, start: datetime, end: datetime) -> Iterator[Blob]:
        token: str | None = None
        page = 0
        while True:
            body = self._call(request_body(self.options, start, end, token), start, end)
            try:
                doc = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise LoggingSourceError(
                    f"Cloud Logging answered {self.options.resource} with a body that is not JSON ({exc})"
                ) from None
            entries = doc.get("entries") if isinstance(doc, dict) else None
            if entries:
                if not isinstance(entries, list):
                    raise LoggingSourceError("Cloud Logging answered with 'entries' that is not a list")
                yield page_location(self.options.resource, start, end, page), entries_blob(entries)
            page += 1
            token = doc.get("nextPageToken") if isinstance(doc, dict) else None
            if not token:
                return

    def _call(self, body: dict[str, Any], start: datetime, end: datetime) -> bytes:
        o = self.options
        what = f"Cloud Logging entries.list for {o.resource} [{rfc3339(start)}, {rfc3339(end)})"
        history: Counter[str] = Counter()  # what went wrong, by kind, for the one-line final error
        waited = 0.0
        for attempt in range(1, o.max_attempts + 1):
            if self.limiter is not None:
                self.limiter.wait(self.sleep)
            self.requests += 1
            retry_after: float | None = None
            try:
                status, headers, data = self.post(body)
            except LoggingSourceError:
                raise
            except Exception as exc:
                if _is_auth_error(exc):
                    # Class name only: auth errors carry the token endpoint's answer, which may echo secrets.
                    raise LoggingSourceError(
                        f"{what}: could not get an access token from Application Default Credentials "
                        f"({type(exc).__name__}); check the run's service account or workload identity"
                    ) from None
                if not isinstance(exc, OSError):  # requests' errors are OSErrors; anything else is a bug
                    raise
                problem = network_problem(exc)  # connection refused/reset, timeout: the network
                kind = problem
            else:
                if 200 <= status < 300:
                    return data
                code, message = api_error(status, data)
                problem = f"HTTP {status} {code or ''}: {message}".replace("  ", " ")
                if status not in TRANSIENT_STATUS and code not in TRANSIENT_CODES:
                    raise LoggingSourceError(f"{what} failed: {problem}")
                retry_after = retry_after_seconds(headers.get("retry-after") or headers.get("Retry-After"))
                kind = f"HTTP {status}"
            history[kind] += 1
            if attempt == o.max_attempts:
                tried = ", ".join(f"{n}x {k}" for k, n in history.most_common())
                raise LoggingSourceError(
                    f"{what} failed after {attempt} attempts: {problem} "
                    f"(retried for {waited:.0f} s: {tried})"
                )
            delay = backoff_delay(attempt, o.backoff, o.backoff_max, retry_after, self.rng())
            self.retries += 1
            waited += delay
            # INFO: shown with --verbose; without it the final error sums the retries up in one line.
            log.info("%s: %s; retry %d in %.1f s", what, problem, attempt, delay)
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def network_problem(exc: BaseException) -> str:
    """A network failure in a few words (``ConnectionError: [Errno 111] Connection refused``): the
    innermost OS error in the chain that requests and urllib3 wrap it in, else ``describe``."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        cur = todo.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno is not None and cur.strerror:
            return f"{type(exc).__name__}: [Errno {cur.errno}] {cur.strerror}"
        todo.extend(e for e in (cur.__cause__, cur.__context__, *cur.args) if isinstance(e, BaseException))
        reason = getattr(cur, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return describe(exc)


def _is_auth_error(exc: Exception) -> bool:
    from google.auth.exceptions import GoogleAuthError

    return isinstance(exc, GoogleAuthError)


def make_client(options: LoggingOptions) -> Any:
    """A ``google.cloud.logging.Client`` on the REST transport: ADC with the read-only scope for the
    public API, anonymous for ``endpoint=`` (given to the client as its ``api_endpoint``)."""
    import google.auth
    from google.auth.credentials import AnonymousCredentials, Credentials
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud.logging_v2.client import Client

    credentials: Credentials
    if options.endpoint is None:
        try:
            credentials, _ = google.auth.default(scopes=[SCOPE])
        except DefaultCredentialsError:
            raise LoggingSourceError(
                "no Google credentials in the default chain (Application Default Credentials): run on a "
                "service account or workload identity, or 'gcloud auth application-default login'"
            ) from None
    else:
        credentials = AnonymousCredentials()
    kind, _, name = options.resource.partition("/")
    # The client wants a project; entries.list names its resources itself, so any id will do elsewhere.
    project = name if kind == "projects" else "-"
    client_options = {"api_endpoint": options.endpoint} if options.endpoint else None
    return Client(project=project, credentials=credentials, client_options=client_options, _use_grpc=False)


def make_post(options: LoggingOptions) -> tuple[PostFn, Callable[[], None]]:
    """(post, close) over the google-cloud-logging client's REST connection (its endpoint, user agent
    and authorized session).

    The connection's raw response is used rather than ``Client.list_entries``: the library turns each
    entry into a ``LogEntry`` whose timestamps are cut to microseconds and whose unknown fields are
    dropped (see docs/sources-gcp.md), while the mapper needs the LogEntry JSON as the API sent it.
    """
    client = make_client(options)
    connection = client._connection  # the library's REST transport (google.cloud._http.JSONConnection)
    url = connection.build_api_url("/entries:list")

    def post(body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        resp = connection._make_request(
            "POST", url, data=orjson.dumps(body), content_type="application/json", timeout=options.timeout
        )
        return resp.status_code, dict(resp.headers), resp.content

    return post, client.close


# --- Beam ------------------------------------------------------------------------------------------


class _ReadSlice(beam.DoFn):
    def __init__(self, options: LoggingOptions) -> None:
        self.options = options

    def setup(self) -> None:
        self._post, self._close = make_post(self.options)
        key = (self.options.endpoint or DEFAULT_ENDPOINT, self.options.resource)
        self._limiter = RateLimiter.shared(key, self.options.rpm)

    def process(self, time_slice: tuple[datetime, datetime]) -> Iterator[Blob]:
        reader = SliceReader(self.options, self._post, self._limiter)
        yield from reader.blobs(*time_slice)

    def teardown(self) -> None:
        close = getattr(self, "_close", None)
        if close is not None:
            close()


class ReadCloudLogging(beam.PTransform):
    """``pipeline | ReadCloudLogging(options)`` -> ``PCollection[(location, JSON lines)]``, every audit
    LogEntry of the range once."""

    def __init__(self, options: LoggingOptions) -> None:
        super().__init__()
        self.options = options

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection[Blob]:
        slices = time_slices(self.options.start, self.options.end, self.options.slice)
        return (
            pbegin
            | "Slices" >> beam.Create(slices)
            | "Spread" >> beam.Reshuffle()
            | "EntriesList" >> beam.ParDo(_ReadSlice(self.options))
        )


def source(spec: SourceSpec) -> ReadCloudLogging:
    return ReadCloudLogging(options_from_spec(spec))
