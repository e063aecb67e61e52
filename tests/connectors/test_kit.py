"""The onboarding kit: ``cloudaudit new-source`` writes a package that loads, maps its first fixture and
fails its golden test until the expected output is written; the registry orders and checks connectors."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors import kit
from connectors.base import Connector, MapContext
from connectors.normalize import Normalizer
from connectors.registry import RegistryError, check, connectors, ordered, register, unregister
from pipelines.cli import main
from schemas.event import Event


def _load(pkg: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(
        f"connectors.{name}", pkg / "__init__.py", submodule_search_locations=[str(pkg)]
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    try:
        spec.loader.exec_module(mod)
    finally:
        for k in [k for k in sys.modules if k == spec.name or k.startswith(spec.name + ".")]:
            del sys.modules[k]
    return mod


def test_new_source_writes_a_skeleton_that_maps_its_sample_and_has_a_failing_golden_test(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = tmp_path / "sample.json"
    sample.write_bytes(orjson.dumps({
        "uuid": "u-1", "published": "2025-01-14T09:30:00Z", "eventType": "user.session.start",
        "actor": {"id": "00u1", "email": "dana@example.com"}, "client": {"ipAddress": "192.0.2.44"},
        "outcome": "success", "okta": True,
    }))
    rc = main(["new-source", "okta_system", "--provider", "okta", "--log", "system",
               "--sample", str(sample), "--root", str(tmp_path)])
    assert rc == 0
    pkg = tmp_path / "connectors" / "okta_system"
    assert {p.name for p in pkg.iterdir()} >= {"__init__.py", "parse.py", "tables.py", "mapping.py", "README.md"}
    assert (tmp_path / "docs" / "sources-okta_system.md").exists()
    fixture = pkg / "testdata" / "first_record.json"
    assert not kit.expected_path(fixture).exists()  # the first golden test fails until it is written

    mod = _load(pkg, "okta_system")
    c: Connector = mod.CONNECTOR
    assert (c.name, c.format, c.provider) == ("okta_system", "okta.system", "okta")
    register(c)
    try:
        [ev] = list(Normalizer().blob(fixture.read_bytes(), "first"))
    finally:
        unregister(c)
    assert c not in connectors()
    assert isinstance(ev, Event)
    assert ev.source.format == "okta.system" and ev.where.provider == "okta"
    assert ev.who.actor.email == "dana@example.com" and ev.where.source.ip == "192.0.2.44"


def test_new_source_refuses_bad_names_and_existing_folders(tmp_path: Path) -> None:
    with pytest.raises(kit.SkeletonError):
        kit.write_skeleton("Bad-Name", tmp_path)
    kit.write_skeleton("acme_idp", tmp_path)
    with pytest.raises(kit.SkeletonError, match="already exists"):
        kit.write_skeleton("acme_idp", tmp_path)
    assert main(["new-source", "class", "--root", str(tmp_path)]) == 2


class _Fake(Connector):
    def __init__(self, name: str, fmt: str, provider: str, before: tuple[str, ...] = ()) -> None:
        self.name, self.format, self.provider, self.before = name, fmt, provider, before

    def claims(self, record: dict[str, Any]) -> bool:
        return False

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any]:
        raise NotImplementedError


def test_registry_orders_by_before_and_refuses_clashes() -> None:
    a, b, c = _Fake("a", "x.a", "x"), _Fake("b", "x.b", "x"), _Fake("c", "y.c", "y", before=("a",))
    assert [x.name for x in ordered([a, b, c])] == ["c", "a", "b"]
    with pytest.raises(RegistryError, match="twice"):
        check([a, _Fake("a", "x.z", "x")])
    with pytest.raises(RegistryError, match="claimed by"):
        check([a, _Fake("d", "x.a", "x")])
    with pytest.raises(RegistryError, match="provider"):
        check([_Fake("e", "x.e", "X Corp")])
    with pytest.raises(RegistryError, match="not registered"):
        check([_Fake("f", "x.f", "x", before=("nobody",))])


def test_unregistered_vocabulary_words_are_refused() -> None:
    from pydantic import ValidationError

    base = {"id": "1", "when": {"time": "2025-01-14T00:00:00Z"}, "what": {"action": "a", "operation": "a"},
            "where": {"provider": "aws"}, "source": {"format": "aws.cloudtrail"}}
    Event.model_validate(base)
    with pytest.raises(ValidationError, match="registered provider"):
        Event.model_validate({**base, "where": {"provider": "oracle"}})
    with pytest.raises(ValidationError, match="registered format"):
        Event.model_validate({**base, "source": {"format": "oracle.audit"}})


def test_an_installed_distribution_registers_a_connector_through_its_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A third-party package: no folder under connectors/, one ``cloudaudit.connectors`` entry point."""
    import connectors.registry as registry

    site = tmp_path / "site"
    site.mkdir()
    kit.write_skeleton("acme_plugin", tmp_path / "src", provider="acmeplug")
    # the skeleton's package, installed under its own top-level name
    pkg = site / "cloudaudit_acme"
    (tmp_path / "src" / "connectors" / "acme_plugin").rename(pkg)
    dist = site / "cloudaudit_acme-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cloudaudit-acme\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[cloudaudit.connectors]\nacme = cloudaudit_acme:CONNECTOR\n")
    monkeypatch.syspath_prepend(str(site))
    registry._clear()
    try:
        found = {c.name: c for c in connectors()}
        assert "acme_plugin" in found
        assert "acmeplug" in registry.vocabulary("provider")
        assert found["acme_plugin"].format == "acmeplug.audit"
    finally:
        monkeypatch.undo()
        for k in [k for k in sys.modules if k == "cloudaudit_acme" or k.startswith("cloudaudit_acme.")]:
            del sys.modules[k]
        registry._clear()
    assert "acme_plugin" not in {c.name for c in connectors()}
