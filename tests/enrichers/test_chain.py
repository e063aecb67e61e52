"""The chain (order, counting, failures), the config file, and loading/caching of the reference data."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from enrichers._files import ReferenceDataError
from enrichers.chain import ORDER, REGISTRY, Chain, Enricher, Trace, outcome_counts
from enrichers.config import EnrichmentConfig
from enrichers.context import build_context, context_for, load_context, load_reference
from pipelines.errors import UsageError
from schemas.fastpath import Doc
from tests.enrichers.conftest import REF, assert_canonical, connector_events


class Boom(Enricher):
    name = "boom"

    def enrich(self, doc: Doc, trace: Trace | None = None) -> str:
        doc["what"]["risk_tags"].append("half-done")
        raise RuntimeError("lookup service down")


class Tagger(Enricher):
    name = "tagger"

    def enrich(self, doc: Doc, trace: Trace | None = None) -> str:
        doc["what"]["risk_tags"].append("tagged")
        return "hit"


def test_a_failing_enricher_never_drops_the_event_and_is_counted() -> None:
    events = [e.model_dump() for e in connector_events("ipv6_source_address.jsonl")]
    counts: Counter[str] = Counter()
    chain = Chain([Boom(), Tagger()])
    out = [chain.apply(e, counts) for e in events]
    assert all(a is b for a, b in zip(out, events, strict=True))  # in place
    assert all("tagged" in e["what"]["risk_tags"] for e in events)  # the next enricher still ran
    for e in events:
        assert_canonical(e)
    assert counts == {"enrich/boom/error": len(events), "enrich/tagger/hit": len(events)}
    assert outcome_counts(counts) == {"boom": {"error": len(events)}, "tagger": {"hit": len(events)}}


def test_registry_holds_every_enricher_of_the_order() -> None:
    assert set(ORDER) <= set(REGISTRY)


def test_full_chain_in_order(full_config: EnrichmentConfig) -> None:
    ctx = load_context(full_config)
    assert ctx.chain.names == list(ORDER)


def test_config_file_yaml_and_json_with_relative_paths(tmp_path: Path) -> None:
    ref = tmp_path / "ref"
    shutil.copytree(REF, ref, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (tmp_path / "enrich.yaml").write_text(
        "directory: ref/directory.yaml\ninventory: ref/inventory.csv\n"
        "cloud_ranges: [ref/aws-ip-ranges.json]\ninternal_networks: [10.0.0.0/8, ref/internal_networks.txt]\n"
        "indicators: ref/indicators.txt\nrefresh_seconds: 60\n"
    )
    cfg = EnrichmentConfig.from_file(str(tmp_path / "enrich.yaml"))
    assert cfg.directory == str(ref / "directory.yaml")
    assert cfg.internal_networks == ("10.0.0.0/8", str(ref / "internal_networks.txt"))
    assert cfg.refresh_seconds == 60
    (tmp_path / "enrich.json").write_text('{"enrichment": {"directory": "ref/directory.yaml"}}')
    assert EnrichmentConfig.from_file(str(tmp_path / "enrich.json")).directory == str(ref / "directory.yaml")
    ctx = load_context(cfg)
    assert ctx.chain.names == ["identity", "account", "resource_tags", "network", "catalog"]
    merged = cfg.merged(directory="/other.yaml", cloud_ranges=[])
    assert merged.directory == "/other.yaml" and merged.cloud_ranges == cfg.cloud_ranges


@pytest.mark.parametrize(("text", "problem"), [
    ("directory: 5", "directory must be a path"),
    ("colour: red", "unknown key(s) colour"),
    ("refresh_seconds: 0", "refresh_seconds must be"),
    ("cloud_ranges: {a: b}", "must be a list of strings"),
    ("- a\n- b", "expected a mapping"),
    ("a: [", "not valid YAML/JSON"),
])
def test_broken_config_files(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as err:
        EnrichmentConfig.from_file(str(path))
    assert problem in str(err.value)


def test_missing_and_broken_reference_files_fail_at_load(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match=r"directory file not found: /nope/d\.yaml"):
        load_reference(EnrichmentConfig(directory="/nope/d.yaml"))
    bad = tmp_path / "inventory.yaml"
    bad.write_text("accounts: [{id: '1', environment: moon}]")
    with pytest.raises(ReferenceDataError, match="environment must be one of"):
        build_context(load_reference(EnrichmentConfig(inventory=str(bad))))
    bad_catalog = tmp_path / "catalog.yaml"
    bad_catalog.write_text("entries: 5\n")
    with pytest.raises(ReferenceDataError, match="action catalog"):
        build_context(load_reference(EnrichmentConfig(catalog=str(bad_catalog))))
    assert issubclass(ReferenceDataError, UsageError)  # the command line makes it one line, exit 2


def test_load_context_is_cheap_when_nothing_changed_and_reloads_when_a_file_did(tmp_path: Path) -> None:
    d = tmp_path / "directory.yaml"
    shutil.copy(REF / "directory.yaml", d)
    cfg = EnrichmentConfig(directory=str(d), use_catalog=False, refresh_seconds=5)
    first = load_context(cfg)
    assert load_context(cfg) is first
    text = d.read_text().replace("Alice Liddell", "Alice Kingsleigh")
    d.write_text(text)
    st = os.stat(d)
    os.utime(d, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    second = load_context(cfg)
    assert second is not first and second.digest != first.digest
    assert second.directory is not None and second.directory.index["sso:alice"].name == "Alice Kingsleigh"
    # The same content again (a worker getting the same side input): the cached build comes back.
    assert context_for(load_reference(cfg)) is second


def test_no_reference_and_no_catalog_is_an_empty_chain() -> None:
    ctx = build_context(load_reference(EnrichmentConfig(use_catalog=False)))
    assert not ctx.chain and ctx.chain.names == []


def test_refresh_keeps_the_running_context_when_a_file_breaks(tmp_path: Path) -> None:
    from enrichers.context import refresh_context

    d = tmp_path / "directory.yaml"
    shutil.copy(REF / "directory.yaml", d)
    cfg = EnrichmentConfig(directory=str(d), use_catalog=False)
    ctx, problem = refresh_context(cfg, None)
    assert ctx is not None and problem is None
    d.write_text("identities: [{id: x}]")
    st = os.stat(d)
    os.utime(d, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    again, problem = refresh_context(cfg, ctx)
    assert again is ctx and problem is not None and "no identifier" in problem


def test_enrichers_chosen_by_registered_name(full_config: EnrichmentConfig) -> None:
    from dataclasses import replace

    ctx = build_context(load_reference(replace(full_config, enrichers=("network", "identity"))))
    assert ctx.chain.names == ["identity", "network"]  # always in the chain's order
    with pytest.raises(ReferenceDataError, match="unknown enricher"):
        build_context(load_reference(replace(full_config, enrichers=("geo",))))
