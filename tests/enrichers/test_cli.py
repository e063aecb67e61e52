"""``cloudaudit enrich`` and enrichment in ``cloudaudit run`` (the batch pipeline, with its side input)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from enrichers.config import EnrichmentConfig
from pipelines import batch
from pipelines.cli import main
from pipelines.errors import UsageError
from pipelines.settings import RunConfig
from tests.enrichers.conftest import HERE, REF


def _ref_args(config: EnrichmentConfig) -> list[str]:
    args = ["--directory", str(config.directory), "--inventory", str(config.inventory),
            "--geoip-db", str(config.geoip_db), "--asn-db", str(config.asn_db),
            "--indicators", str(config.indicators), "--internal-networks", "10.0.0.0/8,192.168.0.0/16"]
    for p in config.cloud_ranges:
        args += ["--cloud-ranges", p]
    return args


def test_enrich_explain_names_the_source_of_each_field(full_config: EnrichmentConfig,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["enrich", "--explain", *_ref_args(full_config), str(HERE / "scenario_gcp.json")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "who.person" in out and "entry 'P-1001' matched 'email:alice@example.com' from who.delegation[0].id" in out
    assert "where.account_context" in out and "account 'acme-prod'" in out
    assert "where.source.asn" in out and "test-asn.mmdb" in out
    assert "what.risk_tags" in out and "action catalog" in out


def test_enrich_explain_json_on_an_already_normalized_event(full_config: EnrichmentConfig, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["normalize", str(HERE / "scenario_azure.json")]) == 0
    event_json = capsys.readouterr().out
    (tmp_path / "event.json").write_text(event_json)
    rc = main(["enrich", "--explain", "--format", "json", *_ref_args(full_config), str(tmp_path / "event.json")])
    doc = orjson.loads(capsys.readouterr().out)
    assert rc == 0
    fields = {f["field"]: f for f in doc["fields"]}
    assert fields["who.person"]["value"]["id"] == "P-1001"
    assert fields["where.source.cloud_provider"]["value"] == "azure"


def test_enrich_writes_enriched_event_lines(full_config: EnrichmentConfig,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["enrich", "--no-raw", *_ref_args(full_config), *(str(HERE / f"scenario_{c}.json") for c in
                                                                ("aws", "gcp", "azure"))])
    lines = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 0 and len(lines) == 3
    assert {e["who"]["person"]["id"] for e in lines} == {"P-1001"}
    assert all(e["raw"] is None for e in lines)


@pytest.mark.parametrize(("args", "message"), [
    (["--directory", "/nonexistent/directory.yaml"], "directory file not found: /nonexistent/directory.yaml"),
    (["--inventory", str(REF / "indicators.txt")], "inventory"),
    (["--cloud-ranges", str(REF / "directory.yaml")], "cloud ranges"),
    (["--enrich-config", "/nonexistent/enrich.yaml"], "cannot read enrichment config"),
])
def test_bad_reference_files_are_one_line_exit_2(args: list[str], message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["enrich", *args, str(HERE / "scenario_aws.json")])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith("cloudaudit: error: ") and message in err and "\n" not in err


@pytest.mark.slow
def test_batch_run_enriches_through_the_side_input(full_config: EnrichmentConfig, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = batch.run(RunConfig(inputs=[str(HERE / "scenario_*.json")], output=str(out), enrichment=full_config))
    assert summary.ok, summary.invariant_text()
    assert summary.written_total == 3
    assert summary.enrichment["identity"] == {"hit": 3}
    assert summary.enrichment["catalog"] == {"hit": 3}
    siem = [orjson.loads(line) for p in sorted((out / "siem").glob("*.jsonl")) for line in p.read_bytes().splitlines()]
    assert {e["who"]["person"]["id"] for e in siem} == {"P-1001"}
    assert all(e["where"]["account_context"]["environment"] == "prod" for e in siem)
    import pyarrow.parquet as pq

    table = pq.read_table(str(out / "cold" / "events"))
    persons = table.column("who").combine_chunks().field("person").field("id").to_pylist()
    assert persons == ["P-1001"] * 3


def test_batch_run_stops_before_running_on_a_broken_reference_file(tmp_path: Path) -> None:
    bad = tmp_path / "directory.yaml"
    bad.write_text("identities: [{id: x}]")
    out = tmp_path / "out"
    with pytest.raises(UsageError, match="no identifier"):
        batch.run(RunConfig(inputs=[str(HERE / "scenario_aws.json")], output=str(out),
                            enrichment=EnrichmentConfig(directory=str(bad))))
    assert not (out / "siem").exists()
