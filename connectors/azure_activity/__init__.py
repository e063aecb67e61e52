"""Azure Activity Logs: diagnostic-settings records (Event Hubs, storage export), the REST API and
Log Analytics ``AzureActivity`` rows, detected per record. See README.md in this package."""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, MapContext, Unwrapped
from connectors.errors import NonEvent
from schemas.event import Format, Provider

from . import parse
from .mapping import map_record


class AzureActivityConnector(Connector):
    name = "azure_activity"
    format = Format.azure_activity
    provider = Provider.azure

    def unwrap(self, doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
        return parse.unwrap(doc)

    def claims(self, record: dict[str, Any]) -> bool:
        return parse.claims(record)

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | NonEvent:
        return map_record(record, ctx)


CONNECTOR = AzureActivityConnector()
