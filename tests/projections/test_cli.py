"""``cloudaudit normalize --projection ocsf|ecs`` prints one projected event per line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from pipelines.cli import main

TESTDATA = Path(__file__).parent / "testdata"


def _write_trail(tmp_path: Path) -> Path:
    # a CloudTrail file written for this test: one failed console sign-in, one digest-like non-event
    record = {
        "eventVersion": "1.09", "eventTime": "2026-03-02T14:00:00Z", "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin", "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.99",
        "userAgent": "Mozilla/5.0 (cli test)", "eventID": "11111111-2222-4333-8444-555555555555",
        "eventType": "AwsConsoleSignIn", "recipientAccountId": "111122223333",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLECLI", "accountId": "111122223333",
                         "arn": "arn:aws:iam::111122223333:user/erin", "userName": "erin"},
        "responseElements": {"ConsoleLogin": "Failure"}, "errorMessage": "Failed authentication",
    }
    path = tmp_path / "trail.json"
    path.write_bytes(orjson.dumps({"Records": [record]}))
    return path


@pytest.mark.parametrize(("projection", "check"), [
    ("ocsf", lambda d: d["class_uid"] == 3002 and d["status"] == "Failure"),
    ("ecs", lambda d: d["event"]["outcome"] == "failure" and "authentication" in d["event"]["category"]),
    ("native", lambda d: d["what"]["action"] == "signin:ConsoleLogin"),
])
def test_normalize_prints_the_projection(tmp_path: Path, capsys: pytest.CaptureFixture[str], projection: str,
                                         check: object) -> None:
    assert main(["normalize", "--no-raw", "--projection", projection, str(_write_trail(tmp_path))]) == 0
    docs = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(docs) == 1 and check(docs[0])  # type: ignore[operator]


def test_a_non_event_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["normalize", "--projection", "ocsf", str(TESTDATA / "aws_digest_non_event.raw.json")]) == 0
    out = capsys.readouterr()
    assert out.out == "" and "not an event" in out.err
