"""The registered connectors, in detection order.

Onboarding a log source: add a package under ``connectors/`` whose ``__init__`` exposes ``CONNECTOR``
(a ``connectors.base.Connector``), and add its module name here. Installed distributions can also
register one through the ``cloudaudit.connectors`` entry-point group.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from connectors.base import Connector

BUILTIN = (
    "connectors.aws_cloudtrail",
    "connectors.gcp_audit",
    "connectors.azure_activity",
)


@cache
def connectors() -> tuple[Connector, ...]:
    found: list[Connector] = []
    for mod in BUILTIN:
        found.append(importlib.import_module(mod).CONNECTOR)
    for ep in entry_points(group="cloudaudit.connectors"):
        found.append(ep.load())
    return tuple(found)


def by_format(fmt: str) -> Connector:
    for c in connectors():
        if c.format == fmt:
            return c
    raise KeyError(f"no connector for format {fmt!r}")
