"""Microsoft Sentinel through the Azure Monitor Logs Ingestion API (a data collection rule and stream).

``azure-monitor-ingestion``'s ``LogsIngestionClient.upload`` does the wire work: it splits the rows
into gzip requests of at most 1 MiB of JSON (the API's limit per call) and reports each chunk that
fails to ``on_error`` with the chunk's rows. The client retries each request with azure-core's retry
policy (``connectors.azure_retry``: 429, 408, 5xx, timeouts, resets; Retry-After honoured up to
``max_backoff``; the sink's ``retries`` and ``backoff``), and what still fails is dead-lettered
(``retries_exhausted``; 401/403 ``sentinel_unauthorized``, other 4xx ``sentinel_rejected``, 413 for a
single row ``too_large``). Only a failed credential is retried by the sink's own loop. Credentials: ``DefaultAzureCredential`` (managed identity, workload identity, the
Azure CLI...), never a secret in the configuration.

The Logs Ingestion API has no idempotent write: a chunk that timed out after it was accepted is sent
again, so delivery is at least once (``EventId`` is in every row for ``summarize arg_max`` by id).

The row for the custom table (the stream's columns; docs/sinks.md has the DCR declaration):
flat columns for what most analytics rules filter on, and ``Event``, the sink's projection of the
whole event as a ``dynamic`` column.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from pipelines.sinks.base import RETRYABLE_STATUS, Attempt, Item, Sink, short
from pipelines.sinks.config import SinkOptions

DEFAULT_STREAM = "Custom-CloudAudit_CL"

# (column, type in the stream declaration, path in the canonical event)
COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("TimeGenerated", "datetime", ("when", "time")),
    ("EventId", "string", ("id",)),
    ("SchemaVersion", "string", ("schema_version",)),
    ("Provider", "string", ("where", "provider")),
    ("Account", "string", ("where", "account")),
    ("Region", "string", ("where", "region")),
    ("Action", "string", ("what", "action")),
    ("Operation", "string", ("what", "operation")),
    ("Service", "string", ("what", "service")),
    ("Activity", "string", ("what", "activity")),
    ("Category", "string", ("what", "category")),
    ("Outcome", "string", ("what", "outcome")),
    ("ErrorCode", "string", ("what", "error", "code")),
    ("ActorType", "string", ("who", "actor", "type")),
    ("ActorId", "string", ("who", "actor", "id")),
    ("ActorName", "string", ("who", "actor", "name")),
    ("ActorEmail", "string", ("who", "actor", "email")),
    ("ActorAccount", "string", ("who", "actor", "account")),
    ("SourceIp", "string", ("where", "source", "ip")),
    ("UserAgent", "string", ("how", "user_agent")),
    ("SourceFormat", "string", ("source", "format")),
    ("SourceLocation", "string", ("source", "location")),
)
EVENT_COLUMN = ("Event", "dynamic")


def stream_declaration() -> list[dict[str, str]]:
    """The stream's columns, for the data collection rule's ``streamDeclarations``."""
    return [{"name": n, "type": t} for n, t, _ in COLUMNS] + [{"name": EVENT_COLUMN[0], "type": EVENT_COLUMN[1]}]


def _get(event: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = event
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def row(item: Item, event: dict[str, Any]) -> dict[str, Any]:
    """One event -> one row of the custom table."""
    out = {name: _get(event, path) for name, _, path in COLUMNS}
    out["TimeGenerated"] = item.time
    out["EventId"] = item.id
    out[EVENT_COLUMN[0]] = item.doc
    return out


def _dcr(value: str) -> str:
    if not value.startswith("dcr-"):
        raise ValueError("not the data collection rule's immutable id (dcr-...)")
    return value


class SentinelOptions(SinkOptions):
    batch_events: int = Field(2000, ge=1, description="events per upload (the client splits into 1 MiB requests)")
    dcr: Annotated[str, AfterValidator(_dcr)] = Field(
        description="the data collection rule's immutable id (`dcr-...`)",
        json_schema_extra={"takes": "dcr-..."},
    )
    stream: str = Field(DEFAULT_STREAM, description="the stream name in the rule")

    @model_validator(mode="after")
    def _compressed(self) -> SentinelOptions:
        if not self.gzip:
            raise ValueError("the ingestion client always compresses; drop gzip=false")
        return self


class SentinelSink(Sink):
    kind = "sentinel"
    CREDENTIALS = (
        "Sentinel signs in with DefaultAzureCredential (managed identity, workload identity, AZURE_* "
        "environment, Azure CLI); grant it 'Monitoring Metrics Publisher' on the data collection rule"
    )
    OPTIONS_MODEL = SentinelOptions

    def configure(self, opts: SinkOptions) -> None:
        assert isinstance(opts, SentinelOptions)
        self.dcr = opts.dcr
        self.stream = opts.stream
        self._client: Any = None
        self._credential: Any = None
        self._policy: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from azure.identity import DefaultAzureCredential
            from azure.monitor.ingestion import LogsIngestionClient

            from connectors.azure_retry import retry_policy

            self._credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
            # azure-core retries each request (429/408/5xx, resets, timeouts; POST included, Retry-After
            # capped at max_backoff) with the sink's retries and backoff; what still fails reaches
            # on_error, and _classify dead-letters it rather than have the sink's loop retry it again.
            self._policy = retry_policy(self.retries + 1, self.backoff, self.max_backoff)
            self._client = LogsIngestionClient(
                self.config.url, self._credential, retry_policy=self._policy, logging_enable=False
            )
        return self._client

    def close(self) -> None:
        for thing in (self._client, self._credential):
            if thing is not None:
                with contextlib.suppress(Exception):  # closing is best effort
                    thing.close()
        self._client = self._credential = None

    def shape(self, item: Item, event: dict[str, Any]) -> None:
        item.doc = row(item, event)

    def attempt(self, items: list[Item]) -> Attempt:
        out = Attempt()
        by_row = {id(i.doc): i for i in items}
        failed: list[tuple[list[Item], BaseException]] = []

        def on_error(error: Any) -> None:
            failed.append(([by_row[id(r)] for r in error.failed_logs if id(r) in by_row], error.error))

        try:
            self.client.upload(
                rule_id=self.dcr,
                stream_name=self.stream,
                logs=[i.doc for i in items],
                on_error=on_error,
                connection_timeout=self.timeout,
                read_timeout=self.timeout,
            )
        except Exception as exc:  # e.g. the credential could not be built: every row waits for a retry
            out.retry.extend(items)
            out.reason = f"upload failed: {type(exc).__name__}: {short(str(exc))}"
            return out
        failed_ids = {id(i) for chunk, _ in failed for i in chunk}
        out.delivered.extend(i for i in items if id(i) not in failed_ids)
        for chunk, error in failed:
            self._classify(chunk, error, out)
        return out

    def _classify(self, chunk: list[Item], error: BaseException, out: Attempt) -> None:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        response = getattr(error, "response", None)
        status = getattr(error, "status_code", None) or getattr(response, "status_code", None)
        text = f"{type(error).__name__}: {short(str(error).splitlines()[0] if str(error) else '')}"
        tries = self._policy.attempts() if self._policy is not None else 1
        if isinstance(error, HttpResponseError) and status is not None:
            text = f"HTTP {status}: {text}"
            if status in RETRYABLE_STATUS or status >= 500:  # azure-core retried it already
                exhausted = f"gave up after {tries} attempts: {text}"
                out.rejected.extend((i, "retries_exhausted", exhausted) for i in chunk)
            elif status in (401, 403):
                out.rejected.extend((i, "sentinel_unauthorized", text) for i in chunk)
            elif status == 413 and len(chunk) > 1:
                out.retry.extend(chunk)  # cannot happen with the client's 1 MiB chunks; retried smaller
                out.reason = text
            else:
                code = "too_large" if status == 413 else "sentinel_rejected"
                out.rejected.extend((i, code, text) for i in chunk)
            return
        if isinstance(error, ClientAuthenticationError):
            text = f"no token: {text}"  # the credential chain failed; it may recover (IMDS restarts)
            out.retry.extend(chunk)  # azure-core does not retry a credential: the sink's loop does
            out.reason = text
            return
        # Connection errors, timeouts, resets: azure-core retried them already.
        out.rejected.extend((i, "retries_exhausted", f"gave up after {tries} attempts: {text}") for i in chunk)
