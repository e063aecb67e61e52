"""A stand-in connector for pipeline tests: it claims records carrying a ``fakecloud`` key, so the tests
can produce real events (and so real Parquet, dedup and partition output) whatever the state of the
three real connectors, without depending on their mapping."""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, MapContext
from connectors.errors import MappingError
from connectors.timeutil import parse_time
from schemas.event import Format, Provider
from schemas.ids import event_id

_FORMATS = {"aws": Format.aws_cloudtrail, "gcp": Format.gcp_audit, "azure": Format.azure_activity}


class FakeCloud(Connector):
    name = "fakecloud"
    format = Format.aws_cloudtrail
    provider = Provider.aws

    def claims(self, record: dict[str, Any]) -> bool:
        return "fakecloud" in record

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any]:
        if "time" not in record:
            raise MappingError("missing_time", "no timestamp in time")
        time, time_text = parse_time(record["time"], "time")
        provider = record.get("provider", "aws")
        fmt = _FORMATS[provider]
        op = record.get("op", "GetObject")
        return {
            "id": event_id(fmt, record.get("eventID"), time.isoformat(), op),
            "when": {"time": time, "time_text": time_text, "ingested": ctx.ingested},
            "who": {"actor": {"type": "human", "id": record.get("user"), "name": record.get("user")}},
            "what": {
                "action": f"fake:{op}",
                "operation": op,
                "outcome": record.get("outcome", "success"),
                "request": record.get("request"),
            },
            "where": {"provider": provider, "account": record.get("account"), "region": "eu-west-1"},
            "how": {"user_agent": record.get("ua")},
            "source": {"format": fmt, "native_id": record.get("eventID"), "location": ctx.location},
            "raw": ctx.raw,
        }


CONNECTORS = (FakeCloud(),)
