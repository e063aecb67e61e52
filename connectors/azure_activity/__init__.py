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
        params={
            "subscriptions": "comma-separated subscription ids (default: every subscription folder found)",
            "lag": "minutes of delivery lag read past --end (default 60: one more hour blob; 0 = exact hours)",
            "page_size": "blobs per List Blobs page, at most 5000 (default 5000)",
            "threads": "blobs downloaded in parallel per worker (default 8)",
            "attempts": "tries per request on 503/500/timeouts, exponential backoff with jitter (default 6)",
        },
    ),
    SourceKind(
        kind="log-analytics",
        mode="batch",
        summary="AzureActivity rows from a Log Analytics workspace for --start/--end, in time slices",
        example="log-analytics:00000000-0000-0000-0000-000000000000?slice=1h",
        factory=_log_analytics,
        time_range="required",
        params={
            "slice": "time slice per query, e.g. 1h, 30m (default 1h); a partial answer halves it",
            "min_slice": "smallest slice before a partial answer is an error (default 1m)",
            "rows_per_blob": "rows per blob handed to the normalizer (default 10000)",
            "timeout": "server timeout per query in seconds, at most 600 (default 300)",
            "endpoint": "query API endpoint (default https://api.loganalytics.io)",
        },
    ),
    SourceKind(
        kind="eventhub",
        mode="stream",
        summary="diagnostic-settings records from an Event Hub, checkpoints in a blob container",
        example="eventhub:myns.servicebus.windows.net/insights-activity-logs"
        "?checkpoint=https://myacct.blob.core.windows.net/checkpoints",
        factory=_eventhub,
        time_range="none",
        params={
            "consumer_group": "consumer group (default $Default)",
            "checkpoint": "blob container URL for checkpoints (BlobCheckpointStore); required",
            "start": "where a partition without a checkpoint starts: earliest (default) or latest",
            "endpoint": "custom AMQP endpoint sb://HOST[:PORT] (private endpoint, gateway); TLS always",
            "balance_interval": "seconds between partition ownership renewals (default 10)",
            "ownership_expiry": "seconds until a crashed reader's partitions can be claimed (default 60)",
        },
    ),
)
