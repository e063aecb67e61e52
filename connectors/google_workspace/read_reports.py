"""Google Workspace audit activities through the Admin SDK Reports API (``activities.list``), as blobs.

Source kind ``workspace-reports`` (batch): ``workspace-reports:CUSTOMER?applications=login,admin,token,saml``
with ``--start``/``--end``. For each application and time slice it sends
``GET /admin/reports/v1/activity/users/all/applications/APP?startTime=..&endTime=..&maxResults=N``
(plus ``customerId`` unless the target is ``my_customer``) and follows ``nextPageToken``; each page is
sent on as it came (``{"kind": "admin#reports#activities", "items": [...]}``), which the connector opens,
at ``workspace-reports://CUSTOMER/APP?from=..&to=..&page=N``. ``endTime`` is exclusive on our side: the
API's range is inclusive, so an activity exactly on a slice boundary is kept only by the later slice.

429/500/502/503/504 and dropped connections are retried with capped exponential backoff and full jitter,
honouring Retry-After; other errors (400, 401, 403, 404) stop the run with one readable sentence.

Credentials: Application Default Credentials with the scope admin.reports.audit.readonly; the Reports API
needs an administrator, so a service account uses domain-wide delegation with ``subject=ADMIN_EMAIL``.
With ``endpoint=`` (a local stand-in) requests are unauthenticated, so no token reaches a test server.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import apache_beam as beam
import orjson

from connectors.backoff import backoff_delay, retry_after_seconds
from connectors.gcp_audit.read_common import (
    describe,
    rfc3339,
    safe_text,
    time_range,
)
from connectors.options import parse_options
from connectors.sources import Blob, SourceSpec
from connectors.timeutil import time_slices

from . import tables as T
from .options import ReportsQuery

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://admin.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/admin.reports.audit.readonly"
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class ReportsSourceError(RuntimeError):
    """activities.list failed for good (denied, bad request, retries exhausted, no credentials)."""


@dataclass(frozen=True)
class ReportsOptions:
    customer: str
    applications: tuple[str, ...]
    start: datetime
    end: datetime
    slice: timedelta = timedelta(hours=6)
    page_size: int = 1000
    endpoint: str | None = None
    subject: str | None = None
    timeout: float = 60.0
    max_attempts: int = 8
    backoff: float = 1.0
    backoff_max: float = 60.0


def options_from_spec(spec: SourceSpec) -> ReportsOptions:
    customer = spec.target.strip().strip("/") or "my_customer"
    query = parse_options(ReportsQuery, spec.params, "source 'workspace-reports'")
    start, end = time_range(spec, required=True)
    assert start is not None and end is not None
    return ReportsOptions(
        customer=customer, applications=query.applications, start=start, end=end,
        slice=query.slice, page_size=query.page_size, endpoint=query.endpoint, subject=query.subject,
    )


def request_url(o: ReportsOptions, app: str, start: datetime, end: datetime, token: str | None) -> str:
    q: dict[str, Any] = {"startTime": rfc3339(start), "endTime": rfc3339(end), "maxResults": o.page_size}
    if o.customer != "my_customer":
        q["customerId"] = o.customer
    if token:
        q["pageToken"] = token
    base = o.endpoint or DEFAULT_ENDPOINT
    return f"{base}/admin/reports/v1/activity/users/all/applications/{quote(app, safe='')}?{urlencode(q)}"


def page_location(o: ReportsOptions, app: str, start: datetime, end: datetime, page: int) -> str:
    return f"workspace-reports://{o.customer}/{app}?from={rfc3339(start)}&to={rfc3339(end)}&page={page}"


def _activity_time(item: Any) -> datetime | None:
    try:
        t = item["id"]["time"]
        return datetime.fromisoformat(t.replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


GetFn = Callable[[str], tuple[int, dict[str, str], bytes]]


class SliceReader:
    """One (application, time slice), page by page; ``get`` sends one request (requests in production)."""

    def __init__(self, options: ReportsOptions, get: GetFn, sleep: Callable[[float], None] = time.sleep,
                 rng: Callable[[], float] = random.random) -> None:
        self.options, self.get, self.sleep, self.rng = options, get, sleep, rng
        self.requests = 0
        self.retries = 0

    def blobs(self, app: str, start: datetime, end: datetime) -> Iterator[Blob]:
        token: str | None = None
        page = 0
        while True:
            data = self._call(request_url(self.options, app, start, end, token), app)
            try:
                doc = orjson.loads(data)
            except orjson.JSONDecodeError as exc:
                raise ReportsSourceError(f"Reports API answered {app} with a body that is not JSON ({exc})") from None
            if not isinstance(doc, dict):
                raise ReportsSourceError(f"Reports API answered {app} with a JSON {type(doc).__name__}")
            items = doc.get("items") or []
            if not isinstance(items, list):
                raise ReportsSourceError("Reports API answered with 'items' that is not a list")
            # The API's endTime is inclusive; ours is not: the boundary belongs to the next slice.
            kept = [i for i in items if (_activity_time(i) or start) < end]
            if kept:
                out = {"kind": T.REPORTS_PAGE_KIND, "items": kept}
                yield page_location(self.options, app, start, end, page), orjson.dumps(out)
            page += 1
            token = doc.get("nextPageToken")
            if not token:
                return

    def _call(self, url: str, app: str) -> bytes:
        o = self.options
        what = f"Reports API activities.list for {o.customer}/{app}"
        for attempt in range(1, o.max_attempts + 1):
            self.requests += 1
            retry_after: float | None = None
            try:
                status, headers, data = self.get(url)
            except ReportsSourceError:
                raise
            except Exception as exc:
                if type(exc).__module__.startswith("google.auth"):
                    raise ReportsSourceError(
                        f"{what}: could not get an access token ({type(exc).__name__}); check the service "
                        "account, its domain-wide delegation and subject="
                    ) from None
                if not isinstance(exc, OSError):
                    raise
                problem = describe(exc)
            else:
                if 200 <= status < 300:
                    return data
                problem = f"HTTP {status}: {_message(data, status)}"
                if status not in TRANSIENT_STATUS:
                    raise ReportsSourceError(f"{what} failed: {problem}")
                retry_after = retry_after_seconds(headers.get("retry-after") or headers.get("Retry-After"))
            if attempt == o.max_attempts:
                raise ReportsSourceError(f"{what} failed after {attempt} attempts: {problem}")
            delay = backoff_delay(attempt, o.backoff, o.backoff_max, retry_after, self.rng())
            self.retries += 1
            log.warning("%s: %s; retry %d in %.1f s", what, problem, attempt, delay)
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def _message(body: bytes, status: int) -> str:
    try:
        err = orjson.loads(body).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        err = None
    if isinstance(err, dict):
        return safe_text(err.get("message") or err.get("status") or "")
    return safe_text(body[:200].decode("utf-8", "replace")) if body else f"HTTP {status}"


def make_get(o: ReportsOptions) -> tuple[GetFn, Callable[[], None]]:
    import google.auth
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import DefaultCredentialsError
    from google.auth.transport.requests import AuthorizedSession

    if o.endpoint is None:
        try:
            credentials, _ = google.auth.default(scopes=[SCOPE])
        except DefaultCredentialsError:
            raise ReportsSourceError("no Google credentials in the default chain (Application Default Credentials)") from None
        if o.subject and hasattr(credentials, "with_subject"):
            credentials = credentials.with_subject(o.subject)
    else:
        credentials = AnonymousCredentials()
    session = AuthorizedSession(credentials)

    def get(url: str) -> tuple[int, dict[str, str], bytes]:
        resp = session.get(url, timeout=o.timeout)
        return resp.status_code, dict(resp.headers), resp.content

    return get, session.close


class _ReadSlice(beam.DoFn):
    def __init__(self, options: ReportsOptions) -> None:
        self.options = options

    def setup(self) -> None:
        self._get, self._close = make_get(self.options)

    def process(self, work: tuple[str, tuple[datetime, datetime]]) -> Iterator[Blob]:
        app, (start, end) = work
        yield from SliceReader(self.options, self._get).blobs(app, start, end)

    def teardown(self) -> None:
        close = getattr(self, "_close", None)
        if close is not None:
            close()


class ReadWorkspaceReports(beam.PTransform):
    """``pipeline | ReadWorkspaceReports(options)`` -> ``PCollection[(location, page JSON)]``."""

    def __init__(self, options: ReportsOptions) -> None:
        super().__init__()
        self.options = options

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection[Blob]:
        o = self.options
        work = [(app, s) for app in o.applications for s in time_slices(o.start, o.end, o.slice)]
        return (
            pbegin
            | "Work" >> beam.Create(work)
            | "Spread" >> beam.Reshuffle()
            | "ActivitiesList" >> beam.ParDo(_ReadSlice(o))
        )


def source(spec: SourceSpec) -> ReadWorkspaceReports:
    return ReadWorkspaceReports(options_from_spec(spec))
