"""Sink values from the command line: parsing, checks, and the one-line usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import cli
from pipelines.sinks import SinkConfig, SinkConfigError, check_sinks, make_sink, parse_sink
from pipelines.sinks.config import unique_names


def test_the_documented_examples_parse() -> None:
    hec = parse_sink("hec:https://splunk:8088?index=audit&sourcetype=cloudaudit&ack=true")
    assert hec == SinkConfig("hec", "hec", "https://splunk:8088", {"index": "audit", "sourcetype": "cloudaudit",
                                                                  "ack": "true"})
    es = parse_sink("elastic:https://es:9200/?index=cloudaudit-{date}")
    assert (es.kind, es.url, es.options["index"]) == ("elastic", "https://es:9200", "cloudaudit-{date}")
    az = parse_sink("sentinel:https://dce.westeurope-1.ingest.monitor.azure.com?dcr=dcr-0a&stream=Custom-X_CL")
    assert az.options == {"dcr": "dcr-0a", "stream": "Custom-X_CL"}
    assert parse_sink("opensearch:http://os:9200?name=lake").name == "lake"
    assert parse_sink(hec.text()) == hec


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("hec", "expected KIND:URL"),
        ("syslog:udp://x", "unknown kind 'syslog'"),
        ("hec:ftp://x", "must be http(s)"),
        ("hec:https://user:hunter2@splunk:8088", "credentials do not belong"),
        ("hec:https://splunk:8088?token=abc", "would put a secret"),
        ("elastic:https://es?password=abc", "would put a secret"),
        ("hec:https://splunk:8088?indx=a", "sink hec does not take indx (did you mean index?); it takes: name, "),
        ("hec:https://splunk:8088?index=a&index=b", "given twice"),
        ("hec:https://splunk:99999", "bad port"),
        ("hec:https://splunk?name=a/b", "letters, digits"),
    ],
)
def test_bad_values_are_refused_with_a_reason(value: str, says: str) -> None:
    with pytest.raises(SinkConfigError, match=None) as err:
        parse_sink(value)
    assert says in str(err.value)
    assert "hunter2" not in str(err.value) and "abc" not in str(err.value)


def test_values_and_credentials_are_checked_when_the_sink_is_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SPLUNK_HEC_TOKEN", raising=False)
    monkeypatch.delenv("SPLUNK_HEC_TOKEN_FILE", raising=False)
    with pytest.raises(SinkConfigError, match=r"no HEC token.*SPLUNK_HEC_TOKEN"):
        make_sink("hec:https://splunk:8088")
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    monkeypatch.setenv("SPLUNK_HEC_TOKEN_FILE", str(token_file))
    sink = make_sink("hec:https://splunk:8088/services/collector/event?ack=true")
    assert sink._headers["Authorization"] == "Splunk from-a-file"  # type: ignore[attr-defined]
    assert sink.event_url == "https://splunk:8088/services/collector/event"  # type: ignore[attr-defined]
    assert sink.ack_url == "https://splunk:8088/services/collector/ack"  # type: ignore[attr-defined]
    for bad, says in [
        ("retries=-1", "at least 0"),
        ("backoff=soon", "a number"),
        ("ack=maybe", "true or false"),
        ("projection=cef", "native or ocsf or ecs"),
        ("channel=abc", "GUID"),
        ("batch_bytes=10", "at least 1024"),
    ]:
        with pytest.raises(SinkConfigError, match=says):
            make_sink(f"hec:https://splunk:8088?{bad}")
    with pytest.raises(SinkConfigError, match="unknown placeholder"):
        make_sink("elastic:https://es:9200?index=ca-{day}")
    with pytest.raises(SinkConfigError, match="immutable id"):
        make_sink("sentinel:https://dce.ingest.monitor.azure.com?stream=Custom-X_CL")


def test_names_are_made_unique_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPLUNK_HEC_TOKEN", "t")
    configs = [parse_sink("hec:https://a:8088"), parse_sink("hec:https://b:8088"), parse_sink("hec:https://c?name=x")]
    assert [c.name for c in unique_names(configs)] == ["hec", "hec-2", "x"]
    assert [c.name for c in check_sinks(configs)] == ["hec", "hec-2", "x"]


def test_the_command_line_reports_sink_problems_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("SPLUNK_HEC_TOKEN", raising=False)
    monkeypatch.delenv("SPLUNK_HEC_TOKEN_FILE", raising=False)
    (tmp_path / "in.jsonl").write_text("")
    for args, says in [
        (["--sink", "nope:https://x"], "unknown kind 'nope'"),
        (["--sink", "hec:https://splunk:8088"], "no HEC token"),
    ]:
        try:
            code = cli.main(["run", "--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out"), *args])
        except SystemExit as exit:  # argparse's way out
            code = exit.code
        err = capsys.readouterr().err
        assert code == 2
        assert err.count("\n") == 1 and err.startswith("cloudaudit: error:") and says in err, err
