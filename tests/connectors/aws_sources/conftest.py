"""Helpers for the AWS source tests: sample trails uploaded to the moto server, and a small Beam run that
collects what a batch source yields."""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "aws"
ORG_TRAIL = SAMPLES / "acme-org-cloudtrail-639751675867"  # AWSLogs/o-0qp8tkn9e5/ACCOUNT/...
ACCOUNT_TRAIL = SAMPLES / "acme-cloudtrail-868449672570"  # AWSLogs/ACCOUNT/...


def upload_tree(s3: Any, bucket: str, root: Path, under: str = "") -> dict[str, bytes]:
    """Every file below ``root`` as an object (key = its relative path); returns key -> bytes."""
    found: dict[str, bytes] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = under + path.relative_to(root).as_posix()
        data = path.read_bytes()
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        found[key] = data
    return found


def run_batch(transform: Any, tmp_path: Path) -> list[Any]:
    """Apply a batch source to a pipeline root on FnApiRunner; return what it yielded (blobs and error
    deliveries), collected through files since the runner's workers are not this test's objects."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    out = tmp_path / f"collected-{uuid.uuid4().hex[:8]}"
    out.mkdir()

    def keep(item: Any, folder: str = str(out)) -> None:
        Path(folder, uuid.uuid4().hex).write_bytes(pickle.dumps(item))

    with beam.Pipeline(runner="FnApiRunner", options=PipelineOptions()) as p:
        _ = p | transform | beam.Map(keep)
    return [pickle.loads(f.read_bytes()) for f in out.iterdir()]


@pytest.fixture
def s3(aws: str) -> Any:
    import boto3

    return boto3.client("s3")


@pytest.fixture
def make_bucket(s3: Any) -> Callable[[], str]:
    def make() -> str:
        name = f"trail-{uuid.uuid4().hex[:10]}"
        s3.create_bucket(Bucket=name)
        return name

    return make
