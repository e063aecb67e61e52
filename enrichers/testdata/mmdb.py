"""Build the small MaxMind-format test databases (City and ASN) with ``mmdb-writer``: no binary is kept in
the repository and nothing is downloaded. Tests build them in a fixture; for a demo:

    python -m enrichers.testdata.mmdb OUT_DIR     # writes OUT_DIR/test-city.mmdb and OUT_DIR/test-asn.mmdb

The records follow the GeoIP2/GeoLite2 City and ASN layouts (``country.iso_code``,
``subdivisions[0].names.en``, ``city.names.en``, ``location.latitude``; ``autonomous_system_number``,
``autonomous_system_organization``), on documentation address ranges.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def _city(country: str, country_name: str, region: str, region_code: str, city: str, lat: float,
          lon: float) -> dict[str, Any]:
    return {
        "country": {"iso_code": country, "names": {"en": country_name}},
        "subdivisions": [{"iso_code": region_code, "names": {"en": region}}],
        "city": {"names": {"en": city}},
        "location": {"latitude": lat, "longitude": lon},
    }


GEO_RECORDS: dict[str, dict[str, Any]] = {
    "198.51.100.0/24": _city("DE", "Germany", "Berlin", "BE", "Berlin", 52.52, 13.405),
    "203.0.113.0/24": _city("US", "United States", "Virginia", "VA", "Ashburn", 39.0438, -77.4874),
    "192.0.2.0/24": _city("GB", "United Kingdom", "England", "ENG", "London", 51.5072, -0.1276),
    "20.38.0.0/16": _city("NL", "Netherlands", "North Holland", "NH", "Amsterdam", 52.3676, 4.9041),
    "185.220.101.0/24": {"country": {"iso_code": "SC", "names": {"en": "Seychelles"}}},
    "2001:db8::/32": _city("NL", "Netherlands", "North Holland", "NH", "Amsterdam", 52.3676, 4.9041),
}

ASN_RECORDS: dict[str, dict[str, Any]] = {
    "198.51.100.0/24": {"autonomous_system_number": 64500, "autonomous_system_organization": "Example Telecom"},
    "203.0.113.0/24": {"autonomous_system_number": 64501, "autonomous_system_organization": "Example Hosting"},
    "192.0.2.0/24": {"autonomous_system_number": 64502, "autonomous_system_organization": "Example Broadband"},
    "20.38.0.0/16": {"autonomous_system_number": 8075, "autonomous_system_organization": "MICROSOFT-CORP-MSN-AS-BLOCK"},
    "185.220.101.0/24": {"autonomous_system_number": 64503, "autonomous_system_organization": "Example Anonymizer"},
    "2001:db8::/32": {"autonomous_system_number": 64504, "autonomous_system_organization": "Example IPv6 Transit"},
}


def write_db(path: str | Path, records: dict[str, dict[str, Any]], database_type: str) -> Path:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=database_type,
                        languages=["en"], description="cloudaudit test database")
    for network, record in records.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return Path(path)


def build(out_dir: str | Path) -> tuple[Path, Path]:
    """(city database, ASN database) written under ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return (write_db(out / "test-city.mmdb", GEO_RECORDS, "GeoIP2-City"),
            write_db(out / "test-asn.mmdb", ASN_RECORDS, "GeoLite2-ASN"))


if __name__ == "__main__":
    for p in build(sys.argv[1] if len(sys.argv) > 1 else "."):
        print(p)
