"""Where the enrichment reference data lives: one ``EnrichmentConfig``, from CLI options or a config file.

The config only names files; loading and validating them is ``enrichers.context.load_context``'s job,
done once at start-up so that a missing or broken file is one clear error before the pipeline runs.

Config file (YAML or JSON), every key optional; relative paths are relative to the config file::

    directory: ref/directory.yaml          # people and service identities (CSV, JSON or YAML)
    inventory: ref/inventory.yaml          # accounts/projects/subscriptions and resource tags
    geoip_db: ref/GeoLite2-City.mmdb       # MaxMind City (or Country) database
    asn_db: ref/GeoLite2-ASN.mmdb          # MaxMind ASN database
    cloud_ranges: [ref/ip-ranges.json, ref/cloud.json, ref/ServiceTags_Public.json]
    internal_networks: [10.0.0.0/8, 192.168.0.0/16]   # CIDRs, or a file of CIDRs one a line
    indicators: ref/indicators.txt         # IP / CIDR / domain, optional tags
    catalog: null                          # action catalog; null = the bundled one
    refresh_seconds: 300                   # streaming: how often to look for changed files
    enrichers: [identity, account, resource_tags, network, catalog]   # which ones, by name (default: all
                                           # that have their reference data), always in this order
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

from connectors.usage import UsageError

DEFAULT_REFRESH_SECONDS = 300

_PATH_KEYS = ("directory", "inventory", "geoip_db", "asn_db", "indicators", "catalog")
_LIST_KEYS = ("cloud_ranges", "internal_networks", "enrichers")


@dataclass(frozen=True)
class EnrichmentConfig:
    """Paths of the reference files; ``None``/empty means that enricher is off (the catalog is on by
    default, with its bundled file, unless ``use_catalog`` is false)."""

    directory: str | None = None
    inventory: str | None = None
    geoip_db: str | None = None
    asn_db: str | None = None
    cloud_ranges: tuple[str, ...] = ()
    internal_networks: tuple[str, ...] = ()  # CIDRs, or paths of files holding CIDRs
    indicators: str | None = None
    catalog: str | None = None  # None: the bundled catalog
    use_catalog: bool = True
    refresh_seconds: int = DEFAULT_REFRESH_SECONDS
    enrichers: tuple[str, ...] = ()  # registered names to run (enrichers.chain.REGISTRY); () = all available
    source: str | None = field(default=None, compare=False)  # the config file, for messages

    @property
    def any_reference(self) -> bool:
        """True when at least one reference file (not just the bundled catalog) is configured."""
        return bool(
            self.directory or self.inventory or self.geoip_db or self.asn_db or self.cloud_ranges
            or self.internal_networks or self.indicators
        )

    @classmethod
    def from_file(cls, path: str) -> EnrichmentConfig:
        """Read a YAML or JSON config file; unknown keys and wrong types are a ``UsageError``."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise UsageError(f"cannot read enrichment config {path}: {exc.strerror or exc}") from None
        try:
            if path.endswith(".json"):
                doc = json.loads(data)
            else:
                import yaml

                doc = yaml.safe_load(data)
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise UsageError(f"enrichment config {path} is not valid YAML/JSON: {first}") from None
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            raise UsageError(f"enrichment config {path}: expected a mapping of keys, got {type(doc).__name__}")
        doc = doc.get("enrichment", doc) if isinstance(doc.get("enrichment"), dict) else doc
        return cls.from_mapping(doc, base_dir=os.path.dirname(os.path.abspath(path)), source=path)

    @classmethod
    def from_mapping(cls, doc: dict[str, Any], base_dir: str = "", source: str | None = None) -> EnrichmentConfig:
        where = f"enrichment config {source}" if source else "enrichment config"
        known = {f.name for f in fields(cls)} - {"source"}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values: dict[str, Any] = {"source": source}
        for key in _PATH_KEYS:
            v = doc.get(key)
            if v is not None:
                if not isinstance(v, str) or not v:
                    raise UsageError(f"{where}: {key} must be a path")
                values[key] = _resolve(v, base_dir)
        for key in _LIST_KEYS:
            v = doc.get(key)
            if v is None:
                continue
            items = [v] if isinstance(v, str) else v
            if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
                raise UsageError(f"{where}: {key} must be a list of strings")
            if key == "internal_networks":
                values[key] = tuple(i if _looks_like_cidr(i) else _resolve(i, base_dir) for i in items)
            elif key == "enrichers":
                values[key] = tuple(items)
            else:
                values[key] = tuple(_resolve(i, base_dir) for i in items)
        if "use_catalog" in doc:
            if not isinstance(doc["use_catalog"], bool):
                raise UsageError(f"{where}: use_catalog must be true or false")
            values["use_catalog"] = doc["use_catalog"]
        if "refresh_seconds" in doc:
            r = doc["refresh_seconds"]
            if isinstance(r, bool) or not isinstance(r, int) or r < 1:
                raise UsageError(f"{where}: refresh_seconds must be a whole number >= 1")
            values["refresh_seconds"] = r
        return cls(**values)

    def merged(self, **overrides: Any) -> EnrichmentConfig:
        """This config with the given (command-line) values on top; ``None``/empty values do not override."""
        changes = {k: v for k, v in overrides.items() if v not in (None, (), [])}
        for key in _LIST_KEYS:
            if key in changes:
                changes[key] = tuple(changes[key])
        return replace(self, **changes)


def _resolve(path: str, base_dir: str) -> str:
    if "://" in path or os.path.isabs(path) or not base_dir:
        return path
    return os.path.join(base_dir, path)


def _looks_like_cidr(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True
