"""Start-up: the commands that do not run a pipeline must not pay for importing Beam or the cloud SDKs.

Checked in a fresh interpreter, by what is imported (not by the clock): ``cloudaudit --help``, every
subcommand's ``--help`` listing and ``cloudaudit normalize`` of a local file leave ``apache_beam``,
``boto3``, ``google.cloud.storage``, ``azure.storage.blob``, ``duckdb`` and ``pyarrow`` unimported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("apache_beam", "boto3", "botocore", "google.cloud.storage", "azure.storage.blob", "duckdb", "pyarrow")

PROBE = """
import contextlib, io, json, sys
from pipelines.cli import main
out = io.TextIOWrapper(io.BytesIO())
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
out.flush()
written = len(out.buffer.getvalue())
print(json.dumps({"code": code, "heavy": [m for m in HEAVY if m in sys.modules], "out": written}))
""".replace("HEAVY", repr(HEAVY))


def _probe(*argv: str) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_help_does_not_import_beam_or_sdks() -> None:
    seen = _probe("--help")
    assert seen["code"] == 0
    assert seen["heavy"] == []
    assert int(str(seen["out"])) > 0


@pytest.mark.parametrize("command", ["run", "replay", "verify", "cleanup", "normalize"])
def test_subcommand_help_does_not_import_beam(command: str) -> None:
    seen = _probe(command, "--help")
    assert seen["code"] == 0
    assert seen["heavy"] == []


def _trail(path: Path, event_name: str, event_source: str, **fields: object) -> Path:
    """One CloudTrail record, written for these tests, as an S3 log file."""
    record = {
        "eventVersion": "1.08",
        "eventID": f"0f0e0d0c-{len(event_name):04d}-2222-3333-444455556666",
        "eventTime": "2024-05-01T12:00:00Z",
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": "111122223333",
                         "arn": "arn:aws:iam::111122223333:user/tester", "userName": "tester"},
        "recipientAccountId": "111122223333",
        "eventType": "AwsApiCall",
        **fields,
    }
    path.write_bytes(json.dumps({"Records": [record]}).encode())
    return path


def test_normalize_of_a_local_file_does_not_import_beam(tmp_path: Path) -> None:
    seen = _probe("normalize", str(_trail(tmp_path / "one.json", "ListBuckets", "s3.amazonaws.com")))
    assert seen["code"] == 0
    assert int(str(seen["out"])) > 0  # the event was written
    assert seen["heavy"] == []


def test_hunt_over_raw_files_does_not_import_beam_or_sdks(tmp_path: Path) -> None:
    """Rules over raw audit files normalize and enrich in process: the pipeline's runner is not needed."""
    share = {"snapshotId": "snap-0123456789abcdef0", "attributeType": "CREATE_VOLUME_PERMISSION",
             "createVolumePermission": {"add": {"items": [{"userId": "444455556666"}]}}}
    path = _trail(tmp_path / "trail.json", "ModifySnapshotAttribute", "ec2.amazonaws.com", requestParameters=share)
    seen = _probe("hunt", str(path))
    assert seen["code"] == 0
    assert int(str(seen["out"])) > 0  # the share with another account is an alert
    assert seen["heavy"] == []
