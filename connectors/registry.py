"""The registered connectors, in detection order, and the source vocabularies they open.

A connector is found, not listed: every package under ``connectors/`` whose ``__init__`` exposes
``CONNECTOR`` (a ``connectors.base.Connector``) is one, and installed distributions add theirs through
the ``cloudaudit.connectors`` entry-point group (the entry point names the ``Connector`` object).
Onboarding a log source is adding its folder (``cloudaudit new-source NAME`` writes one; see
docs/onboarding.md).

Detection order: the built-in cloud connectors first, in their historical order, then the other folders
by name, then entry points; a connector that must see its records before a broader one names it in
``Connector.before`` (Entra ID records arrive on the Azure Activity connector's transports, so
``entra_id`` goes before ``azure_activity``).

The words connectors use for ``where.provider`` and ``source.format`` form the open vocabularies the
event schema checks against (``vocabulary``).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from connectors.base import Connector

# Kept first and in this order: detection results of the three cloud connectors do not move.
BUILTIN = (
    "connectors.aws_cloudtrail",
    "connectors.gcp_audit",
    "connectors.azure_activity",
)
ENTRY_POINT_GROUP = "cloudaudit.connectors"
PACKAGE_DIR = Path(__file__).resolve().parent

PROVIDER_WORD = re.compile(r"^[a-z][a-z0-9_]*$")
FORMAT_WORD = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class RegistryError(RuntimeError):
    """Two connectors clash, or one names itself with a word the vocabularies refuse."""


def discovered_modules() -> list[str]:
    """Module names of the connector folders under ``connectors/``: built-ins first, the rest by name."""
    found = []
    for info in pkgutil.iter_modules([str(PACKAGE_DIR)]):
        if info.ispkg and not info.name.startswith("_") and (PACKAGE_DIR / info.name / "__init__.py").exists():
            found.append(f"connectors.{info.name}")
    return [m for m in BUILTIN if m in found] + sorted(m for m in found if m not in BUILTIN)


_ADDED: list[Connector] = []


def register(connector: Connector) -> None:
    """Add a connector at run time (a test, a notebook); packaged ones use folders or entry points."""
    _ADDED.append(connector)
    _clear()


def unregister(connector: Connector) -> None:
    _ADDED.remove(connector)
    _clear()


def _clear() -> None:
    connectors.cache_clear()
    words.cache_clear()
    vocabulary.cache_clear()


@cache
def connectors() -> tuple[Connector, ...]:
    found: list[Connector] = []
    for mod in discovered_modules():
        c = getattr(importlib.import_module(mod), "CONNECTOR", None)
        if isinstance(c, Connector):
            found.append(c)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        c = ep.load()
        if not isinstance(c, Connector):
            raise RegistryError(f"entry point {ep.name!r} ({ep.value}) is not a connectors.base.Connector")
        found.append(c)
    found.extend(_ADDED)
    check(found)
    return tuple(ordered(found))


def check(found: list[Connector]) -> None:
    names: dict[str, Connector] = {}
    formats: dict[str, Connector] = {}
    for c in found:
        if c.name in names:
            raise RegistryError(f"connector name {c.name!r} is registered twice")
        names[c.name] = c
        fmt, prov = str(c.format), str(c.provider)
        if not FORMAT_WORD.match(fmt):
            raise RegistryError(f"{c.name}: format {fmt!r} must look like 'provider.log' (lower case, dotted)")
        if not PROVIDER_WORD.match(prov):
            raise RegistryError(f"{c.name}: provider {prov!r} must be one lower-case word")
        if fmt in formats:
            raise RegistryError(f"format {fmt!r} is claimed by {formats[fmt].name} and {c.name}")
        formats[fmt] = c
    for c in found:
        for other in c.before:
            if other not in names:
                raise RegistryError(f"{c.name}: before names {other!r}, which is not registered")


def ordered(found: list[Connector]) -> list[Connector]:
    """Discovery order, with each connector moved ahead of the ones it names in ``before``."""
    out = list(found)
    for _ in range(len(out)):
        moved = False
        for c in list(out):
            targets = [i for i, o in enumerate(out) if o.name in c.before]
            if targets and min(targets) < out.index(c):
                out.remove(c)
                out.insert(min(targets), c)
                moved = True
        if not moved:
            return out
    raise RegistryError("connectors' before lists form a cycle: " + ", ".join(c.name for c in out))


@cache
def words(kind: str) -> tuple[str, ...]:
    """The registered words for ``provider`` (where.provider) or ``format`` (source.format), in order."""
    if kind not in ("provider", "format"):
        raise KeyError(kind)
    return tuple(dict.fromkeys(str(getattr(c, kind)) for c in connectors()))


@cache
def vocabulary(kind: str) -> frozenset[str]:
    return frozenset(words(kind))


def by_format(fmt: str) -> Connector:
    for c in connectors():
        if c.format == fmt:
            return c
    raise KeyError(f"no connector for format {fmt!r}")


def by_name(name: str) -> Connector:
    for c in connectors():
        if c.name == name:
            return c
    raise KeyError(f"no connector named {name!r}")
