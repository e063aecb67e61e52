"""GCP Cloud Audit Logs (format gcp.audit): LogEntries with an AuditLog payload, in every wire shape
they are delivered in (see parse.py), mapped to events (see mapping.py)."""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, MapContext, Unwrapped
from connectors.errors import NonEvent
from connectors.gcp_audit import parse
from connectors.gcp_audit.mapping import map_record
from connectors.gcp_audit.options import GcsQuery, LoggingQuery, PubsubQuery
from connectors.sources import SourceKind, SourceSpec
from schemas.event import Format, Provider


class GcpAuditConnector(Connector):
    name = "gcp_audit"
    format = Format.gcp_audit
    provider = Provider.gcp
    record_envelopes = frozenset({"logging_api"})  # {"entries": [...]}

    def unwrap(self, doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
        return parse.unwrap(doc)

    def claims(self, record: dict[str, Any]) -> bool:
        return parse.claims(record)

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | NonEvent:
        return map_record(record, ctx)


CONNECTOR = GcpAuditConnector()


# --- where the logs live (see read_logging.py, read_gcs.py, read_pubsub.py) -----------------------
# Factories import on use: Beam and the Google clients stay out of plain normalization.


def _logging(spec: SourceSpec) -> Any:
    from connectors.gcp_audit.read_logging import source

    return source(spec)


def _gcs(spec: SourceSpec) -> Any:
    from connectors.gcp_audit.read_gcs import source

    return source(spec)


def _pubsub(spec: SourceSpec) -> Any:
    from connectors.gcp_audit.read_pubsub import source

    return source(spec)


SOURCES: tuple[SourceKind, ...] = (
    SourceKind(
        kind="logging",
        mode="batch",
        summary="audit LogEntries from the Cloud Logging API (entries.list) for --start/--end, in time slices",
        example="logging:projects/my-project?logs=activity,policy",
        factory=_logging,
        time_range="required",
        options_model=LoggingQuery,
    ),
    SourceKind(
        kind="gcs",
        mode="batch",
        summary="hourly files of a log sink to Cloud Storage (cloudaudit.googleapis.com/LOG/YYYY/MM/DD/)",
        example="gcs:my-audit-sink-bucket/org-sink?logs=activity",
        factory=_gcs,
        options_model=GcsQuery,
    ),
    SourceKind(
        kind="pubsub",
        mode="stream",
        summary="LogEntries a log sink publishes to Pub/Sub, pulled from a subscription, acked after intake",
        example="pubsub:projects/my-project/subscriptions/audit-logs",
        factory=_pubsub,
        time_range="none",
        options_model=PubsubQuery,
    ),
)
