"""The OCSF copy in Security Lake's custom-source layout, written by the Beam composite to the S3
stand-in (moto server): ext/<source>/region=/accountId=/eventDay=/, one OCSF class per source and
file, rows sorted by time, nothing lost between the projection and the Parquet rows."""

from __future__ import annotations

import io
import re
import shutil
from collections import Counter
from pathlib import Path

import apache_beam as beam
import orjson
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.options import use_filesystems
from pipelines.securitylake import (
    NO_ACCOUNT,
    WriteSecurityLake,
    class_schema,
    parquet_bytes,
    parquet_row,
    partitions,
    source_name,
)
from schemas.projections import tables as t
from tests.conftest import ROOT
from tests.sinks.conftest import canonical_lines

LAYOUT = re.compile(
    r"^lake/ext/(?P<source>cloudaudit-[a-z-]+)/region=(?P<region>[^/=]+)/accountId=(?P<account>[^/=]+)/"
    r"eventDay=(?P<day>\d{8})/(?P<first>\d{8}T\d{6}Z)-(?P<last>\d{8}T\d{6}Z)-[0-9a-f]{16}\.parquet$"
)
SOURCES = {source_name(uid): uid for uid in t.OCSF_CLASSES}


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    return canonical_lines(ROOT / "samples")


def _strip(x: object) -> object:
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_strip(v) for v in x]
    return x


@pytest.mark.emulator
def test_security_lake_layout_on_s3(aws: str, lines: list[bytes]) -> None:
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="golden-lake")
    use_filesystems(PipelineOptions([]))
    batches = [b"\n".join(lines[i : i + 100]) for i in range(0, len(lines), 100)]
    with beam.Pipeline(options=PipelineOptions(["--runner=DirectRunner"])) as p:
        _ = p | beam.Create(batches) | WriteSecurityLake("s3://golden-lake/lake")

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="golden-lake")["Contents"]]
    expected = partitions(lines)
    assert len(keys) == len(expected)
    rows = 0
    classes: Counter[int] = Counter()
    for key in keys:
        m = LAYOUT.match(key)
        assert m, f"not in the custom-source layout: {key}"
        table = pq.read_table(io.BytesIO(s3.get_object(Bucket="golden-lake", Key=key)["Body"].read()))
        class_uid = SOURCES[m["source"]]
        assert table.schema == class_schema(class_uid)
        assert set(table.column("class_uid").to_pylist()) == {class_uid}  # one class per source and file
        times = table.column("time").to_pylist()
        assert times == sorted(times)
        assert {c["region"] or "global" for c in table.column("cloud").to_pylist()} == {m["region"]}
        accounts = {(c["account"] or {}).get("uid") or NO_ACCOUNT for c in table.column("cloud").to_pylist()}
        assert accounts == {m["account"]}
        rows += table.num_rows
        classes[class_uid] += table.num_rows
    assert rows == len(lines)
    assert {t.API_ACTIVITY, t.AUTHENTICATION, t.ACCOUNT_CHANGE} <= set(classes)


def test_parquet_rows_keep_every_projected_field(lines: list[bytes]) -> None:
    for docs in partitions(lines).values():
        back = pq.read_table(io.BytesIO(parquet_bytes(docs))).to_pylist()
        want = [parquet_row(d) for d in sorted(docs, key=lambda d: (d["time"], d["metadata"]["uid"]))]
        assert [_strip(b) for b in back] == [_strip(w) for w in want]


def test_a_file_never_mixes_classes(lines: list[bytes]) -> None:
    by_class: dict[int, dict[str, object]] = {}
    for key, docs in partitions(lines).items():
        by_class.setdefault(key[0], docs[0])
    assert len(by_class) >= 2
    with pytest.raises(ValueError, match="one OCSF class"):
        parquet_bytes(list(by_class.values()))  # type: ignore[arg-type]


def test_unmapped_is_a_string_map(lines: list[bytes]) -> None:
    docs = next(iter(partitions(lines[:1]).values()))
    table = pq.read_table(io.BytesIO(parquet_bytes(docs)))
    unmapped = dict(table.column("unmapped").to_pylist()[0])
    event = orjson.loads(lines[0])
    assert unmapped["action"] == event["what"]["action"]  # text stays text
    assert orjson.loads(unmapped["read_only"]) == event["what"]["read_only"]  # anything else is JSON text


@pytest.mark.slow
def test_run_writes_the_security_lake_copy(tmp_path: Path) -> None:
    """``cloudaudit run --security-lake ROOT``: the batch pipeline writes the OCSF copy beside its output,
    one row per event it wrote."""
    from pipelines.cli import main

    inputs = tmp_path / "in"
    inputs.mkdir()
    src = sorted((ROOT / "samples" / "gcp" / "gcloud").rglob("*.json*"))[:2] + sorted(
        (ROOT / "samples" / "aws" / "acme-cloudtrail-868449672570").rglob("*.json.gz"))[:2]
    for i, path in enumerate(src):
        shutil.copy(path, inputs / f"{i}-{path.name}")
    lake = tmp_path / "lake"
    assert main(["run", "--input", str(inputs), "--output", str(tmp_path / "out"), "--no-raw",
                 "--security-lake", str(lake), "--security-lake-prefix", "acme"]) == 0
    files = sorted(lake.rglob("*.parquet"))
    assert files and all(f.relative_to(lake).parts[0] == "ext" for f in files)
    assert all(f.relative_to(lake).parts[1].startswith("acme-") for f in files)
    rows = sum(pq.read_metadata(f).num_rows for f in files)
    siem = [line for f in (tmp_path / "out").rglob("*.jsonl") if "siem" in f.parts for line in
            f.read_bytes().splitlines() if line.strip()]
    assert rows == len(siem) > 0

