"""Microsoft Entra ID (Azure AD) sign-in and audit logs (format entra.id), built with the
onboarding kit. Records arrive on the transports the Azure Activity connector reads (diagnostic-settings
Event Hub ``records[]``, the storage-account export, Log Analytics query tables), whose envelopes that
connector opens; this one is asked before it (``before``), so each record is told apart by its content.
See README.md for the mapping decisions."""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, MapContext
from connectors.sources import SourceKind

from . import parse
from . import tables as T
from .mapping import map_record


class EntraIdConnector(Connector):
    name = "entra_id"
    format = T.FORMAT
    provider = T.PROVIDER
    before = ("azure_activity",)
    account_kind = "tenant"
    docs = "docs/sources-entra.md"

    def claims(self, record: dict[str, Any]) -> bool:
        return parse.claims(record)

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any]:
        return map_record(record, ctx)


CONNECTOR = EntraIdConnector()

# The Azure connector's source kinds (azure-blob, eventhub, log-analytics) already read these logs: point
# them at the Entra containers, hubs and tables; its normalizer hands each record to the right connector.
SOURCES: tuple[SourceKind, ...] = ()
