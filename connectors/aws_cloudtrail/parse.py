"""The shapes CloudTrail arrives in, and how to tell one of its records from anything else.

Wire shapes (the normalizer has already undone gzip and line framing):

- ``s3_log_file``: a trail's S3 object, ``{"Records": [record, ...]}``.
- ``eventbridge``: ``{"detail-type": "AWS API Call via CloudTrail", "source": "aws.iam", "detail": record}``.
- ``cloudwatch_logs``: a subscription payload, ``{"messageType": "DATA_MESSAGE", "logEvents":
  [{"id", "timestamp", "message": "<record as JSON text>"}]}``; ``CONTROL_MESSAGE`` carries no events.
- ``lookup_events``: ``aws cloudtrail lookup-events`` output, ``{"Events": [{"EventId", ...,
  "CloudTrailEvent": "<record as JSON text>"}]}``, or one of those events alone (a JSON line).
- a bare record (JSON lines, a CloudTrail Lake export, a queue message).

Digest files are recognised here and counted as non-events. S3/SNS/SQS notification envelopes also
use ``Records`` but are not CloudTrail: they are left alone for whoever reads them.
"""

from __future__ import annotations

from typing import Any

from connectors.base import Unwrapped
from connectors.errors import MappingError, NonEvent

from .tables import CANONICAL_KEYS

DIGEST = NonEvent("aws.cloudtrail.digest")
CONTROL_MESSAGE = NonEvent("aws.cloudwatch_logs.control_message")


def unwrap(doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
    # Every document of every cloud passes here first; a CloudTrail record leaves on the first lookup.
    if "eventSource" in doc:
        return None
    records = doc.get("Records")
    if records is not None:
        return _s3_log_file(records)
    detail_type = doc.get("detail-type")
    if detail_type is not None:
        return _eventbridge(doc, detail_type)
    message_type = doc.get("messageType")
    if message_type is not None:
        return _cloudwatch_logs(doc, message_type)
    cloudtrail_event = doc.get("CloudTrailEvent")
    if cloudtrail_event is not None:
        if not isinstance(cloudtrail_event, str | dict):
            kind = type(cloudtrail_event).__name__
            raise MappingError("bad_envelope", f"CloudTrailEvent is a {kind}, not the record's JSON text")
        return Unwrapped("lookup_events", [cloudtrail_event])
    if "digestStartTime" in doc or ("logFiles" in doc and "awsAccountId" in doc):
        return DIGEST
    events = doc.get("Events")
    if type(events) is list and events and type(events[0]) is dict and "CloudTrailEvent" in events[0]:
        return Unwrapped("lookup_events", events)
    return None


def _s3_log_file(records: Any) -> Unwrapped | None:
    if type(records) is not list:
        raise MappingError("bad_envelope", f"Records is a {type(records).__name__}, not a list of records")
    if records and type(records[0]) is dict and _is_notification(records[0]):
        return None
    return Unwrapped("s3_log_file", records)


def _is_notification(item: dict[str, Any]) -> bool:
    """S3, SNS, SQS, Kinesis and DynamoDB stream notifications put their own records in ``Records``:
    ``eventSource`` is ``aws:s3`` (never a CloudTrail host name) or SNS's ``EventSource``."""
    source = item.get("eventSource")
    return (type(source) is str and source.startswith("aws:")) or "EventSource" in item or "s3" in item


def _eventbridge(doc: dict[str, Any], detail_type: Any) -> Unwrapped | None:
    # "AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail", "AWS Service Event via
    # CloudTrail", "AWS Insight via CloudTrail", ...; other EventBridge events are not ours.
    if type(detail_type) is not str or not detail_type.endswith("via CloudTrail"):
        return None
    detail = doc.get("detail")
    if type(detail) is not dict:
        raise MappingError("bad_envelope", "EventBridge event from CloudTrail has no detail object")
    return Unwrapped("eventbridge", [detail])


def _cloudwatch_logs(doc: dict[str, Any], message_type: Any) -> Unwrapped | NonEvent | None:
    if message_type == "CONTROL_MESSAGE":
        return CONTROL_MESSAGE
    if message_type != "DATA_MESSAGE":
        return None
    log_events = doc.get("logEvents")
    if type(log_events) is not list:
        raise MappingError("bad_envelope", "CloudWatch Logs DATA_MESSAGE has no logEvents list")
    # One item per log event whatever it holds, so the record count stays one-to-one: an entry without
    # a message goes on as it is and becomes a dead letter of its own.
    items = [e.get("message", e) if type(e) is dict else e for e in log_events]
    return Unwrapped("cloudwatch_logs", items)


def claims(record: dict[str, Any]) -> bool:
    source = record.get("eventSource")
    if type(source) is str:
        return not source.startswith("aws:")
    # Azure's REST shape also has eventName, but as an object; Insights events have no eventSource.
    if "eventVersion" in record or "userIdentity" in record or type(record.get("eventName")) is str:
        return True
    return "eventsource" in record or "eventname" in record or "eventversion" in record


def recase(record: dict[str, Any]) -> dict[str, Any]:
    """The record with CloudTrail's key spelling restored, for data-lake rows whose keys were
    lower-cased. Only the top level and ``userIdentity`` are renamed: request parameters keep theirs."""
    out: dict[str, Any] = {}
    for k, v in record.items():
        key = CANONICAL_KEYS.get(k.lower(), k) if type(k) is str else k
        if key == "userIdentity" and type(v) is dict:
            v = _recase_deep(v)
        if key not in out or k == key:
            out[key] = v
    return out


def _recase_deep(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = CANONICAL_KEYS.get(k.lower(), k) if type(k) is str else k
        if key not in out or k == key:
            out[key] = _recase_deep(v) if type(v) is dict else v
    return out
