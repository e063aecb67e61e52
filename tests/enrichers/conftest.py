"""Reference data for the enrichment tests: the files in enrichers/testdata and MaxMind databases built
here with mmdb-writer (no binary in the repository, nothing downloaded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.normalize import Normalizer
from enrichers.config import EnrichmentConfig
from schemas.event import Event
from tests.conftest import ROOT

REF = ROOT / "enrichers" / "testdata"
HERE = Path(__file__).resolve().parent / "testdata"


@pytest.fixture(scope="session")
def mmdbs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    pytest.importorskip("mmdb_writer", reason="mmdb-writer is needed to build the test MaxMind databases")
    from enrichers.testdata.mmdb import build

    return build(tmp_path_factory.mktemp("mmdb"))


@pytest.fixture(scope="session")
def full_config(mmdbs: tuple[Path, Path]) -> EnrichmentConfig:
    city, asn = mmdbs
    return EnrichmentConfig(
        directory=str(REF / "directory.yaml"),
        inventory=str(REF / "inventory.yaml"),
        geoip_db=str(city),
        asn_db=str(asn),
        cloud_ranges=tuple(str(REF / n) for n in ("aws-ip-ranges.json", "gcp-cloud.json", "azure-service-tags.json")),
        internal_networks=(str(REF / "internal_networks.txt"),),
        indicators=str(REF / "indicators.txt"),
    )


def events_of(path: Path) -> list[Event]:
    out = [r for r in Normalizer().blob(path.read_bytes(), path.relative_to(ROOT).as_posix()) if isinstance(r, Event)]
    assert out, f"{path} gave no events"
    return out


def connector_events(name: str) -> Iterator[Event]:
    """Events of connectors' golden fixtures by file name (connectors/*/testdata/NAME; several connectors
    may have a fixture of that name)."""
    paths = sorted(ROOT.glob(f"connectors/*/testdata/{name}"))
    assert paths, name
    for path in paths:
        yield from events_of(path)
