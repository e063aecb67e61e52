"""Reference data in, a ready enrichment chain out: loaded once, checked at start-up, cached by content.

Three steps, so that each place pays only for what it needs:

* ``load_reference(config) -> ReferenceData``: reads the small reference files into bytes (and notes the
  MaxMind databases by path and digest). This is what enters the Beam pipeline as a side input: plain,
  picklable, the same on every worker.
* ``build_context(reference) -> EnrichmentContext``: parses and indexes everything and composes the
  ``Chain``. Cached per process by the reference's content digest, so each worker builds it once.
* ``load_context(config)``: both, for callers outside Beam (``cloudaudit enrich``, benchmarks) and for the
  streaming pipeline's periodic refresh: calling it again is cheap when no file changed (a ``stat`` per
  file), and returns the same context object.

Every problem in a reference file is a ``ReferenceDataError`` (a ``UsageError``: one line, exit status 2)
raised here, before any event is read.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from enrichers._files import ReferenceDataError, read_bytes
from enrichers.chain import ORDER, REGISTRY, Chain, Enricher, Explanation, Trace, register
from enrichers.config import EnrichmentConfig
from enrichers.identity import Directory, IdentityEnricher
from enrichers.network import Indicators as IndicatorList
from enrichers.network import NetworkEnricher, NetworkIndex, cloud_table, internal_table, open_mmdb
from enrichers.resources import AccountEnricher, Inventory, ResourceTagsEnricher
from schemas.event import Event
from schemas.fastpath import Doc


@dataclass(frozen=True)
class ReferenceData:
    """The configured reference data as bytes (the side input). MaxMind databases travel by path: they
    can be large and the reader memory-maps them; their digest still changes when they do."""

    config: EnrichmentConfig
    blobs: dict[str, bytes] = field(default_factory=dict)  # path -> content
    digest: str = ""

    @property
    def enabled(self) -> bool:
        return self.config.any_reference or self.config.use_catalog


@dataclass
class EnrichmentContext:
    """Parsed reference data and the chain over it."""

    reference: ReferenceData
    chain: Chain
    directory: Directory | None = None
    inventory: Inventory | None = None
    network: NetworkIndex | None = None
    catalog: Any = None

    @property
    def digest(self) -> str:
        return self.reference.digest

    def enrich(self, event: Event, counts: Any, trace: Trace | None = None) -> Event:
        """For callers holding a model: ``event`` enriched, as a new ``Event`` (``Chain.apply_event``)."""
        return self.chain.apply_event(event, counts, trace)


# --- step 1: bytes --------------------------------------------------------------------------------


def _file_digest(path: str, what: str) -> str:
    h = hashlib.sha256()
    if "://" in path:
        h.update(read_bytes(path, what))
        return h.hexdigest()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except FileNotFoundError:
        raise ReferenceDataError(f"{what} file not found: {path}") from None
    except OSError as exc:
        raise ReferenceDataError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    return h.hexdigest()


def _is_cidr(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def load_reference(config: EnrichmentConfig) -> ReferenceData:
    """Read every configured file (errors name the file); nothing is parsed yet."""
    blobs: dict[str, bytes] = {}
    h = hashlib.sha256(repr(config).encode())
    small = [
        (config.directory, "directory"), (config.inventory, "inventory"), (config.indicators, "indicators"),
        *((p, "cloud ranges") for p in config.cloud_ranges),
        *((p, "internal networks") for p in config.internal_networks if not _is_cidr(p)),
    ]
    if config.use_catalog and config.catalog:
        small.append((config.catalog, "action catalog"))
    for path, what in small:
        if path:
            blobs[path] = data = read_bytes(path, what)
            h.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
    for path, what in ((config.geoip_db, "geo database"), (config.asn_db, "ASN database")):
        if path:
            h.update(path.encode() + b"\0" + _file_digest(path, what).encode())
    return ReferenceData(config, blobs, h.hexdigest())


# --- step 2: indices and the chain ------------------------------------------------------------------


@register
class CatalogEnricher(Enricher):
    """``what.category``/``activity``/``risk_tags`` from the action catalog (enrichers.catalog)."""

    name = "catalog"

    def __init__(self, catalog: Any) -> None:
        self.catalog = catalog
        self._classify = catalog.classify

    def enrich(self, doc: Doc, trace: Trace | None = None) -> str:
        if trace is not None:
            for rule in self.catalog.match(doc):
                info = rule.explain()
                source = f"action catalog {self.catalog.path}" + (f" line {rule.line}" if rule.line else "")
                trace.append(Explanation("what.risk_tags", info.get("tags"), f"{source}: {info.get('reason')}"))
                if rule.category:
                    trace.append(Explanation("what.category", rule.category, source))
                if rule.activity:
                    trace.append(Explanation("what.activity", rule.activity, source))
        return "hit" if self._classify(doc) else "miss"


def _load_catalog(config: EnrichmentConfig) -> Any:
    try:
        from enrichers.catalog import Catalog, CatalogError
    except ImportError as exc:  # the catalog module is optional at import time; say so instead of crashing
        raise ReferenceDataError(f"the action catalog is not available: {exc}") from None
    try:
        return Catalog.load(config.catalog)
    except CatalogError as exc:
        raise ReferenceDataError(str(exc)) from None


def build_context(reference: ReferenceData) -> EnrichmentContext:
    """Parse everything (raising ``ReferenceDataError`` on the first problem) and compose the chain."""
    c = reference.config
    b = reference.blobs
    unknown = sorted(set(c.enrichers) - set(REGISTRY))
    if unknown:
        raise ReferenceDataError(f"unknown enricher(s) {', '.join(unknown)}; known: {', '.join(ORDER)}")
    directory = Directory.from_bytes(b[c.directory], c.directory) if c.directory else None
    inventory = Inventory.from_bytes(b[c.inventory], c.inventory) if c.inventory else None
    network = None
    if c.geoip_db or c.asn_db or c.cloud_ranges or c.internal_networks or c.indicators:
        names = {
            "geo": c.geoip_db or "", "asn": c.asn_db or "", "clouds": ", ".join(c.cloud_ranges),
            "internal": ", ".join(c.internal_networks), "indicators": c.indicators or "",
        }
        network = NetworkIndex(
            geo_reader=open_mmdb(c.geoip_db, "geo database") if c.geoip_db else None,
            asn_reader=open_mmdb(c.asn_db, "ASN database") if c.asn_db else None,
            clouds=cloud_table((p, b[p]) for p in c.cloud_ranges) if c.cloud_ranges else None,
            internal=internal_table(c.internal_networks, lambda p: b[p]) if c.internal_networks else None,
            indicators=IndicatorList.from_bytes(b[c.indicators], c.indicators) if c.indicators else None,
            names=names,
        )
    catalog = _load_catalog(c) if c.use_catalog else None
    steps: dict[str, Enricher] = {}
    if directory is not None:
        steps["identity"] = IdentityEnricher(directory)
    if inventory is not None:
        steps["account"] = AccountEnricher(inventory)
    if inventory is not None or c.any_reference or catalog is not None:  # tags a request sets need no file
        steps["resource_tags"] = ResourceTagsEnricher(inventory)
    if network is not None:
        steps["network"] = NetworkEnricher(network)
    if catalog is not None:
        steps["catalog"] = CatalogEnricher(catalog)
    chain = Chain(steps[name] for name in ORDER if name in steps and (not c.enrichers or name in c.enrichers))
    return EnrichmentContext(reference, chain, directory, inventory, network, catalog)


_built: dict[str, EnrichmentContext] = {}
_lock = threading.Lock()


def context_for(reference: ReferenceData) -> EnrichmentContext:
    """The context of this reference data, built once per process (Beam workers call this per bundle)."""
    ctx = _built.get(reference.digest)
    if ctx is None:
        with _lock:
            ctx = _built.get(reference.digest)
            if ctx is None:
                ctx = build_context(reference)
                if len(_built) >= 4:  # a long streaming job refreshes: keep only recent generations
                    _built.pop(next(iter(_built)))
                _built[reference.digest] = ctx
    return ctx


# --- step 3: both, cheap to repeat ------------------------------------------------------------------

_stamps: dict[EnrichmentConfig, tuple[tuple[Any, ...], EnrichmentContext]] = {}


def _stamp(config: EnrichmentConfig) -> tuple[Any, ...]:
    """What must change for a file to have changed: (path, size, mtime) per local file; for URIs the
    content is read again (object stores have no cheap mtime through Beam's FileSystems)."""
    paths = [config.directory, config.inventory, config.indicators, config.geoip_db, config.asn_db,
             config.catalog, *config.cloud_ranges, *(p for p in config.internal_networks if not _is_cidr(p))]
    out: list[Any] = []
    for p in paths:
        if not p:
            continue
        if "://" in p:
            return ()  # no cheap stamp: always reload (the digest still avoids a rebuild)
        try:
            st = os.stat(p)
        except OSError:
            return ()
        out.append((p, st.st_size, st.st_mtime_ns))
    return tuple(out)


def prepare(config: EnrichmentConfig | None) -> ReferenceData | None:
    """The checked reference data, or None when there is nothing to enrich with (``enrichers.beam`` hands it
    to the workers; ``hunt`` over raw files uses it without importing Beam)."""
    reference = load_reference(config if config is not None else EnrichmentConfig())
    context = context_for(reference)  # parses and validates every file now, not per event
    return reference if context.chain else None


def enrich_document(doc: Doc, context: EnrichmentContext | None, counts: Any, keep_raw: bool = True) -> Doc:
    """``doc`` enriched in place (when there is a context), then without ``raw`` unless the run keeps it.

    The catalog's ``raw_contains``/``raw_has_item`` conditions read the original record (GCP's policy deltas
    are only there), so a run that does not keep ``raw`` must still enrich with it: normalize with
    ``keep_raw=True`` and give the run's choice here. Dropped before enrichment, ``--no-raw`` silently
    changed risk tags, and so alerts.
    """
    if context is not None:
        context.chain.apply(doc, counts)
    if not keep_raw:
        doc["raw"] = None
    return doc


def enriched_event(doc: Doc, context: EnrichmentContext | None, counts: Any) -> Event:
    """A normalized event's canonical document (``Normalizer(documents=True)``), enriched when there is a
    context, as the ``Event`` model that rules read: validated once, where enriching a model costs a dump
    and a second validation (``EnrichmentContext.enrich``)."""
    return Event.model_validate(enrich_document(doc, context, counts))


def load_context(config: EnrichmentConfig) -> EnrichmentContext:
    """Load, check and build; when no file changed since the last call with this config, the same
    context comes back after one ``stat`` per file (the streaming pipeline calls this every
    ``config.refresh_seconds``)."""
    stamp = _stamp(config)
    cached = _stamps.get(config)
    if stamp and cached is not None and cached[0] == stamp:
        return cached[1]
    ctx = context_for(load_reference(config))
    if stamp:
        _stamps[config] = (stamp, ctx)
    return ctx


def refresh_context(
    config: EnrichmentConfig, current: EnrichmentContext | None
) -> tuple[EnrichmentContext | None, str | None]:
    """For a long-running (streaming) job: ``load_context``, but a file that broke after start-up keeps
    the ``current`` context running and returns the one-line problem to log, instead of stopping."""
    try:
        return load_context(config), None
    except ReferenceDataError as exc:
        return current, str(exc)
