"""End to end through ``cloudaudit run``: the Activity Log storage export in Azurite gives every record
exactly once in the output."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from connectors.normalize import normalize_bytes
from pipelines import cli
from schemas.event import Event
from tests.pipelines.test_streaming_support import siem_ids

from .test_azure_blob import EXPORT

pytestmark = pytest.mark.emulator


def test_batch_run_from_the_storage_export_writes_every_record_once(azurite: Any, tmp_path: Path) -> None:
    from azure.storage.blob import BlobServiceClient

    name = f"insights-{uuid.uuid4().hex[:10]}"
    container = BlobServiceClient.from_connection_string(azurite.connection_string).create_container(name)
    want: set[str] = set()
    for path in sorted(EXPORT.rglob("PT1H.json")):
        blob = path.relative_to(EXPORT).as_posix()
        container.upload_blob(blob, path.read_bytes(), blob_type="AppendBlob")
        want |= {r.id for r in normalize_bytes(path.read_bytes(), blob) if isinstance(r, Event)}
    # Start rows whose operation ends nowhere in the export become events at the end of the run.
    from pipelines.stages.lone_start import lone_start_events

    want |= {e.id for e in lone_start_events([str(p) for p in sorted(EXPORT.rglob("PT1H.json"))])}
    out = tmp_path / "out"

    code = cli.main(
        [
            "run",
            "--source",
            f"azure-blob:{azurite.blob_endpoint}/{name}",
            "--start",
            "2025-01-14T00:00:00Z",
            "--end",
            "2025-01-15T00:00:00Z",
            "--output",
            str(out),
        ]
    )

    assert code == 0
    ids = siem_ids(out)
    assert want and set(ids) == want and set(ids.values()) == {1}
    container.delete_container()
