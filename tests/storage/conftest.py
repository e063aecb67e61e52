"""Object stores for the cold-storage tests: a local folder, S3 (moto server), GCS (gcp-storage-emulator)
and Azure Blob (Azurite), each as an output root URI with a fresh bucket/container, optionally behind a
fault-injecting proxy. The stand-ins are the shared fixtures of tests/emulators.py."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.options import use_filesystems
from tests.storage.faultproxy import FaultProxy

STORES = ("local", "s3", "gcs", "azure")


@dataclass
class Store:
    kind: str
    root: str  # the output root URI (or local path)
    proxy: FaultProxy | None = None

    def files(self, under: str = "") -> list[str]:
        folder = FileSystems.join(self.root, under) if under else self.root
        (match,) = FileSystems.match([FileSystems.join(folder, "**")])
        return sorted(m.path for m in match.metadata_list if not m.path.endswith("/"))

    def read(self, path: str) -> bytes:
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            return f.read()

    def parquet(self) -> pa.Table | None:
        tables = [pq.read_table(io.BytesIO(self.read(p))) for p in self.files("cold/events") if p.endswith(".parquet")]
        return pa.concat_tables(tables) if tables else None


def _bucket() -> str:
    return "ca-" + uuid.uuid4().hex[:12]


def make_store(kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
               fault_rate: float = 0.0, seed: int = 5, max_faults: int = 8) -> Iterator[Store]:
    """Create the bucket directly on the stand-in, then (with faults) point the SDKs at a proxy."""
    name = _bucket()
    proxy: FaultProxy | None = None
    if kind == "local":
        yield Store(kind, str(tmp_path / "out"))
        return
    if kind == "s3":
        endpoint = request.getfixturevalue("aws")
        import boto3

        boto3.client("s3").create_bucket(Bucket=name)
        root = f"s3://{name}/lake"
        if fault_rate:
            proxy = FaultProxy(endpoint, fault_rate, seed, max_faults=max_faults)
            monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    elif kind == "gcs":
        endpoint = request.getfixturevalue("gcs")
        from google.cloud import storage

        storage.Client.create_anonymous_client().create_bucket(name)
        root = f"gs://{name}/lake"
        if fault_rate:
            proxy = FaultProxy(endpoint, fault_rate, seed, max_faults=max_faults)
            monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy.url)
    elif kind == "azure":
        azurite = request.getfixturevalue("azurite")
        from azure.storage.blob import BlobServiceClient

        BlobServiceClient.from_connection_string(azurite.connection_string).create_container(name)
        root = f"azfs://{azurite.account}/{name}/lake"
        if fault_rate:
            # Azure Storage throttles with 503 ServerBusy (its SDK retries 5xx, not 429), and the SDK's
            # first retry waits 15 s: fewer faults keep the test's time bounded.
            proxy = FaultProxy(azurite.blob_endpoint, fault_rate, seed, faults=("503", "stall", "reset"),
                               max_faults=min(max_faults, 3))
            monkeypatch.setenv(
                "AZURE_STORAGE_CONNECTION_STRING",
                azurite.connection_string.replace(azurite.blob_endpoint, f"{proxy.url}/{azurite.account}"),
            )
    else:
        raise ValueError(kind)
    use_filesystems(PipelineOptions([]))
    try:
        yield Store(kind, root, proxy)
    finally:
        if proxy is not None:
            proxy.close()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Store]:
    yield from make_store(request.param, request, monkeypatch, tmp_path)


@pytest.fixture
def store_factory(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
                  tmp_path: Path) -> Iterator[Callable[..., Store]]:
    made: list[Iterator[Store]] = []

    def make(kind: str, fault_rate: float = 0.0, seed: int = 5, max_faults: int = 8) -> Store:
        gen = make_store(kind, request, monkeypatch, tmp_path, fault_rate, seed, max_faults)
        made.append(gen)
        return next(gen)

    yield make
    for gen in made:
        for _ in gen:
            pass
