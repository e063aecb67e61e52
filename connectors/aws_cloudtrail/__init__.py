"""AWS CloudTrail: S3 log files, EventBridge, CloudWatch Logs, lookup-events and single records."""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, MapContext, Unwrapped
from connectors.errors import NonEvent
from schemas.event import Format, Provider

from .mapping import map_record
from .parse import claims, unwrap


class CloudTrailConnector(Connector):
    name = "aws_cloudtrail"
    format = Format.aws_cloudtrail
    provider = Provider.aws

    def unwrap(self, doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
        return unwrap(doc)

    def claims(self, record: dict[str, Any]) -> bool:
        return claims(record)

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | NonEvent:
        return map_record(record, ctx)


CONNECTOR = CloudTrailConnector()
