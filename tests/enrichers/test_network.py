"""Network enrichment: range tables, cloud range files of the three shapes, MaxMind lookups, internal
networks, indicators and service host names."""

from __future__ import annotations

import ipaddress
import random
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from enrichers._files import ReferenceDataError
from enrichers.chain import Chain
from enrichers.network import (
    DualTable,
    Indicators,
    NetworkEnricher,
    NetworkIndex,
    RangeTable,
    cloud_ranges_from_bytes,
    cloud_table,
    internal_table,
    open_mmdb,
)
from schemas.event import Event
from tests.enrichers.conftest import REF, connector_events, on_model

RANGES = [REF / "aws-ip-ranges.json", REF / "gcp-cloud.json", REF / "azure-service-tags.json"]


@pytest.fixture(scope="module")
def clouds() -> DualTable:
    return cloud_table((str(p), p.read_bytes()) for p in RANGES)


def _find(table: DualTable, ip: str) -> Any:
    return table.find(ipaddress.ip_address(ip))


def test_flattened_table_agrees_with_a_linear_scan() -> None:
    """Random nested CIDRs: the bisect answer is the innermost (last listed) block, as a scan finds it."""
    rng = random.Random(5)
    nets = []
    for i in range(300):
        prefix = rng.choice([8, 12, 16, 20, 24, 28, 32])
        base = rng.choice([10, 11]) << 24 | rng.getrandbits(24)
        nets.append((ipaddress.ip_network((base, prefix), strict=False), i))
    table = RangeTable(((int(n.network_address), int(n.broadcast_address), v) for n, v in nets),
                       merge=lambda outer, inner: inner)
    ordered = sorted(nets, key=lambda nv: (int(nv[0].network_address), -int(nv[0].broadcast_address)))
    for _ in range(3000):
        ip = ipaddress.ip_address(rng.choice([10, 11, 12]) << 24 | rng.getrandbits(24))
        want = None
        for net, value in ordered:  # the last containing block in sweep order is the innermost
            if ip in net:
                want = value
        assert table.find(int(ip)) == want, ip


@pytest.mark.parametrize(("ip", "provider", "service"), [
    ("3.5.141.7", "aws", "S3"),  # listed as AMAZON and as S3: the specific one wins
    ("54.240.196.10", "aws", "EC2"),  # EC2 inside the AMAZON /12
    ("54.241.0.1", "aws", "AMAZON"),  # only the catch-all
    ("2600:1f18::5", "aws", "EC2"),
    ("2600:1f00::5", "aws", "AMAZON"),
    ("34.34.130.1", "gcp", "Google Cloud"),
    ("2600:1900:4000::1", "gcp", "Google Cloud"),
    ("20.38.108.9", "azure", "Storage.WestEurope"),  # Storage inside AzureCloud.westeurope inside AzureCloud
    ("20.38.200.1", "azure", "AzureCloud"),
    ("40.75.1.1", "azure", "AzureCloud"),
])
def test_cloud_ranges_of_the_three_providers(clouds: DualTable, ip: str, provider: str, service: str) -> None:
    found = _find(clouds, ip)
    assert found is not None and (found.provider, found.service) == (provider, service)


def test_addresses_outside_every_range(clouds: DualTable) -> None:
    for ip in ("198.51.100.1", "10.0.0.1", "2001:db8::1", "0.0.0.0", "255.255.255.255"):
        assert _find(clouds, ip) is None


@pytest.mark.parametrize(("doc", "problem"), [
    ({"syncToken": "1", "prefixes": [{"ip_prefix": "3.0.0.0/33", "service": "EC2"}]}, "not an IP network"),
    ({"creationTime": "x", "prefixes": [{"scope": "us"}]}, "without ipv4Prefix"),
    ({"values": [{"name": "AzureCloud"}]}, "without properties.addressPrefixes"),
    ({"something": []}, "not AWS ip-ranges.json"),
    ([1, 2], "expected a JSON object"),
])
def test_broken_cloud_range_files(doc: object, problem: str) -> None:
    with pytest.raises(ReferenceDataError) as err:
        cloud_ranges_from_bytes(orjson.dumps(doc), "r.json")
    assert problem in str(err.value)
    with pytest.raises(ReferenceDataError, match="not valid JSON"):
        cloud_ranges_from_bytes(b"{", "r.json")


def test_indicators_match_addresses_networks_and_domains() -> None:
    ind = Indicators.from_bytes(
        b"# comment\n185.220.101.0/24 tor_exit\n185.220.101.7 scanner, bruteforce\nevil.example\n2001:db8:bad::/48 c2\n",
        "i.txt",
    )
    assert ind.ips.find(ipaddress.ip_address("185.220.101.7")) == {"tor_exit", "scanner", "bruteforce"}
    assert ind.ips.find(ipaddress.ip_address("185.220.101.8")) == {"tor_exit"}
    assert ind.ips.find(ipaddress.ip_address("2001:db8:bad::1")) == {"c2"}
    assert ind.ips.find(ipaddress.ip_address("185.220.102.1")) is None
    assert ind.for_domain("login.EVIL.example") == {"threat_indicator"}
    assert ind.for_domain("notevil.example") is None
    with pytest.raises(ReferenceDataError, match="line 2"):
        Indicators.from_bytes(b"1.2.3.4\nnot_an_indicator\n", "i.txt")


def test_internal_networks_from_cidrs_and_files() -> None:
    table = internal_table(["10.0.0.0/8", str(REF / "internal_networks.txt")], lambda p: Path(p).read_bytes())
    assert _find(table, "10.20.30.40") and _find(table, "192.168.1.1") and _find(table, "172.31.0.1")
    assert _find(table, "8.8.8.8") is None


def test_mmdb_lookups(mmdbs: tuple[Path, Path]) -> None:
    city, asn = mmdbs
    index = NetworkIndex(open_mmdb(str(city), "geo"), open_mmdb(str(asn), "asn"))
    facts = index.for_ip("198.51.100.23")
    assert facts is not None and facts.geo is not None
    assert (facts.geo.country, facts.geo.city, facts.asn, facts.as_org) == ("DE", "Berlin", 64500, "Example Telecom")
    v6 = index.for_ip("2001:db8::1")
    assert v6 is not None and v6.geo is not None and v6.geo.country == "NL" and v6.asn == 64504
    mapped = index.for_ip("::ffff:198.51.100.23")  # an IPv4-mapped IPv6 address is its IPv4 address
    assert mapped is not None and mapped.asn == 64500
    assert index.for_ip("10.1.1.1") == index.for_ip("10.1.1.1")  # cached
    assert index.for_ip("not-an-ip") is None
    with pytest.raises(ReferenceDataError, match="not found"):
        open_mmdb("/nonexistent/x.mmdb", "geo database")


def test_broken_mmdb_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(b"this is not a MaxMind database")
    with pytest.raises(ReferenceDataError, match="is not a MaxMind database"):
        open_mmdb(str(bad), "geo database")


def _index(clouds: DualTable) -> NetworkIndex:
    return NetworkIndex(
        clouds=clouds,
        internal=internal_table(["10.0.0.0/8"], lambda p: b""),
        indicators=Indicators.from_bytes((REF / "indicators.txt").read_bytes(), "indicators.txt"),
    )


def test_enricher_on_real_events(clouds: DualTable) -> None:
    chain = Chain([NetworkEnricher(_index(clouds))])
    counts: Counter[str] = Counter()
    events: list[Event] = [
        *connector_events("aws_service_and_invoked_by.jsonl"),
        *connector_events("anonymous_unknown_and_missing_identity.jsonl"),
        *connector_events("caller_ip_forms.jsonl"),
        *connector_events("role_session_on_behalf_of_and_source_identity.jsonl"),
    ]
    for e in events:
        on_model(chain.apply, e, counts)
    by_domain = {e.where.source.domain: e.where.source for e in events if e.where.source.domain}
    assert by_domain["lambda.amazonaws.com"].cloud_provider == "aws"
    assert by_domain["lambda.amazonaws.com"].cloud_service == "lambda.amazonaws.com"
    assert by_domain["AWS Internal"].cloud_provider == "aws"
    assert by_domain["gce-internal-ip"].internal is True and by_domain["private"].cloud_provider == "gcp"
    tor = [e for e in events if e.where.source.ip == "185.220.101.4"]
    assert tor and tor[0].where.source.threat_tags == ["tor_exit"] and tor[0].where.source.internal is False
    inside = [e for e in events if e.where.source.ip == "10.20.30.40"]
    assert inside and inside[0].where.source.internal is True
    assert sum(counts.values()) == len(events)
    assert counts["enrich/network/error"] == 0
