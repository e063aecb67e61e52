"""Stream source ``sqs``: the CloudTrail files announced on an SQS queue, fetched from S3.

A trail's bucket announces each new log file on a queue, in one of these shapes (``parse_message``):

- an S3 event notification, ``{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name"},
  "object": {"key"}}}]}``; keys are URL-encoded with ``+`` for a space;
- the same wrapped by SNS, ``{"Type": "Notification", "Message": "<the JSON above, as text>"}``;
- CloudTrail's own SNS notification, ``{"s3Bucket": "...", "s3ObjectKey": ["...", ...]}``, SNS-wrapped
  or raw (SNS raw message delivery);
- an EventBridge ``Object Created`` event from S3 (``detail.bucket.name``, ``detail.object.key``).

Control messages (``s3:TestEvent``, SNS subscription confirmations, CloudTrail's validation message, S3
events other than ``ObjectCreated``) carry no file: they are deleted at once and counted in ``counts``
(``sqs.control.<what>``, beside ``sqs.messages``, ``sqs.files``, ``sqs.deleted``, ...). A poll receives at
most ``min(max_items, 10)`` messages; it can return more deliveries when a message names several files.

**At least once.** Every file of a message becomes a ``Delivery`` (``part``/``parts`` when one message
announces several) holding the file's bytes. The message is deleted (batched ``DeleteMessageBatch``) only
when ``ack`` has been called for all its parts, that is after their records entered the pipeline. A
message not acknowledged becomes visible again after the visibility timeout (``visibility=``, default
300 s) and is delivered again, to this or another reader; deduplication on event id keeps the output
single. While a message is held the reader extends its visibility on each poll, so a slow pipeline does
not cause redelivery, and ``close`` makes held messages visible again at once.

A file that cannot be fetched (deleted, access denied after retries) and a message that is not a
notification are ``Delivery`` objects with ``error`` (dead letters downstream) and are acknowledged like
any other: reading them again would fail again.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from connectors.options import parse_options
from connectors.sources import Delivery, SourceError, SourceSpec

from .options import SqsQuery
from .read import (
    ClientOptions,
    describe,
    fetch_object,
    s3_location,
)

log = logging.getLogger(__name__)

MAX_MESSAGES = 10  # ReceiveMessage's own maximum
MAX_WAIT = 20  # seconds, ReceiveMessage's longest long poll
_QUEUE_HOST = re.compile(r"^(?:sqs\.)?([a-z]{2}(?:-[a-z]+)+-\d+)\.(?:queue\.)?amazonaws\.com", re.IGNORECASE)


@dataclass(frozen=True)
class Notice:
    """What one queue message announces: files, a control message, or why it is not understood."""

    files: tuple[tuple[str, str], ...] = ()  # (bucket, key)
    control: str | None = None  # s3:TestEvent, sns:SubscriptionConfirmation, s3:ObjectRemoved:Delete, ...
    error: str | None = None


def parse_message(body: str) -> Notice:
    """The files (or control message, or error) of an SQS message body; never raises."""
    try:
        doc = json.loads(body)
    except ValueError:
        return Notice(error="message body is not JSON")
    return _notice(doc, 0)


def _notice(doc: Any, depth: int) -> Notice:
    if not isinstance(doc, dict):
        return Notice(error="message is not a JSON object")
    if doc.get("Type") == "Notification" and "Message" in doc:
        message = doc["Message"]
        if depth > 1 or not isinstance(message, str):
            return Notice(error="SNS notification whose Message is not a notification")
        try:
            inner = json.loads(message)
        except ValueError:
            if "validation message" in message.lower():
                return Notice(control="cloudtrail:ValidationMessage")
            return Notice(error="SNS notification whose Message is not JSON")
        return _notice(inner, depth + 1)
    if doc.get("Type") in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
        return Notice(control=f"sns:{doc['Type']}")
    if doc.get("Event") == "s3:TestEvent":
        return Notice(control="s3:TestEvent")
    if "s3Bucket" in doc and "s3ObjectKey" in doc:
        return _cloudtrail_notice(doc)
    if doc.get("source") == "aws.s3" and isinstance(doc.get("detail"), dict):
        return _eventbridge_notice(doc)
    records = doc.get("Records")
    if isinstance(records, list):
        return _s3_event_notice(records)
    return Notice(error="message is not an S3, SNS or CloudTrail notification")


def _s3_event_notice(records: list[Any]) -> Notice:
    files: list[tuple[str, str]] = []
    others: list[str] = []
    for r in records:
        s3 = r.get("s3") if isinstance(r, dict) else None
        try:
            bucket, key = s3["bucket"]["name"], s3["object"]["key"]  # type: ignore[index]
        except (TypeError, KeyError):
            return Notice(error="S3 event record without s3.bucket.name and s3.object.key")
        if not isinstance(bucket, str) or not isinstance(key, str) or not bucket or not key:
            return Notice(error="S3 event record whose bucket or key is not a string")
        name = str(r.get("eventName") or "")
        if name.startswith("ObjectCreated:"):
            files.append((bucket, unquote_plus(key)))  # S3 event keys are form-encoded
        else:
            others.append(name or "unknown")
    if not files:
        return Notice(control=f"s3:{others[0]}" if others else "s3:NoRecords")
    return Notice(files=tuple(files))


def _cloudtrail_notice(doc: dict[str, Any]) -> Notice:
    bucket, keys = doc["s3Bucket"], doc["s3ObjectKey"]
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(bucket, str) or not bucket or not isinstance(keys, list) or not keys:
        return Notice(error="CloudTrail notification without s3Bucket or s3ObjectKey")
    if not all(isinstance(k, str) and k for k in keys):
        return Notice(error="CloudTrail notification with a key that is not a string")
    return Notice(files=tuple((bucket, k) for k in keys))  # CloudTrail's keys are not encoded


def _eventbridge_notice(doc: dict[str, Any]) -> Notice:
    detail = doc["detail"]
    if doc.get("detail-type") != "Object Created":
        return Notice(control=f"s3:{doc.get('detail-type') or 'unknown'}")
    try:
        bucket, key = detail["bucket"]["name"], detail["object"]["key"]
    except (TypeError, KeyError):
        return Notice(error="EventBridge S3 event without detail.bucket.name and detail.object.key")
    if not isinstance(bucket, str) or not isinstance(key, str):
        return Notice(error="EventBridge S3 event whose bucket or key is not a string")
    return Notice(files=((bucket, key),))


@dataclass
class _Held:
    """A received message not yet deleted: its latest receipt handle and the parts acknowledged so far."""

    receipt: str
    parts: int
    acked: set[int] = field(default_factory=set)
    extended: float = field(default_factory=time.monotonic)


class SqsSource:
    """``StreamSource`` over an SQS queue of S3/SNS/CloudTrail notifications (see the module doc)."""

    def __init__(self, spec: SourceSpec) -> None:
        target = spec.target.strip()
        if not target:
            raise SourceError(
                "sqs source needs a queue URL or name: sqs:https://sqs.REGION.amazonaws.com/ACCOUNT/NAME"
            )
        query = parse_options(SqsQuery, spec.params, "source 'sqs'")
        region = query.region
        if "://" in target:
            parts = urlsplit(target)
            if parts.username or parts.password or parts.query:
                raise SourceError("sqs source: the queue URL must not carry credentials or a query")
            if not parts.hostname or not parts.path.strip("/"):
                raise SourceError("sqs source: a queue URL is https://sqs.REGION.amazonaws.com/ACCOUNT/NAME")
            m = _QUEUE_HOST.match(parts.hostname)
            region = region or (m.group(1) if m else None)
            self.queue_url: str | None = target
            self.queue_name = parts.path.strip("/").rsplit("/", 1)[-1]
        else:
            if "/" in target:
                raise SourceError("sqs source: give a queue URL or a bare queue name")
            self.queue_url = None
            self.queue_name = target
        self.client_options = ClientOptions(endpoint=query.endpoint, region=region, attempts=query.attempts)
        self.visibility = query.visibility
        self.threads = query.threads
        self.counts: Counter[str] = Counter()
        self._sqs: Any = None
        self._s3: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._held: dict[str, _Held] = {}

    # Clients, the thread pool and held messages belong to one process: not pickled.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_sqs=None, _s3=None, _pool=None, _held={}, counts=Counter())
        return state

    @property
    def location_prefix(self) -> str:
        return f"sqs://{self.client_options.region or 'default'}/{self.queue_name}"

    def open(self) -> None:
        try:
            self._sqs = self.client_options.client("sqs")
            self._s3 = self.client_options.client("s3")
        except Exception as exc:  # no region, a bad endpoint URL: a setup problem, said in one line
            raise SourceError(f"sqs source: cannot make the AWS clients: {describe(exc)}") from None
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="sqs-fetch")
        if self.queue_url is None:
            try:
                self.queue_url = self._sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
            except Exception as exc:
                raise SourceError(
                    f"sqs source: cannot find queue {self.queue_name!r}: {describe(exc)}"
                ) from None
        try:  # start-up check: a wrong queue or missing permission is one clear error, not a poll loop
            self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["VisibilityTimeout"])
        except Exception as exc:
            raise SourceError(f"sqs source: cannot use queue {self.queue_name!r}: {describe(exc)}") from None

    def poll(self, max_items: int, wait_seconds: float) -> Sequence[Delivery]:
        assert self._sqs is not None and self._pool is not None, "poll() before open()"
        self._extend_held()
        try:
            response = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=max(1, min(MAX_MESSAGES, max_items)),
                WaitTimeSeconds=max(0, min(MAX_WAIT, math.ceil(wait_seconds))),
                VisibilityTimeout=self.visibility,
                AttributeNames=["ApproximateReceiveCount"],
            )
        except Exception as exc:  # after botocore's retries: stop the run; unacknowledged messages come again
            raise SourceError(
                f"sqs source: cannot receive from {self.queue_name!r}: {describe(exc)}"
            ) from None
        messages = response.get("Messages", [])
        deliveries: list[Delivery] = []
        fetches: list[tuple[int, str, str]] = []  # (index in deliveries, bucket, key)
        control: list[dict[str, str]] = []
        for msg in messages:
            self.counts["sqs.messages"] += 1
            mid, receipt, body = msg["MessageId"], msg["ReceiptHandle"], msg.get("Body", "")
            notice = parse_message(body)
            if notice.control:
                self.counts[f"sqs.control.{notice.control}"] += 1
                log.info("sqs source: %s message %s acknowledged (no file)", notice.control, mid)
                control.append({"Id": str(len(control)), "ReceiptHandle": receipt})
                continue
            if notice.error:
                self.counts["sqs.unreadable_messages"] += 1
                self._hold(mid, receipt, 1)
                deliveries.append(
                    Delivery(
                        f"{self.location_prefix}#{mid}",
                        body.encode(),
                        (mid, receipt),
                        error=f"SQS message {mid}: {notice.error}",
                    )
                )
                continue
            parts = len(notice.files)
            self._hold(mid, receipt, parts)
            for part, (bucket, key) in enumerate(notice.files):
                fetches.append((len(deliveries), bucket, key))
                deliveries.append(
                    Delivery(s3_location(bucket, key), b"", (mid, receipt), part=part, parts=parts)
                )
        if control:
            self._delete(control)
        results = self._pool.map(lambda f: fetch_object(self._s3, f[1], f[2]), fetches)
        for (i, _bucket, _key), (data, error) in zip(fetches, results, strict=True):
            d = deliveries[i]
            if data is None:
                self.counts["sqs.unreadable_files"] += 1
                log.warning("sqs source: %s", error)
                deliveries[i] = Delivery(d.location, b"", d.ack_id, d.part, d.parts, error=error)
            else:
                self.counts["sqs.files"] += 1
                deliveries[i] = Delivery(d.location, data, d.ack_id, d.part, d.parts)
        return deliveries

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        done: list[dict[str, str]] = []
        for d in deliveries:
            mid, _receipt = d.ack_id
            held = self._held.get(mid)
            if held is None:  # already deleted (a part acknowledged twice): nothing to do
                continue
            held.acked.add(d.part)
            if len(held.acked) >= held.parts:
                del self._held[mid]
                done.append({"Id": str(len(done)), "ReceiptHandle": held.receipt})
        if done:
            self._delete(done)

    def close(self) -> None:
        """Make held messages visible again at once (they were not acknowledged), then drop the clients."""
        if self._sqs is not None and self._held:
            entries = [
                {"Id": str(i), "ReceiptHandle": h.receipt, "VisibilityTimeout": 0}
                for i, h in enumerate(self._held.values())
            ]
            self._batched(self._sqs.change_message_visibility_batch, entries, "release")
        self._held.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._sqs = self._s3 = self._pool = None

    # --- helpers ---------------------------------------------------------------------------------

    def _hold(self, mid: str, receipt: str, parts: int) -> None:
        held = self._held.get(mid)
        if held is None:
            self._held[mid] = _Held(receipt, parts)
        else:  # received again while held (visibility ran out): only the newest receipt handle deletes it
            held.receipt = receipt
            held.extended = time.monotonic()

    def extend_leases(self) -> None:
        """Keep held messages hidden while the pipeline waits to acknowledge them without polling (the
        streaming drain: deliveries are acknowledged only once their events are durable)."""
        if self._sqs is not None:
            self._extend_held()

    def _extend_held(self) -> None:
        """Keep messages still being processed hidden: extend those past half their visibility."""
        now = time.monotonic()
        due = [(mid, h) for mid, h in self._held.items() if now - h.extended >= self.visibility / 2]
        if not due:
            return
        entries = [
            {"Id": str(i), "ReceiptHandle": h.receipt, "VisibilityTimeout": self.visibility}
            for i, (_mid, h) in enumerate(due)
        ]
        for _mid, h in due:
            h.extended = now
        self._batched(self._sqs.change_message_visibility_batch, entries, "extend")

    def _delete(self, entries: list[dict[str, str]]) -> None:
        deleted = self._batched(self._sqs.delete_message_batch, entries, "delete")
        self.counts["sqs.deleted"] += deleted

    def _batched(self, call: Any, entries: list[dict[str, Any]], what: str) -> int:
        """Run a *Batch call over ``entries`` ten at a time; failures are logged (the message then comes
        back after its visibility timeout, and deduplication keeps the output single)."""
        ok = 0
        for i in range(0, len(entries), MAX_MESSAGES):
            chunk = [dict(e, Id=str(j)) for j, e in enumerate(entries[i : i + MAX_MESSAGES])]
            try:
                response = call(QueueUrl=self.queue_url, Entries=chunk)
            except Exception as exc:
                self.counts[f"sqs.{what}_failed"] += len(chunk)
                log.warning("sqs source: %s of %d messages failed: %s", what, len(chunk), describe(exc))
                continue
            ok += len(response.get("Successful", []))
            failed = response.get("Failed", [])
            if failed:
                self.counts[f"sqs.{what}_failed"] += len(failed)
                log.warning(
                    "sqs source: %s failed for %d messages: %s",
                    what,
                    len(failed),
                    failed[0].get("Code", "unknown"),
                )
        return ok


def source(spec: SourceSpec) -> SqsSource:
    return SqsSource(spec)
