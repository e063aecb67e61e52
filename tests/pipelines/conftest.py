from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from connectors.registry import connectors
from tests.conftest import ROOT
from tests.pipelines.fakecloud import CONNECTORS as FAKE

BIG_RECORD_BYTES = 10 << 20


def fake(i: int, provider: str = "aws", hour: int = 13, **extra: object) -> dict[str, object]:
    rec: dict[str, object] = {
        "fakecloud": 1,
        "eventID": f"ev-{provider}-{i}",
        "time": f"2024-05-01T{hour:02d}:{i % 60:02d}:07.123456789Z",
        "provider": provider,
        "user": f"user{i % 5}",
        "op": "PutObject" if i % 4 else "DeleteBucket",
        "outcome": "failure" if i % 7 == 0 else "success",
    }
    rec.update(extra)
    return rec


def lines(*records: object) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


# Real-shaped records of the three clouds: they become events once the connectors claim them, and
# unknown_shape dead letters before; the tests assert only what holds either way.
CLOUDTRAIL_FILE = {
    "Records": [
        {
            "eventVersion": "1.08",
            "eventTime": "2024-05-01T13:02:03Z",
            "eventSource": "iam.amazonaws.com",
            "eventName": "CreateAccessKey",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "aws-cli/2.15.0",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
                             "accountId": "111122223333", "userName": "alice"},
            "eventID": "6f1c0c5e-0000-4000-8000-000000000001",
            "eventType": "AwsApiCall",
            "recipientAccountId": "111122223333",
        },
        {  # no eventTime: cannot say when
            "eventVersion": "1.08",
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "eventID": "6f1c0c5e-0000-4000-8000-000000000002",
            "userIdentity": {"type": "IAMUser"},
        },
    ]
}
GCP_ENTRY = {
    "insertId": "abc123",
    "logName": "projects/p1/logs/cloudaudit.googleapis.com%2Factivity",
    "timestamp": "2024-05-01T14:00:00.123456789Z",
    "receiveTimestamp": "2024-05-01T14:00:01Z",
    "resource": {"type": "gce_instance", "labels": {"project_id": "p1"}},
    "protoPayload": {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "methodName": "v1.compute.instances.insert",
        "serviceName": "compute.googleapis.com",
        "authenticationInfo": {"principalEmail": "bob@example.com"},
        "requestMetadata": {"callerIp": "198.51.100.3"},
        "resourceName": "projects/p1/zones/z/instances/i1",
    },
}
AZURE_RECORDS = {
    "records": [
        {
            "time": "2024-05-01T15:00:00.1234567Z",
            "resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1",
            "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
            "category": "Administrative",
            "resultType": "Success",
            "callerIpAddress": "192.0.2.10",
            "correlationId": "c0ffee00-0000-4000-8000-000000000001",
            "identity": {"claims": {"name": "carol@example.com"}},
            "level": "Information",
        }
    ]
}


def write_mixed_input(root: Path) -> dict[str, Path]:
    """A folder of small files of every kind the pipeline must cope with; returns them by name."""
    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        files[name] = p

    good = [fake(i, "aws", 13) for i in range(40)] + [fake(i, "gcp", 14) for i in range(30)]
    # The duplicated line: the same record twice in one file.
    put("fake/events.jsonl", lines(*good, good[3]))
    put("fake/azure.json.gz", gzip.compress(lines(*[fake(i, "azure", 23) for i in range(25)]), mtime=0))
    put("fake/invalid_json.jsonl", lines(fake(100)) + b'{"fakecloud": 1, "time": \n' + lines(fake(101)))
    full = gzip.compress(lines(*[fake(200 + i, "gcp", 9) for i in range(400)]), mtime=0)
    put("fake/truncated.json.gz", full[: len(full) // 2])
    put("fake/empty.json", b"")
    put("fake/no_time.jsonl", lines({k: v for k, v in fake(300).items() if k != "time"}))
    put("fake/big_record.jsonl", lines(fake(400, pad="x" * BIG_RECORD_BYTES), fake(401)))
    put("clouds/cloudtrail.json", orjson.dumps(CLOUDTRAIL_FILE))
    put("clouds/gcp.jsonl", lines(GCP_ENTRY))
    put("clouds/azure_PT1H.json", orjson.dumps(AZURE_RECORDS))
    put("clouds/not_audit.json", b'{"hello": "world"}\n')
    return files


@pytest.fixture
def mixed_input(tmp_path: Path) -> dict[str, Path]:
    return write_mixed_input(tmp_path / "in")


@pytest.fixture(scope="session")
def with_fake() -> tuple:
    """The stand-in connector first, then the registered ones."""
    return FAKE + connectors()


def console_entry() -> list[str]:
    """How to start the real ``cloudaudit`` console script: the installed one when the project is
    installed, else exactly what that script runs, read from pyproject.toml's [project.scripts]."""
    installed = Path(sys.executable).parent / "cloudaudit"
    if installed.exists():
        return [str(installed)]
    found = shutil.which("cloudaudit")
    if found and Path(found).resolve().parent == Path(sys.executable).resolve().parent:
        return [found]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, func = scripts["cloudaudit"].split(":")
    return [sys.executable, "-c", f"import sys; from {module} import {func}; sys.exit({func}())"]


@pytest.fixture(scope="session")
def cloudaudit() -> Callable[..., subprocess.CompletedProcess[str]]:
    entry = console_entry()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

    def run(*args: str, input: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*entry, *args], cwd=ROOT, env=env, input=input, capture_output=True, text=True, timeout=timeout
        )

    return run
