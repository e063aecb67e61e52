"""Network: where a call came from. ``where.source`` gets geo location and ASN (MaxMind-format databases),
the cloud provider whose published ranges hold the address (AWS ``ip-ranges.json``, GCP ``cloud.json``,
Azure Service Tags), whether it is internal (CIDRs from configuration) and threat tags (a plain list
of indicators). A source that is a service host name (CloudTrail's ``lambda.amazonaws.com``, ``AWS
Internal``) is tagged as a cloud-service call.

Range tables are sorted, disjoint integer intervals searched with ``bisect``: nested prefixes (AWS's
``AMAZON`` around ``EC2``, Azure's ``AzureCloud`` around ``Storage.WestEurope``) are flattened at load
so the most specific range answers. Addresses repeat, so each address is looked up once and its answer
kept (bounded) for the next event from it.
"""

from __future__ import annotations

import bisect
import ipaddress
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from enrichers._files import ReferenceDataError, read_bytes
from enrichers.chain import Enricher, Explanation, Trace, register
from schemas.event import Geo
from schemas.fastpath import Doc

_CACHE_MAX = 1 << 17

# --- interval tables ----------------------------------------------------------------------------

Interval = tuple[int, int, Any]  # (first address, last address, value)


class RangeTable:
    """Disjoint intervals over one address family; ``find`` is a bisect."""

    def __init__(self, intervals: Iterable[Interval], merge: Callable[[Any, Any], Any]) -> None:
        flat = _flatten(intervals, merge)
        self.starts = [s for s, _, _ in flat]
        self.ends = [e for _, e, _ in flat]
        self.values = [v for _, _, v in flat]

    def __len__(self) -> int:
        return len(self.starts)

    def find(self, address: int) -> Any:
        i = bisect.bisect_right(self.starts, address) - 1
        if i >= 0 and address <= self.ends[i]:
            return self.values[i]
        return None


def _flatten(intervals: Iterable[Interval], merge: Callable[[Any, Any], Any]) -> list[Interval]:
    """CIDR blocks are nested or disjoint: sweep them outermost first, with a stack of the enclosing
    ones, and emit disjoint pieces whose value is ``merge(outer, inner)`` (inner wins for ranges, tags
    are united for indicators). Blocks listed twice nest in list order."""
    ordered = sorted(intervals, key=lambda t: (t[0], -t[1]))
    out: list[Interval] = []
    stack: list[tuple[int, Any]] = []  # (end, merged value), innermost last
    pos = 0  # first address not emitted yet

    def close_until(limit: int) -> None:
        nonlocal pos
        while stack and stack[-1][0] < limit:
            end, value = stack.pop()
            if pos <= end:
                out.append((pos, end, value))
                pos = end + 1

    for start, end, value in ordered:
        close_until(start)
        if stack and pos < start:
            out.append((pos, start - 1, stack[-1][1]))
        if stack and end > stack[-1][0]:  # overlapping but not nested (not CIDR): clip to the parent
            end = stack[-1][0]
        merged = merge(stack[-1][1], value) if stack else value
        stack.append((end, merged))
        pos = start
    close_until(1 << 129)
    return out


def _network(text: str, where: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ReferenceDataError(f"{where}: not an IP network: {text!r}") from None


def _interval(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    return int(net.network_address), int(net.broadcast_address)


class DualTable:
    """One ``RangeTable`` per address family."""

    def __init__(self, items: Iterable[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Any]],
                 merge: Callable[[Any, Any], Any] = lambda outer, inner: inner) -> None:
        v4: list[Interval] = []
        v6: list[Interval] = []
        for net, value in items:
            s, e = _interval(net)
            (v4 if net.version == 4 else v6).append((s, e, value))
        self.v4 = RangeTable(v4, merge)
        self.v6 = RangeTable(v6, merge)

    def __len__(self) -> int:
        return len(self.v4) + len(self.v6)

    def find(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Any:
        return (self.v4 if ip.version == 4 else self.v6).find(int(ip))


# --- cloud provider ranges ----------------------------------------------------------------------


@dataclass(frozen=True)
class CloudRange:
    provider: str  # aws, gcp, azure
    service: str | None  # EC2, S3, Google Cloud, AzureCloud.westeurope, Storage, ...
    region: str | None
    generic: bool  # the catch-all block (AWS AMAZON, Azure AzureCloud): loses to a specific one
    file: str = ""  # the ranges file it came from, for --explain


def cloud_ranges_from_bytes(data: bytes, path: str) -> list[tuple[Any, CloudRange]]:
    """AWS ip-ranges.json, GCP cloud.json (or goog.json) or Azure Service Tags JSON, told apart by shape."""
    where = f"cloud ranges {path}"
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ReferenceDataError(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ReferenceDataError(f"{where}: expected a JSON object")
    out: list[tuple[Any, CloudRange]] = []
    prefixes = doc.get("prefixes")
    if isinstance(doc.get("values"), list):  # Azure Service Tags
        for v in doc["values"]:
            props = v.get("properties") if isinstance(v, dict) else None
            if not isinstance(props, dict) or not isinstance(props.get("addressPrefixes"), list):
                raise ReferenceDataError(f"{where}: a Service Tags value without properties.addressPrefixes")
            name = str(v.get("name") or v.get("id") or "")
            service = props.get("systemService") or name or None
            info = CloudRange("azure", name or service, props.get("region") or None,
                              generic=name.split(".")[0] == "AzureCloud" or not props.get("systemService"),
                              file=path)
            out.extend((_network(p, where), info) for p in props["addressPrefixes"])
    elif isinstance(prefixes, list) and ("ipv6_prefixes" in doc or any("ip_prefix" in p for p in prefixes[:1])):
        for p in [*prefixes, *(doc.get("ipv6_prefixes") or [])]:  # AWS
            text = p.get("ip_prefix") or p.get("ipv6_prefix")
            if not text:
                raise ReferenceDataError(f"{where}: an AWS prefix without ip_prefix/ipv6_prefix")
            service = p.get("service")
            info = CloudRange("aws", service, p.get("region"), generic=service in (None, "AMAZON"), file=path)
            out.append((_network(text, where), info))
    elif isinstance(prefixes, list):  # GCP cloud.json / goog.json
        for p in prefixes:
            text = p.get("ipv4Prefix") or p.get("ipv6Prefix")
            if not text:
                raise ReferenceDataError(f"{where}: a GCP prefix without ipv4Prefix/ipv6Prefix")
            info = CloudRange("gcp", p.get("service") or "Google", p.get("scope"), generic=not p.get("service"),
                              file=path)
            out.append((_network(text, where), info))
    else:
        raise ReferenceDataError(
            f"{where}: not AWS ip-ranges.json, GCP cloud.json or Azure Service Tags JSON (no 'prefixes' or 'values')"
        )
    if not out:
        raise ReferenceDataError(f"{where}: no prefixes")
    return out


def _specific_wins(outer: CloudRange, inner: CloudRange) -> CloudRange:
    # Same block listed generic-first and specific-second (AWS lists 52.95.0.0/16 as AMAZON and as S3).
    return outer if inner.generic and not outer.generic else inner


def _cloud_rank(item: tuple[Any, CloudRange]) -> tuple[int, int]:
    return (0 if item[1].generic else 1, 0)


# --- indicators -----------------------------------------------------------------------------------

DEFAULT_INDICATOR_TAG = "threat_indicator"


@dataclass(frozen=True)
class Indicators:
    ips: DualTable  # networks and single addresses -> frozenset of tags
    domains: dict[str, frozenset[str]]  # lower-cased domain -> tags (sub-domains match too)

    @classmethod
    def from_bytes(cls, data: bytes, path: str) -> Indicators:
        """One indicator a line: ``ADDRESS|CIDR|DOMAIN [TAG[,TAG]...]``; ``#`` starts a comment."""
        nets: list[tuple[Any, frozenset[str]]] = []
        domains: dict[str, frozenset[str]] = {}
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ReferenceDataError(f"indicators {path}: not UTF-8 text") from None
        for n, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            indicator, *rest = line.replace("\t", " ").split(None, 1)
            tags = frozenset(t.strip() for t in (rest[0] if rest else "").replace(" ", ",").split(",") if t.strip())
            tags = tags or frozenset({DEFAULT_INDICATOR_TAG})
            try:
                nets.append((ipaddress.ip_network(indicator, strict=False), tags))
                continue
            except ValueError:
                pass
            dom = indicator.lower().rstrip(".")
            if "." not in dom or "/" in dom or ":" in dom:
                raise ReferenceDataError(f"indicators {path}: line {n}: not an address, network or domain: {indicator!r}")
            domains[dom] = domains.get(dom, frozenset()) | tags
        if not nets and not domains:
            raise ReferenceDataError(f"indicators {path}: no indicators")
        return cls(DualTable(nets, merge=lambda outer, inner: outer | inner), domains)

    def for_domain(self, domain: str) -> frozenset[str] | None:
        d = domain.lower()
        while True:
            tags = self.domains.get(d)
            if tags is not None:
                return tags
            if "." not in d:
                return None
            d = d.split(".", 1)[1]


# --- MaxMind databases --------------------------------------------------------------------------


def open_mmdb(path: str, what: str) -> Any:
    """A maxminddb reader (the C extension, memory-mapped, when installed). URIs are copied to a local
    temporary file once per process: the reader needs a file."""
    import maxminddb

    local = path
    if "://" in path:
        data = read_bytes(path, what)
        fd, local = tempfile.mkstemp(suffix=".mmdb", prefix="cloudaudit-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    try:
        return maxminddb.open_database(local)
    except FileNotFoundError:
        raise ReferenceDataError(f"{what} file not found: {path}") from None
    except Exception as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ReferenceDataError(f"{what} {path} is not a MaxMind database: {first}") from None


def _geo_from_record(rec: Any) -> Geo | None:
    if not isinstance(rec, dict):
        return None
    country = (rec.get("country") or rec.get("registered_country") or {}).get("iso_code")
    subs = rec.get("subdivisions") or []
    region = None
    if subs and isinstance(subs[0], dict):
        region = (subs[0].get("names") or {}).get("en") or subs[0].get("iso_code")
    city = ((rec.get("city") or {}).get("names") or {}).get("en")
    loc = rec.get("location") or {}
    lat, lon = loc.get("latitude"), loc.get("longitude")
    if not (country or region or city or lat is not None):
        return None
    return Geo(country=country, region=region, city=city, lat=lat, lon=lon)


# --- the answer for one address -----------------------------------------------------------------


@dataclass(frozen=True)
class SourceFacts:
    """Everything the network enricher sets for one address (or domain), with where each part came from."""

    geo: Geo | None = None
    asn: int | None = None
    as_org: str | None = None
    cloud_provider: str | None = None
    cloud_service: str | None = None
    internal: bool | None = None
    threat_tags: tuple[str, ...] = ()
    sources: tuple[tuple[str, str], ...] = ()  # (field, source) for --explain

    @property
    def assignments(self) -> dict[str, Any]:
        """The NetworkSource fields this answer sets, as canonical document values (``geo`` as
        ``Geo.model_dump()``; computed once per address, then reused)."""
        out: dict[str, Any] = {}
        if self.geo is not None:
            out["geo"] = self.geo.model_dump()
        if self.asn is not None:
            out["asn"] = self.asn
            out["as_org"] = self.as_org
        if self.cloud_provider is not None:
            out["cloud_provider"] = self.cloud_provider
            out["cloud_service"] = self.cloud_service
        if self.internal is not None:
            out["internal"] = self.internal
        return out


_SERVICE_DOMAINS = (
    (".amazonaws.com", "aws"), (".amazon.com", "aws"), (".googleapis.com", "gcp"), (".azure.com", "azure"),
    (".windows.net", "azure"),
)
# Domains GCP writes instead of an address for calls from inside its network.
_GCP_INTERNAL = ("private", "gce-internal-ip")


class NetworkIndex:
    """All network reference data, and the per-address answer cache."""

    def __init__(
        self,
        geo_reader: Any = None,
        asn_reader: Any = None,
        clouds: DualTable | None = None,
        internal: DualTable | None = None,
        indicators: Indicators | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        self.geo_reader = geo_reader
        self.asn_reader = asn_reader
        self.clouds = clouds
        self.internal = internal
        self.indicators = indicators
        self.names = names or {}  # "geo" -> the file it came from, for explanations
        self._ips: dict[str, tuple[SourceFacts | None, dict[str, Any]]] = {}
        self._domains: dict[str, SourceFacts | None] = {}

    def for_ip(self, text: str) -> SourceFacts | None:
        return self.cached_ip(text)[0]

    def cached_ip(self, text: str) -> tuple[SourceFacts | None, dict[str, Any]]:
        """(facts, the fields they set) for one address, looked up once and then kept (bounded)."""
        hit = self._ips.get(text)
        if hit is None:
            facts = self._lookup_ip(text)
            hit = (facts, facts.assignments if facts is not None else {})
            if len(self._ips) >= _CACHE_MAX:
                self._ips.clear()
            self._ips[text] = hit
        return hit

    def _lookup_ip(self, text: str) -> SourceFacts | None:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            return None
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        sources: list[tuple[str, str]] = []
        geo = asn = as_org = None
        if self.geo_reader is not None:
            rec = self.geo_reader.get(ip)
            geo = _geo_from_record(rec)
            if geo is not None:
                sources.append(("where.source.geo", f"geo database {self.names.get('geo')}"))
            if self.asn_reader is None and isinstance(rec, dict):  # one database may hold both
                asn = rec.get("autonomous_system_number")
                as_org = rec.get("autonomous_system_organization")
        if self.asn_reader is not None:
            rec = self.asn_reader.get(ip)
            if isinstance(rec, dict):
                asn = rec.get("autonomous_system_number")
                as_org = rec.get("autonomous_system_organization")
        if asn is not None:
            sources.append(("where.source.asn", f"ASN database {self.names.get('asn') or self.names.get('geo')}"))
        cloud: CloudRange | None = self.clouds.find(ip) if self.clouds is not None else None
        if cloud is not None:
            sources.append(("where.source.cloud_provider", f"cloud ranges {cloud.file}: "
                            f"{cloud.provider} {cloud.service or ''} {cloud.region or ''}".rstrip()))
        internal = None
        if self.internal is not None:
            internal = bool(self.internal.find(ip))
            sources.append(("where.source.internal", f"internal networks {self.names.get('internal')}"))
        tags: tuple[str, ...] = ()
        if self.indicators is not None:
            found = self.indicators.ips.find(ip)
            if found:
                tags = tuple(sorted(found))
                sources.append(("where.source.threat_tags", f"indicators {self.names.get('indicators')}"))
        return SourceFacts(
            geo, int(asn) if asn is not None else None, as_org,
            cloud.provider if cloud else None, cloud.service if cloud else None,
            internal, tags, tuple(sources),
        )

    def for_domain(self, domain: str) -> SourceFacts | None:
        facts = self._domains.get(domain, _MISSING)
        if facts is _MISSING:
            facts = self._lookup_domain(domain)
            if len(self._domains) >= 4096:
                self._domains.clear()
            self._domains[domain] = facts
        return facts  # type: ignore[return-value]

    def _lookup_domain(self, domain: str) -> SourceFacts | None:
        low = domain.lower()
        provider = service = None
        internal = None
        sources: list[tuple[str, str]] = []
        if low == "aws internal":
            provider, service = "aws", "AWS Internal"
        elif low in _GCP_INTERNAL:
            provider, internal = "gcp", True
            sources.append(("where.source.internal", f"GCP's caller domain {domain!r} (inside Google's network)"))
        else:
            for suffix, cloud in _SERVICE_DOMAINS:
                if low.endswith(suffix):
                    provider, service = cloud, low
                    break
        if provider:
            sources.append(("where.source.cloud_provider", f"service host name {domain!r}"))
        tags: tuple[str, ...] = ()
        if self.indicators is not None:
            found = self.indicators.for_domain(low)
            if found:
                tags = tuple(sorted(found))
                sources.append(("where.source.threat_tags", f"indicators {self.names.get('indicators')}"))
        if not (provider or tags):
            return None
        return SourceFacts(cloud_provider=provider, cloud_service=service, internal=internal,
                           threat_tags=tags, sources=tuple(sources))


_MISSING: Any = object()


def internal_table(entries: Iterable[str], read: Callable[[str], bytes]) -> DualTable:
    """CIDRs from configuration; an entry that is not a CIDR is a file of CIDRs, one a line."""
    nets = []
    for entry in entries:
        try:
            nets.append(ipaddress.ip_network(entry.strip(), strict=False))
            continue
        except ValueError:
            pass
        text = read(entry).decode("utf-8", "replace")
        for n, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if line:
                nets.append(_network(line, f"internal networks {entry}: line {n}"))
    return DualTable((n, True) for n in nets)


def cloud_table(files: Iterable[tuple[str, bytes]]) -> DualTable:
    items: list[tuple[Any, CloudRange]] = []
    for path, data in files:
        items.extend(cloud_ranges_from_bytes(data, path))
    # Generic blocks first, so that when the same block is listed twice the specific one nests inside.
    items.sort(key=_cloud_rank)
    return DualTable(items, merge=_specific_wins)


# --- the enricher -------------------------------------------------------------------------------


@register
class NetworkEnricher(Enricher):
    """``where.source``: geo, ASN, cloud provider/service, internal, threat tags."""

    name = "network"

    def __init__(self, index: NetworkIndex) -> None:
        self.index = index

    def enrich(self, doc: Doc, trace: Trace | None = None) -> str:
        src = doc["where"]["source"]
        ip = src["ip"]
        if ip:
            facts, fields = self.index.cached_ip(ip)
        elif src["domain"]:
            facts = self.index.for_domain(src["domain"])
            fields = facts.assignments if facts is not None else {}
        else:
            return "none"
        if facts is None:
            return "miss"
        # One dict update: the values are canonical (built and checked once per address); the keys are
        # already in the document, so its field order stays the model's. ``geo`` is copied per event.
        src.update(fields)
        geo = fields.get("geo")
        if geo is not None:
            src["geo"] = geo.copy()
        if facts.threat_tags:
            src["threat_tags"] = list(dict.fromkeys([*src["threat_tags"], *facts.threat_tags]))
        if trace is not None:
            for fname, source in facts.sources:
                value = _get_path(doc, fname)
                trace.append(Explanation(
                    fname, {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value,
                    source,
                ))
                if fname == "where.source.cloud_provider" and src["cloud_service"]:
                    trace.append(Explanation("where.source.cloud_service", src["cloud_service"], source))
                if fname == "where.source.asn":
                    trace.append(Explanation("where.source.as_org", src["as_org"], source))
        return "hit" if facts.sources else "miss"


def _get_path(doc: Doc, path: str) -> Any:
    obj: Any = doc
    for part in path.split("."):
        obj = obj[part]
    return obj
