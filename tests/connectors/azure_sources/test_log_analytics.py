"""Log Analytics source (kind ``log-analytics``) against a local query API over HTTPS, authenticated by the
real DefaultAzureCredential through a local managed identity endpoint."""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import apache_beam as beam
import orjson
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from connectors.azure_activity.read_logs import (
    LogAnalyticsError,
    LogAnalyticsOptions,
    ReadLogAnalytics,
    SliceReader,
    blobs_of_records,
    make_client,
    options_from_spec,
    query_text,
    records_of_body,
    sdk_query,
    time_slices,
)
from connectors.backoff import backoff_delay
from connectors.normalize import Normalizer
from connectors.sources import SourceError, SourceSpec, resolve
from schemas.event import Event

from .conftest import Identity
from .data import END, IN_RANGE, START, WORKSPACE
from .servers import LogAnalyticsServer, Table


def options(server: LogAnalyticsServer, **kw: Any) -> LogAnalyticsOptions:
    base: dict[str, Any] = dict(
        workspace=WORKSPACE, start=START, end=END, endpoint=server.url, backoff=0.01, backoff_max=0.02
    )
    return LogAnalyticsOptions(**(base | kw))


def _keep(blob: tuple[str, bytes], directory: str) -> None:
    name = hashlib.sha256(blob[0].encode()).hexdigest()
    Path(directory, name).write_bytes(orjson.dumps([blob[0], blob[1].decode()]))


def run_pipeline(opts: LogAnalyticsOptions, directory: Path) -> list[tuple[str, bytes]]:
    """The transform in a real (local) Beam pipeline; its blobs land as files in ``directory``."""
    with beam.Pipeline(runner="FnApiRunner", options=PipelineOptions([])) as p:
        _ = p | ReadLogAnalytics(opts) | beam.Map(_keep, str(directory))
    out = []
    for f in sorted(directory.iterdir()):
        loc, data = orjson.loads(f.read_bytes())
        out.append((loc, data.encode()))
    return out


def lines_of(blobs: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    return [orjson.loads(line) for _, data in blobs for line in data.splitlines() if line]


# --- plain functions -----------------------------------------------------------------------------------


def test_slices_are_half_open_and_cover_the_range() -> None:
    slices = time_slices(START, END + timedelta(minutes=20), timedelta(hours=1))
    assert slices[0] == (START, START + timedelta(hours=1))
    assert slices[-1] == (END, END + timedelta(minutes=20))
    assert all(a[1] == b[0] for a, b in itertools.pairwise(slices))
    q = query_text(START, END)
    assert "TimeGenerated >= datetime(2025-05-28T10:00:00.0000000Z)" in q
    assert "TimeGenerated < datetime(2025-05-28T13:00:00.0000000Z)" in q


def test_spec_is_checked_before_the_run() -> None:
    spec = SourceSpec.parse(f"log-analytics:{WORKSPACE}?slice=30m&min_slice=90s&rows_per_blob=5", START, END)
    assert resolve(spec).mode == "batch"
    o = options_from_spec(spec)
    assert (o.slice, o.min_slice, o.rows_per_blob) == (timedelta(minutes=30), timedelta(seconds=90), 5)
    assert o.endpoint == "https://api.loganalytics.io"
    bad = {
        "log-analytics:my-workspace": "not a workspace id",
        f"log-analytics:{WORKSPACE}?slice=soon": "not a duration",
        f"log-analytics:{WORKSPACE}?slice=1m&min_slice=1h": "larger than slice",
        f"log-analytics:{WORKSPACE}?rows_per_blob=0": "at least 1",
        f"log-analytics:{WORKSPACE}?timeout=900": "between 1 and 600",
        f"log-analytics:{WORKSPACE}?endpoint=http://127.0.0.1:1": "https://",
    }
    for text, message in bad.items():
        with pytest.raises(SourceError, match=message):
            options_from_spec(SourceSpec.parse(text, START, END))
    with pytest.raises(SourceError, match="needs --start"):
        options_from_spec(SourceSpec.parse(f"log-analytics:{WORKSPACE}"))
    with pytest.raises(SourceError, match="not after"):
        options_from_spec(SourceSpec.parse(f"log-analytics:{WORKSPACE}", END, START))
    assert options_from_spec(SourceSpec.parse(f"log-analytics:{WORKSPACE}?slice=2h", START, END)).slice == timedelta(
        hours=2
    )


def test_backoff_is_capped_jittered_and_honours_retry_after() -> None:
    assert backoff_delay(1, 1.0, 60, None, 0.5) == 0.5
    assert backoff_delay(10, 1.0, 60, None, 1.0) == 60  # capped
    assert backoff_delay(10, 1.0, 60, None, 0.0) == 0  # full jitter
    assert backoff_delay(1, 1.0, 60, 7.0, 0.1) == 7.0  # the server's word
    assert backoff_delay(1, 1.0, 60, 600.0, 0.1) == 60


def test_rows_keep_the_service_text_and_become_json_lines(workspace_table: Table) -> None:
    body = {"tables": [{"name": "PrimaryResult", "columns": workspace_table.columns,
                        "rows": workspace_table.rows[:5]}]}
    records = records_of_body(body)
    assert records[0]["TimeGenerated"] == "2025-05-28T10:00:07.0000000Z"
    blobs = list(blobs_of_records(WORKSPACE, START, END, records, 2))
    assert [loc.rsplit("&", 1)[1] for loc, _ in blobs] == ["offset=0", "offset=2", "offset=4"]
    assert blobs[0][0].startswith(f"loganalytics://{WORKSPACE}/AzureActivity?from=2025-05-28T10:00:00.0000000Z")
    assert records_of_body({"tables": []}) == []


# --- over the wire ----------------------------------------------------------------------------------


def test_batch_read_delivers_every_row_once_through_splits_and_throttling(
    log_analytics: LogAnalyticsServer, azure_identity: Identity, tmp_path: Path
) -> None:
    log_analytics.row_limit = 6  # an hour holds 8-9 rows: every 1 h slice is partial and is split
    log_analytics.throttle = 2  # 429 + Retry-After, then 503: retried, not fatal
    log_analytics.unavailable = 1
    blobs = run_pipeline(options(log_analytics, rows_per_blob=4), tmp_path)

    records = lines_of(blobs)
    ids = Counter(r["EventDataId"] for r in records)
    assert len(ids) == IN_RANGE and set(ids.values()) == {1}
    times = {r["TimeGenerated"] for r in records}
    assert "2025-05-28T10:45:07.0000005Z" in times  # the 100 ns digits as the service wrote them
    assert "2025-05-28T13:00:00.0000000Z" not in times and "2025-05-28T09:59:59.9999999Z" not in times
    # the rows normalize into one event each
    events = [r for loc, data in blobs for r in Normalizer().blob(data, loc)]
    assert all(isinstance(e, Event) for e in events) and len({e.id for e in events}) == IN_RANGE
    assert events[0].source.location.startswith(f"loganalytics://{WORKSPACE}/AzureActivity?from=")
    # the requests: real API shape, bearer token from the managed identity, slices split in half
    sent = log_analytics.queries()
    assert all(q["timespan"] and q["query"].startswith("AzureActivity") for q in sent)
    assert any("T10:30:00" in q["query"] for q in sent)  # a half slice
    assert azure_identity.requests and all(r == f"{log_analytics.url}/.default" or r == log_analytics.url
                                           for r in azure_identity.requests)
    assert log_analytics.requests[0]["headers"]["Prefer"] == "wait=300"


def test_partial_at_the_smallest_slice_is_an_error_naming_it(log_analytics: LogAnalyticsServer) -> None:
    log_analytics.row_limit = 0  # every answer is truncated
    opts = options(log_analytics, slice=timedelta(hours=1), min_slice=timedelta(minutes=20))
    client = make_client(opts)
    reader = SliceReader(opts, sdk_query(client, opts))
    with pytest.raises(LogAnalyticsError, match=r"still partial at the smallest slice .*E_QUERY_RESULT_SET_TOO_LARGE"):
        list(reader.read(START, START + timedelta(hours=1)))
    client.close()
    assert reader.splits == 2  # 1 h -> 30 m -> 15 m, at most min_slice: the error


def test_retry_after_is_honoured_and_attempts_are_bounded(log_analytics: LogAnalyticsServer) -> None:
    """azure-core's retry policy retries the query POST on 429 and stops after max_attempts requests."""
    log_analytics.throttle = 100
    log_analytics.retry_after = "1"
    opts = options(log_analytics, max_attempts=3, backoff_max=30)
    client = make_client(opts)
    reader = SliceReader(opts, sdk_query(client, opts))
    with pytest.raises(LogAnalyticsError, match="failed after 3 attempts: HTTP 429"):
        list(reader.read(START, END))
    client.close()
    assert len(log_analytics.requests) == 3


def test_the_client_retries_with_azure_core_not_by_hand(log_analytics: LogAnalyticsServer) -> None:
    """No retry_total=0: the client's pipeline holds azure-core's RetryPolicy, with POST retried, and a
    429 without Retry-After (which azure-core would not retry for a POST) is retried too."""
    from azure.core.pipeline.policies import RetryPolicy

    from connectors.azure_retry import PostRetryPolicy

    opts = options(log_analytics, max_attempts=4)
    client = make_client(opts)
    policies = [p for p in client._client._pipeline._impl_policies if isinstance(p, RetryPolicy)]
    assert len(policies) == 1 and isinstance(policies[0], PostRetryPolicy)
    assert policies[0].total_retries == 3
    log_analytics.throttle = 2
    log_analytics.retry_after = ""  # a 429 without Retry-After
    query = sdk_query(client, opts)
    body, partial = query(START, START + timedelta(hours=1))
    client.close()
    assert partial is None and body["tables"]
    assert query.attempts == 3


def test_denied_and_missing_workspace_are_clear_errors_without_secrets(
    log_analytics: LogAnalyticsServer, azure_identity: Identity, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Secrets the product could touch: a client secret in the environment (without a client id the
    # environment credential is skipped, but the value is there), the managed identity header, the token.
    client_secret = "cs-" + "Q7~" + "x" * 30
    monkeypatch.setenv("AZURE_CLIENT_SECRET", client_secret)
    secrets = [client_secret, azure_identity.header, azure_identity.token]
    errors: list[str] = []

    # a workspace the server does not know
    opts = options(log_analytics, workspace="11111111-2222-4333-8444-555555555555")
    with pytest.raises(LogAnalyticsError, match="HTTP 404: WorkspaceNotFoundError") as exc:
        list(SliceReader(opts, sdk_query(make_client(opts), opts)).read(START, END))
    errors.append(str(exc.value))

    # a token the API does not accept
    log_analytics.token = "another-token"
    opts = options(log_analytics)
    with pytest.raises(LogAnalyticsError, match="HTTP 403: InvalidTokenError") as exc:
        list(SliceReader(opts, sdk_query(make_client(opts), opts)).read(START, END))
    errors.append(str(exc.value))

    # the managed identity endpoint refuses: DefaultAzureCredential fails
    azure_identity.server.deny = True
    monkeypatch.setenv("IDENTITY_HEADER", azure_identity.header)
    opts = options(log_analytics, endpoint=log_analytics.url.replace("127.0.0.1", "localhost"))
    with pytest.raises(LogAnalyticsError, match=r"no token from DefaultAzureCredential .*Managed") as exc:
        list(SliceReader(opts, sdk_query(make_client(opts), opts)).read(START, END))
    errors.append(str(exc.value))

    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets:
        for text in [*errors, logged]:
            assert secret not in text
    assert all("\n" not in e for e in errors)
