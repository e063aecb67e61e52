"""Azure Activity Logs: diagnostic-settings records (Event Hubs, storage export), the REST API and
Log Analytics ``AzureActivity`` rows, detected per record. See README.md in this package."""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, MapContext, Unwrapped
from connectors.errors import NonEvent
from connectors.sources import SourceKind, SourceSpec
from schemas.event import Format, Provider

from . import parse
from .mapping import map_record
from .options import AzureBlobQuery, EventHubQuery, LogAnalyticsQuery


class AzureActivityConnector(Connector):
    name = "azure_activity"
    format = Format.azure_activity
    provider = Provider.azure
    record_envelopes = frozenset({"event_hub"})  # {"records": [...]}, Entra ID records too (before)

    def unwrap(self, doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
        return parse.unwrap(doc)

    def claims(self, record: dict[str, Any]) -> bool:
        return parse.claims(record)

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | NonEvent:
        return map_record(record, ctx)


CONNECTOR = AzureActivityConnector()


def _log_analytics(spec: SourceSpec) -> Any:
    # Imported on use: Beam and the Azure SDKs stay out of plain normalization.
    from .read_logs import source

    return source(spec)


def _eventhub(spec: SourceSpec) -> Any:
    from .read_eventhub import source

    return source(spec)


def _blob(spec: SourceSpec) -> Any:
    from .read_blob import source

    return source(spec)


SOURCES: tuple[SourceKind, ...] = (
    SourceKind(
        kind="azure-blob",
        mode="batch",
        summary="the storage-account export of Activity Logs (insights-activity-logs, PT1H.json per "
        "subscription and hour), only the hours in --start/--end (plus lag); without them, everything",
        example="azure-blob:https://myacct.blob.core.windows.net/insights-activity-logs?subscriptions="
        "00000000-0000-0000-0000-000000000000",
        factory=_blob,
        options_model=AzureBlobQuery,
    ),
    SourceKind(
        kind="log-analytics",
        mode="batch",
        summary="AzureActivity rows from a Log Analytics workspace for --start/--end, in time slices",
        example="log-analytics:00000000-0000-0000-0000-000000000000?slice=1h",
        factory=_log_analytics,
        time_range="required",
        options_model=LogAnalyticsQuery,
    ),
    SourceKind(
        kind="eventhub",
        mode="stream",
        summary="diagnostic-settings records from an Event Hub, checkpoints in a blob container",
        example="eventhub:myns.servicebus.windows.net/insights-activity-logs"
        "?checkpoint=https://myacct.blob.core.windows.net/checkpoints",
        factory=_eventhub,
        time_range="none",
        options_model=EventHubQuery,
    ),
)
