"""GCP Cloud Audit Logs (format gcp.audit): LogEntries with an AuditLog payload, in every wire shape
they are delivered in (see parse.py), mapped to events (see mapping.py)."""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, MapContext, Unwrapped
from connectors.errors import NonEvent
from connectors.gcp_audit import parse
from connectors.gcp_audit.mapping import map_record
from schemas.event import Format, Provider


class GcpAuditConnector(Connector):
    name = "gcp_audit"
    format = Format.gcp_audit
    provider = Provider.gcp

    def unwrap(self, doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
        return parse.unwrap(doc)

    def claims(self, record: dict[str, Any]) -> bool:
        return parse.claims(record)

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | NonEvent:
        return map_record(record, ctx)


CONNECTOR = GcpAuditConnector()
