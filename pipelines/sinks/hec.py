"""Splunk HTTP Event Collector: ``POST /services/collector/event``, indexer acknowledgement optional.

Requests carry concatenated JSON envelopes ``{"time", "host"?, "source", "sourcetype", "index"?,
"event"}`` (``time``: epoch seconds with milliseconds from ``when.time``), gzip-compressed, within
``batch_events`` and ``batch_bytes`` (default 1 MB uncompressed, a conservative choice; Splunk
Enterprise's limit is ``max_content_length`` under ``[http_input]`` in limits.conf).

What each answer means here:

* 200 ``{"code": 0}``: accepted. Without ``ack`` that is delivered. With ``ack=true`` the answer holds
  an ``ackId``; the sink polls ``POST /services/collector/ack`` with its channel until the ack is true
  (delivered) or ``ack_timeout`` passes (the batch is sent again: HEC lost it before indexing).
* 429, 5xx (code 8 internal error, 9 server busy), timeouts, connection resets: retried with backoff.
* 400 with a data code (5 no data, 6 invalid data format, 12/13 event field, 15 indexed fields) and
  ``invalid-event-number``: that event alone is rejected (``hec_rejected``), the rest sent again at
  once; without the number the batch is halved until the bad event is alone. 413: halved likewise.
* 401/403 (token codes 1-4), 400 code 7 (incorrect index), 10/11 (channel) or 14 (ack disabled): the
  configuration is wrong; every event of the request is dead-lettered (``hec_unauthorized``,
  ``hec_rejected``) at once, to be replayed once fixed, rather than hammering the endpoint.

HEC has no idempotent write: an event whose request timed out after Splunk indexed it is sent again,
so delivery is at least once (``event.id`` is in every event for ``dedup id`` at search time).
"""

from __future__ import annotations

import gzip
import time
import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import Field

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

TOKEN_ENV = "SPLUNK_HEC_TOKEN"
TOKEN_FILE_ENV = "SPLUNK_HEC_TOKEN_FILE"
EVENT_PATH = "/services/collector/event"
ACK_PATH = "/services/collector/ack"

DATA_CODES = frozenset({5, 6, 12, 13, 15})  # something in the events themselves
AUTH_CODES = frozenset({1, 2, 3, 4})


def epoch_seconds(iso: str) -> float:
    """``when.time`` (ISO 8601, UTC) -> epoch seconds rounded to milliseconds, as HEC's ``time`` wants."""
    return round(datetime.fromisoformat(iso).timestamp(), 3)


class HecOptions(SinkOptions):
    index: str | None = Field(None, description="Splunk index (default: the token's default index)")
    sourcetype: str = Field("cloudaudit:event", description="sourcetype")
    source: str | None = Field(None, description="source (default: `cloudaudit:<provider>`)")
    host: str | None = Field(None, description="host field (default: none, Splunk uses the HEC host)")
    ack: bool = Field(
        False,
        description="indexer acknowledgement: the token must have it on (Splunk Enterprise; Splunk Cloud only "
        "for Firehose)",
    )
    ack_timeout: float = Field(60.0, ge=0, description="seconds to wait for acks before sending the batch again")
    ack_poll: float = Field(1.0, ge=0.001, description="seconds between `POST /services/collector/ack` polls")
    channel: UUID | None = Field(
        None, description="the `X-Splunk-Request-Channel` GUID (default: a new one per worker)"
    )


class HecSink(HttpSink):
    kind = "hec"
    CREDENTIALS = f"put the HEC token in env {TOKEN_ENV} (or a file named by {TOKEN_FILE_ENV})"
    OPTIONS_MODEL = HecOptions

    def configure(self, opts: SinkOptions) -> None:
        assert isinstance(opts, HecOptions)
        token = env_secret(TOKEN_ENV, TOKEN_FILE_ENV)
        if not token:
            raise SinkConfigError(f"sink {self.name}: no HEC token; {self.CREDENTIALS}")
        self.index = opts.index
        self.sourcetype = opts.sourcetype
        self.source = opts.source
        self.host = opts.host
        self.ack = opts.ack
        self.ack_timeout = opts.ack_timeout
        self.ack_poll = opts.ack_poll
        self.channel = str(opts.channel or uuid.uuid4())
        base = self.config.url
        for suffix in (EVENT_PATH, "/services/collector"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
                break
        self.event_url = base + EVENT_PATH
        self.ack_url = base + ACK_PATH
        self._headers = {"Authorization": f"Splunk {token}", "Content-Type": "application/json"}
        if self.gzip:
            self._headers["Content-Encoding"] = "gzip"
        if self.ack:
            self._headers["X-Splunk-Request-Channel"] = self.channel

    # One attempt covers everything send() was given: every request is posted first, then all their
    # acks are polled together, so waiting for Splunk's indexers overlaps instead of adding up.
    def batches(self, items: list[Item]) -> Any:
        if items:
            yield items

    def shape(self, item: Item, event: dict[str, Any]) -> None:
        """The HEC envelope around the projection, made once per event (retries reuse it)."""
        env: dict[str, Any] = {"time": epoch_seconds(item.time)}
        if self.host:
            env["host"] = self.host
        env["source"] = self.source or f"cloudaudit:{item.provider or 'unknown'}"
        env["sourcetype"] = self.sourcetype
        if self.index:
            env["index"] = self.index
        env["event"] = item.doc
        item.doc = env

    def attempt(self, items: list[Item]) -> Attempt:
        out = Attempt()
        waiting: dict[int, list[Item]] = {}
        for request in super().batches(items):
            self._post(request, out, waiting)
        if waiting:
            self._await_acks(waiting, out)
        return out

    def _post(self, items: list[Item], out: Attempt, waiting: dict[int, list[Item]]) -> None:
        """POST one request; on a data error, find the bad event and send the rest again."""
        import requests

        body = b"\n".join([orjson.dumps(i.doc) for i in items])
        if self.gzip:
            body = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        try:
            r = self.session.post(self.event_url, data=body, headers=self._headers, timeout=self.timeout)
        except requests.Timeout:
            self._retry(out, items, f"no answer within {self.timeout:g}s")
            return
        except requests.RequestException as exc:
            self._retry(out, items, f"connection failed: {type(exc).__name__}")
            return
        try:
            answer = r.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        code = answer.get("code")
        text = short(str(answer.get("text") or r.text or r.reason))
        status = r.status_code
        if status == 200 and code in (0, None):
            ack_id = answer.get("ackId")
            if self.ack:
                if isinstance(ack_id, int):
                    waiting[ack_id] = items
                else:
                    self._reject(out, items, "hec_rejected", f"ack=true but HEC answered without an ackId: {text}")
            else:
                out.delivered.extend(items)
            return
        if status in RETRYABLE_STATUS or code in (8, 9):
            self._retry(out, items, f"HTTP {status} code {code}: {text}", retry_after_seconds(r.headers.get("Retry-After")))
            return
        if status in (401, 403) or code in AUTH_CODES:
            self._reject(out, items, "hec_unauthorized", f"HTTP {status} code {code}: {text}")
            return
        if status == 413 or (status == 400 and code in DATA_CODES):
            bad = answer.get("invalid-event-number")
            if isinstance(bad, int) and 0 <= bad < len(items) and status != 413:
                self._reject(out, [items[bad]], "hec_rejected", f"HTTP {status} code {code}: {text}")
                rest = items[:bad] + items[bad + 1 :]
                if rest:
                    self._post(rest, out, waiting)
            elif len(items) == 1:
                code_word = "too_large" if status == 413 else "hec_rejected"
                self._reject(out, items, code_word, f"HTTP {status} code {code}: {text}")
            else:
                half = len(items) // 2
                self._post(items[:half], out, waiting)
                self._post(items[half:], out, waiting)
            return
        hint = " (the token has indexer acknowledgement off: drop ack=true)" if code == 14 else ""
        self._reject(out, items, "hec_rejected", f"HTTP {status} code {code}: {text}{hint}")

    def _await_acks(self, waiting: dict[int, list[Item]], out: Attempt) -> None:
        """Poll until every ack is true or ack_timeout passes; late ones are sent again."""
        import requests

        headers = {k: v for k, v in self._headers.items() if k != "Content-Encoding"}
        deadline = time.monotonic() + self.ack_timeout
        last_problem = ""
        while waiting:
            try:
                r = self.session.post(
                    self.ack_url, data=orjson.dumps({"acks": sorted(waiting)}), headers=headers, timeout=self.timeout
                )
                if r.status_code == 200:
                    acks = r.json().get("acks") or {}
                    for ack_id in list(waiting):
                        if acks.get(str(ack_id)) is True:
                            out.delivered.extend(waiting.pop(ack_id))
                else:
                    last_problem = f"; last ack poll: HTTP {r.status_code} {short(r.text, 120)}"
            except (requests.RequestException, ValueError, AttributeError) as exc:
                last_problem = f"; last ack poll failed: {type(exc).__name__}"
            if not waiting or time.monotonic() >= deadline:
                break
            self._sleep(self.ack_poll)
        for items in waiting.values():
            self._retry(out, items, f"indexer acknowledgement not true within {self.ack_timeout:g}s{last_problem}")

    @staticmethod
    def _retry(out: Attempt, items: list[Item], reason: str, retry_after: float | None = None) -> None:
        out.retry.extend(items)
        out.reason = reason
        if retry_after is not None:
            out.retry_after = max(out.retry_after or 0.0, retry_after)

    @staticmethod
    def _reject(out: Attempt, items: list[Item], code: str, reason: str) -> None:
        out.rejected.extend((i, code, reason) for i in items)
