"""The ``?key=value`` options of the GCP source kinds (``connectors.options``): one model per kind."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, Field

from connectors.options import Csv, Duration, HttpEndpoint, QueryOptions

# The Cloud Audit Logs a log sink or the Logging API can hold, by the short name users type.
AUDIT_LOGS: tuple[str, ...] = ("activity", "data_access", "system_event", "policy")


def _audit_logs(names: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.lower() for n in names))
    if not names or names == ("all",):
        return AUDIT_LOGS
    unknown = [n for n in names if n not in AUDIT_LOGS]
    if unknown:
        raise ValueError(
            f"unknown audit log {', '.join(repr(n) for n in unknown)} (choose from {', '.join(AUDIT_LOGS)}, "
            "comma-separated, or all)"
        )
    return names


AuditLogs = Annotated[Csv, AfterValidator(_audit_logs)]
_LOGS = "audit logs to read, comma-separated: activity, data_access, system_event, policy, or all"


class LoggingQuery(QueryOptions):
    logs: AuditLogs = Field(AUDIT_LOGS, description=_LOGS)
    filter: str | None = Field(
        None,
        description="extra Logging query ANDed to the audit-log and time filter (in parentheses); URL-encode "
        "`&`, `#` and `%` in it (`%26`)",
    )
    slice: Duration = Field(
        timedelta(hours=1), ge=timedelta(seconds=1), description="time slice per paged query, read in parallel"
    )
    page_size: int = Field(1000, ge=1, le=1000, description="entries per page (the API's maximum)")
    rpm: int = Field(
        60, ge=1, le=6000, description="entries.list requests a minute per worker process (the API's read quota)"
    )
    endpoint: HttpEndpoint | None = Field(
        None, description="API endpoint for a local stand-in (then unauthenticated); default the public API"
    )


class GcsQuery(QueryOptions):
    logs: AuditLogs = Field(AUDIT_LOGS, description=_LOGS)


class PubsubQuery(QueryOptions):
    ack_deadline: int = Field(
        60, ge=10, le=600, description="seconds each lease extension asks for while a batch is in work"
    )
    max_lease: int = Field(
        3600, ge=10, le=7 * 86400, description="seconds after which a message is no longer extended"
    )
    # Read by Beam's ReadFromPubSub on Dataflow (pipelines/streaming.py); the local pull source ignores them.
    id_label: str | None = Field(
        None, description="Dataflow: deduplicate by this message attribute as well as by message id"
    )
    timestamp_attribute: str | None = Field(
        None, description="Dataflow: take each message's event time from this attribute"
    )
