"""AWS CloudTrail: S3 log files, EventBridge, CloudWatch Logs, lookup-events and single records."""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, MapContext, Unwrapped
from connectors.errors import NonEvent
from connectors.sources import SourceKind, SourceSpec
from schemas.event import Format, Provider

from .mapping import map_record
from .options import S3Query, SqsQuery
from .parse import claims, unwrap


class CloudTrailConnector(Connector):
    name = "aws_cloudtrail"
    format = Format.aws_cloudtrail
    provider = Provider.aws
    record_envelopes = frozenset({"s3_log_file"})  # {"Records": [...]}

    def unwrap(self, doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
        return unwrap(doc)

    def claims(self, record: dict[str, Any]) -> bool:
        return claims(record)

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | NonEvent:
        return map_record(record, ctx)


CONNECTOR = CloudTrailConnector()


def _s3(spec: SourceSpec) -> Any:
    # Imported on use: Beam and boto3 stay out of plain normalization.
    from .read_s3 import source

    return source(spec)


def _sqs(spec: SourceSpec) -> Any:
    from .read_sqs import source

    return source(spec)


SOURCES: tuple[SourceKind, ...] = (
    SourceKind(
        kind="s3",
        mode="batch",
        summary="a trail's log files in S3 (AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/...), only the days in "
        "--start/--end (plus delivery lag); without them, everything under the prefix",
        example="s3:my-trail-bucket/AWSLogs/o-abc123def4?regions=us-east-1,eu-west-1",
        factory=_s3,
        options_model=S3Query,
    ),
    SourceKind(
        kind="sqs",
        mode="stream",
        summary="files announced on an SQS queue by the trail bucket's S3 notifications (direct, SNS-wrapped, "
        "CloudTrail SNS or EventBridge), fetched from S3; a message is deleted once its files are in",
        example="sqs:https://sqs.us-east-1.amazonaws.com/111122223333/cloudtrail-notifications?visibility=600",
        factory=_sqs,
        options_model=SqsQuery,
    ),
)
