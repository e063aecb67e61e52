"""Elasticsearch / OpenSearch ``_bulk``: one document per event, ``_id`` = the event id.

Every document is written with the ``create`` operation (``op=index`` to overwrite instead) under its
event id, so a retried request, a retried Beam bundle or a replayed dead letter cannot add a second
copy: ``create`` of an id that is already there answers 409, which means delivered. ``create`` is also
the operation data streams require.

The bulk answer is read item by item (``items[i].<op>.status``, in request order): 200/201 and 409 are
delivered; 429 (``es_rejected_execution_exception``) and 5xx items are retried alone; any other item
error (``mapper_parsing_exception``, ``invalid_index_name_exception``, ...) dead-letters that event
alone (``elastic_rejected``), with the error type and reason. A whole request that fails with 429/5xx,
a timeout or a reset is retried; 413 halves the request; 401/403 dead-letter it (``elastic_unauthorized``).

The index comes from the event's date: ``index=cloudaudit-{date}`` gives ``cloudaudit-2024.05.01``
(placeholders: ``{date}`` YYYY.MM.DD, ``{month}`` YYYY.MM, ``{provider}``). ``@timestamp`` is set from
``when.time`` (the field data streams and Kibana expect); ``timestamp_field=`` turns it off.
"""

from __future__ import annotations

import base64
import gzip
import string
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, Field

from connectors.options import KEEP_BLANK
from pipelines.sinks.base import (
    GZIP_LEVEL,
    RETRYABLE_STATUS,
    Attempt,
    HttpSink,
    Item,
    env_secret,
    retry_after_seconds,
    short,
)
from pipelines.sinks.config import SinkConfigError, SinkOptions

API_KEY_ENV = "ELASTIC_API_KEY"
API_KEY_FILE_ENV = "ELASTIC_API_KEY_FILE"
USER_ENV = "ELASTIC_USERNAME"
PASSWORD_ENV = "ELASTIC_PASSWORD"
PASSWORD_FILE_ENV = "ELASTIC_PASSWORD_FILE"
PLACEHOLDERS = frozenset({"date", "month", "provider"})


def index_name(pattern: str, item: Item) -> str:
    """``cloudaudit-{date}`` -> ``cloudaudit-2024.05.01`` from the event's when.time (UTC)."""
    day = item.time[:10]  # YYYY-MM-DD of an ISO 8601 UTC time
    return pattern.format(
        date=day.replace("-", "."), month=day[:7].replace("-", "."), provider=item.provider or "unknown"
    )


def _index_pattern(pattern: str) -> str:
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None}
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    unknown = fields - PLACEHOLDERS
    if unknown:
        raise ValueError(
            f"unknown placeholder(s) {', '.join(sorted(unknown))} (known: {{date}}, {{month}}, {{provider}})"
        )
    return pattern


class ElasticOptions(SinkOptions):
    # Elasticsearch/OpenSearch content (detection rules, dashboards) is written against ECS.
    projection: Literal["native", "canonical", "ocsf", "ecs"] = Field(
        "ecs",
        description=SinkOptions.model_fields["projection"].description,
        json_schema_extra=SinkOptions.model_fields["projection"].json_schema_extra,
    )
    batch_events: int = Field(1000, ge=1, description="events per request at most")
    batch_bytes: int = Field(
        5_000_000,  # Elastic suggests bulk requests of a few MB
        ge=1024,
        description="uncompressed bytes per request at most (an event larger than this goes alone)",
    )
    index: Annotated[str, AfterValidator(_index_pattern)] = Field(
        "cloudaudit-{date}",
        description="index (or data stream) name; `{date}` = YYYY.MM.DD of `when.time` (UTC), `{month}` = "
        "YYYY.MM, `{provider}`",
    )
    op: Literal["create", "index"] = Field(
        "create",
        description="`create`: an id that is already there answers 409 = delivered (also what data streams "
        "require); `index`: overwrite",
    )
    pipeline: str | None = Field(None, description="ingest pipeline to run on the documents")
    timestamp_field: str = Field(
        "@timestamp",
        description="field set to `when.time` (data streams and Kibana want it); empty (`timestamp_field=`) "
        "for none",
        json_schema_extra=KEEP_BLANK,
    )


class ElasticSink(HttpSink):
    kind = "elastic"
    CREDENTIALS = (
        f"put an API key in env {API_KEY_ENV} (or a file named by {API_KEY_FILE_ENV}), or a user and "
        f"password in {USER_ENV}/{PASSWORD_ENV}"
    )
    OPTIONS_MODEL = ElasticOptions

    def configure(self, opts: SinkOptions) -> None:
        assert isinstance(opts, ElasticOptions)
        self.pattern = opts.index
        self.op = opts.op
        self.pipeline = opts.pipeline
        self.timestamp_field = opts.timestamp_field
        self.bulk_url = self.config.url + "/_bulk"
        self._params = {"pipeline": self.pipeline} if self.pipeline else {}
        self._headers = {"Content-Type": "application/x-ndjson"}
        if self.gzip:
            self._headers["Content-Encoding"] = "gzip"
        api_key = env_secret(API_KEY_ENV, API_KEY_FILE_ENV)
        user = env_secret(USER_ENV)
        if api_key:
            self._headers["Authorization"] = f"ApiKey {api_key}"
        elif user:
            password = env_secret(PASSWORD_ENV, PASSWORD_FILE_ENV)
            if password is None:
                raise SinkConfigError(f"sink {self.name}: {USER_ENV} is set but {PASSWORD_ENV} is not")
            basic = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {basic}"
        # Neither: an unsecured cluster (local development); the cluster answers 401 otherwise.

    def body(self, items: list[Item]) -> bytes:
        parts = []
        for item in items:
            doc = item.doc
            if self.timestamp_field:
                doc = {self.timestamp_field: item.time, **doc}
            action = {self.op: {"_index": index_name(self.pattern, item), "_id": item.id}}
            parts.append(orjson.dumps(action))
            parts.append(orjson.dumps(doc))
        return b"\n".join(parts) + b"\n"

    def attempt(self, items: list[Item]) -> Attempt:
        out = Attempt()
        self._post(items, out)
        return out

    def _post(self, items: list[Item], out: Attempt) -> None:
        import requests

        body = self.body(items)
        if self.gzip:
            body = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        try:
            r = self.session.post(
                self.bulk_url, data=body, params=self._params, headers=self._headers, timeout=self.timeout
            )
        except requests.Timeout:
            _retry(out, items, f"no answer within {self.timeout:g}s")
            return
        except requests.RequestException as exc:
            _retry(out, items, f"connection failed: {type(exc).__name__}")
            return
        status = r.status_code
        if status == 200:
            self._items(items, r, out)
            return
        text = f"HTTP {status}: {short(r.text)}"
        if status in RETRYABLE_STATUS:
            _retry(out, items, text, retry_after_seconds(r.headers.get("Retry-After")))
        elif status in (401, 403):
            out.rejected.extend((i, "elastic_unauthorized", text) for i in items)
        elif len(items) > 1 and status in (400, 413):
            half = len(items) // 2  # find the event the request fails on
            self._post(items[:half], out)
            self._post(items[half:], out)
        else:
            code = "too_large" if status == 413 else "elastic_rejected"
            out.rejected.extend((i, code, text) for i in items)

    def _items(self, items: list[Item], r: Any, out: Attempt) -> None:
        try:
            answer = r.json()
            results = answer["items"]
            if not isinstance(results, list) or len(results) != len(items):
                raise ValueError(f"{len(results)} results for {len(items)} documents")
        except (ValueError, KeyError, TypeError) as exc:
            _retry(out, items, f"unreadable bulk answer: {exc}")
            return
        if not answer.get("errors"):
            out.delivered.extend(items)
            return
        for item, result in zip(items, results, strict=True):
            detail: dict[str, Any] = next(iter(result.values()), {}) if isinstance(result, dict) and result else {}
            status = int(detail.get("status", 0) or 0)
            if 200 <= status < 300 or (status == 409 and self.op == "create"):
                out.delivered.append(item)
                continue
            error = detail.get("error") or {}
            if isinstance(error, dict):
                what = f"{error.get('type', 'error')}: {error.get('reason', '')}"
            else:
                what = str(error)
            text = f"item status {status}: {short(what)}"
            if status in RETRYABLE_STATUS or status >= 500 or status == 0:
                _retry(out, [item], text)
            else:
                out.rejected.append((item, "elastic_rejected", text))


def _retry(out: Attempt, items: list[Item], reason: str, retry_after: float | None = None) -> None:
    out.retry.extend(items)
    out.reason = reason
    if retry_after is not None:
        out.retry_after = max(out.retry_after or 0.0, retry_after)
