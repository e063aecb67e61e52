"""Placeholder until the connector lands: claims nothing."""

from typing import Any

from connectors.base import Connector, MapContext
from schemas.event import Format, Provider


class _Placeholder(Connector):
    name = "azure_activity"
    format = Format.azure_activity
    provider = Provider.azure

    def claims(self, record: dict[str, Any]) -> bool:
        return False

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any]:
        raise NotImplementedError


CONNECTOR = _Placeholder()
