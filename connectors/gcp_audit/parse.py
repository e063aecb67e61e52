"""The wire shapes GCP Cloud Audit Logs arrive in, and how to recognise one of their records.

Records (what ``map`` sees), detected per record, never configured:

* ``log_entry``: a LogEntry whose ``protoPayload`` is an AuditLog, as the Logging API and
  ``gcloud logging read --format=json`` return it (a JSON array, which framing already splits), as a
  Cloud Storage log sink writes it (JSON lines), or in an ``entries.list`` page ``{"entries": [...]}``.
  Panther-style copies are accepted too: ``at_sign_type`` for ``@type``, lower-cased ``insertid`` /
  ``logname`` / ``receivetimestamp`` / ``protopayload``, extra ``p_*`` keys.
* ``bigquery``: a row of a BigQuery log sink table: ``protopayload_auditlog`` with ``requestJson`` /
  ``responseJson`` / ``metadataJson`` as JSON strings and ``timestamp`` as BigQuery prints it
  ("2023-03-08 18:52:52.114 UTC").
* ``pubsub``: a LogEntry inside a Pub/Sub message (a log sink to a topic): the push body
  ``{"message": {"data": <base64>, ...}, "subscription": ...}``, a pulled ``receivedMessages`` response,
  one ``{"ackId", "message"}`` item of it, or a bare message ``{"data", "messageId", "publishTime"}``.
* ``cloudevent``: an Eventarc CloudEvent in structured mode (``type`` google.cloud.audit.log.v1.written)
  whose ``data`` is the LogEntry.

Anything else with a LogEntry shape (``jsonPayload``/``textPayload`` application logs, a ``protoPayload``
of another type such as App Engine request logs) is not an audit record: ``claims`` says no and it
dead-letters as unknown_shape.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from connectors.base import Unwrapped
from connectors.errors import MappingError, NonEvent
from connectors.gcp_audit.tables import AUDIT_LOG_TYPE

CLOUDEVENT_TYPE = "google.cloud.audit.log.v1.written"
_PUBSUB_MESSAGE_KEYS = ("messageId", "message_id", "publishTime", "publish_time")
_PAGE_KEYS = frozenset({"entries", "nextPageToken"})


def unwrap(doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
    """The LogEntries inside a Pub/Sub delivery, an Eventarc CloudEvent or a Logging API page."""
    msg = doc.get("message")
    if msg is not None:
        # Push body {"message": {...}, "subscription": ...} or one pulled item {"ackId", "message"}.
        if isinstance(msg, dict) and (
            "subscription" in doc or "ackId" in doc or any(k in msg for k in _PUBSUB_MESSAGE_KEYS)
        ):
            return Unwrapped("pubsub", [_message_data(msg, "message.data")])
        return None
    data = doc.get("data")
    if data is not None:
        if isinstance(data, str) and any(k in doc for k in _PUBSUB_MESSAGE_KEYS):
            return Unwrapped("pubsub", [_message_data(doc, "data")])
        if isinstance(data, dict) and doc.get("type") == CLOUDEVENT_TYPE and "specversion" in doc:
            return Unwrapped("cloudevent", [data])
        return None
    received = doc.get("receivedMessages")
    if isinstance(received, list):
        # Each item goes round again as {"ackId", "message"}, so one bad message costs one record.
        return Unwrapped("pubsub", received) if received else NonEvent("empty_pubsub_pull")
    entries = doc.get("entries")
    if isinstance(entries, list) and _PAGE_KEYS.issuperset(doc):
        return Unwrapped("logging_api", entries) if entries else NonEvent("empty_logging_page")
    return None


def _message_data(msg: dict[str, Any], field: str) -> bytes:
    data = msg.get("data")
    if not isinstance(data, str) or not data.strip():
        raise MappingError("empty_message", f"Pub/Sub message has no {field} (a log sink always sends one)")
    s = data.strip()
    try:
        if "-" in s or "_" in s:
            return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
        return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MappingError("invalid_envelope", f"Pub/Sub {field} is not base64: {exc}") from exc


def claims(record: dict[str, Any]) -> bool:
    """A LogEntry whose protoPayload is an AuditLog (or a Panther copy without @type), or a BigQuery row."""
    p = record.get("protoPayload")
    if p is None:
        p = record.get("protopayload")
        if p is None:
            return isinstance(record.get("protopayload_auditlog"), dict)
    if not isinstance(p, dict):
        return False
    t = p.get("@type") or p.get("at_sign_type")
    # Panther test fragments drop @type; a real protoPayload of another type (RequestLog) names it.
    return t is None or t == AUDIT_LOG_TYPE


def payload_and_shape(record: dict[str, Any], envelope: str | None) -> tuple[dict[str, Any], str, str]:
    """(the AuditLog object, the wire shape name, its field name for reasons)."""
    path = "protoPayload"
    p = record.get(path)
    if p is None:
        path = "protopayload"
        p = record.get(path)
    shape = "log_entry"
    if p is None:
        path = "protopayload_auditlog"
        p = record.get(path)
        shape = "bigquery"
    if envelope == "pubsub" or envelope == "cloudevent":
        shape = envelope
    return (p if isinstance(p, dict) else {}), shape, path
