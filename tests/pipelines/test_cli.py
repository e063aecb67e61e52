"""The command line, through the real console entry (a subprocess) where it matters."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from types import SimpleNamespace

import orjson
import pytest

from pipelines import cli
from schemas.arrow import schema_text
from schemas.event import Event
from tests.pipelines.conftest import CLOUDTRAIL_FILE, fake, lines
from tests.pipelines.fakecloud import CONNECTORS as FAKE

Run = Callable[..., CompletedProcess[str]]


def one_error_line(p: CompletedProcess[str]) -> str:
    assert p.returncode == 2, (p.returncode, p.stderr)
    err = p.stderr.strip().splitlines()
    assert len(err) == 1, p.stderr
    assert err[0].startswith("cloudaudit: error: "), err[0]
    assert "Traceback" not in p.stderr
    return err[0]


def test_schema_json_schema(cloudaudit: Run) -> None:
    p = cloudaudit("schema")
    assert p.returncode == 0, p.stderr
    schema = orjson.loads(p.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"id", "when", "who", "what", "where", "how", "source"} <= schema["properties"].keys()


def test_schema_arrow(cloudaudit: Run) -> None:
    p = cloudaudit("schema", "--format", "arrow")
    assert p.returncode == 0, p.stderr
    assert p.stdout == schema_text()


def test_normalize_events_to_stdout_dead_letters_to_stderr(cloudaudit: Run, tmp_path: Path) -> None:
    src = tmp_path / "trail.json"
    src.write_bytes(orjson.dumps(CLOUDTRAIL_FILE) + b"\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"{not json\n")
    p = cloudaudit("normalize", "--no-raw", str(src), str(bad))
    events = [Event.model_validate_json(line) for line in p.stdout.splitlines()]
    assert all(e.raw is None for e in events)
    err = p.stderr.splitlines()
    assert len(events) + len(err) == len(CLOUDTRAIL_FILE["Records"]) + 1  # one result per record
    assert f"cloudaudit: dead letter: {bad}#0: parse/invalid_json: invalid JSON" in p.stderr
    assert all(line.startswith(("cloudaudit: dead letter: ", "cloudaudit: not an event: ")) for line in err)
    assert p.returncode == 1  # some records were dead letters


def test_normalize_exit_status_and_stdin(monkeypatch: pytest.MonkeyPatch, capfdbinary: pytest.CaptureFixture,
                                         tmp_path: Path) -> None:
    monkeypatch.setattr("connectors.normalize.connectors", lambda: FAKE)
    src = tmp_path / "ok.jsonl"
    src.write_bytes(lines(fake(1), fake(2)))
    assert cli.main(["normalize", str(src)]) == 0
    out, err = capfdbinary.readouterr()
    assert [orjson.loads(x)["source"]["location"] for x in out.splitlines()] == [f"{src}#0", f"{src}#1"]
    assert err == b""

    with open(src, "rb") as stdin:
        monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=stdin))
        assert cli.main(["normalize", "-"]) == 0
    out, _ = capfdbinary.readouterr()
    assert orjson.loads(out.splitlines()[0])["source"]["location"] == "<stdin>#0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run"], "nothing to read: give --input"),
        (["run", "--input", "{tmp}/nothing-*.json"], "matches no files"),
        (["run", "--input", "{tmp}/missing.json"], "no such file"),
        (["run", "--input", "{file}", "--frobnicate", "3"], "unrecognized arguments: --frobnicate (see"),
        (["run", "--input", "{file}", "--output", "{file}/out"], "cannot write to output"),
        (["run", "--input", "{file}", "--batch-size", "0"], "must be at least 1"),
        # "--start -24h" is read as a value, not as an option (relative times start with "-")
        (["run", "--source", "nosuchkind:x", "--start", "-24h"], "unknown source kind 'nosuchkind'"),
        (["normalize", "{tmp}/missing.json"], "no such file"),
        (["schema", "--format", "xml"], "invalid choice"),
        ([], "choose a command"),
    ],
)
def test_argument_errors_are_one_line_and_exit_2(
    cloudaudit: Run, tmp_path: Path, args: list[str], message: str
) -> None:
    file = tmp_path / "in.json"
    file.write_bytes(lines(fake(1)))
    argv = [a.format(tmp=tmp_path, file=file) for a in args]
    assert message in one_error_line(cloudaudit(*argv, timeout=120))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--inptu", "{file}"], "unrecognized arguments: --inptu (did you mean --input?)"),
        (["run", "--input", "{file}", "--outptu", "x"], "--outptu (did you mean --output?)"),
        (["run", "--input", "{file}", "--runer", "DirectRunner"], "--runer (did you mean --runner?)"),
        (["run", "--input", "{file}", "--frobnicate", "3"], "unrecognized arguments: --frobnicate (see"),
        (["normalize", "--no-rw", "{file}"], "--no-rw (did you mean --no-raw?)"),
        (["schema", "--formt", "arrow"], "--formt (did you mean --format?)"),
        (["generate", "--out", "{tmp}/g", "--event", "5"], "--event (did you mean --events?)"),
        (["replay", "{file}", "--outptu", "x"], "--outptu (did you mean --output?)"),
        (["verify", "{tmp}", "--jsn"], "unrecognized arguments: --jsn (see"),
        (["enrich", "{file}", "--explian"], "--explian (did you mean --explain?)"),
        # relative times are values, written with a space or with "=" (plain argparse, no argv rewriting)
        (["run", "--source", "nosuchkind:x", "--start", "-7d", "--end", "-30m"], "unknown source kind"),
        (["run", "--source", "nosuchkind:x", "--start=-7d"], "unknown source kind"),
    ],
)
def test_a_misspelled_option_is_named_with_the_closest_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    """Every command names an option it does not know (also those run/replay would pass to Beam) before
    it reads anything, and suggests the closest valid one."""
    file = tmp_path / "in.json"
    file.write_bytes(lines(fake(1)))
    assert cli.main([a.format(tmp=tmp_path, file=file) for a in args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cloudaudit: error: "), err
    assert message in err[0], err[0]
    assert not (tmp_path / "g").exists()  # nothing was written


def test_help_has_examples_and_python_dash_m_works() -> None:
    import subprocess

    from tests.conftest import ROOT

    for command in ("run", "normalize", "schema", "generate"):
        p = subprocess.run([sys.executable, "-m", "pipelines", command, "--help"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert "examples:" in p.stdout and "cloudaudit " + command in p.stdout


@pytest.mark.slow
def test_run_through_the_console_entry(cloudaudit: Run, mixed_input: dict[str, Path], tmp_path: Path) -> None:
    root = next(iter(mixed_input.values())).parent.parent
    out = tmp_path / "out"
    p = cloudaudit("run", "--input", str(root / "clouds"), "--input", str(root / "fake" / "*.json*"),
                   "--output", str(out), "--dedup-shards", "1", "--max-deadletter-ratio", "1")
    assert p.returncode == 0, p.stderr
    assert p.stderr.startswith("cloudaudit: matched 11 files")
    assert "invariant" in p.stdout and ": holds" in p.stdout
    # The rate is over processing only (first read to last write), start-up apart.
    assert re.search(r"[\d,]+ records/s over [\d.]+s of processing \(first read to last write\), after "
                     r"[\d.]+s of start-up", p.stdout.splitlines()[0]), p.stdout.splitlines()[0]
    summary = orjson.loads((out / "_summary.json").read_bytes())
    assert summary["invariant"]["holds"] and summary["files_read"] == 11
    assert 0 < summary["processing_seconds"] <= summary["elapsed_seconds"] and summary["startup_seconds"] > 0
    assert summary["events_per_second"] == round(summary["records_read"] / summary["processing_seconds"], 1)
    assert summary["deadletters_total"] > 0
    assert list(out.glob("siem/*.jsonl")) and list(out.glob("deadletters/*.jsonl"))


def test_generate_is_wired(cloudaudit: Run, tmp_path: Path) -> None:
    p = cloudaudit("generate", "--out", str(tmp_path / "samples"), "--events", "60", "--seed", "3")
    assert p.returncode == 0, p.stderr
    manifest = orjson.loads(p.stdout)
    assert manifest["seed"] == 3 and manifest["events"] == 60
    assert any((tmp_path / "samples").rglob("*"))


def test_generate_without_the_generators_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """As from a wheel, which leaves sampledata/ out: no module, and no checkout beside the package."""
    monkeypatch.setitem(sys.modules, "sampledata", None)  # importing it fails as when it is absent
    monkeypatch.setattr(cli, "__file__", str(tmp_path / "site-packages" / "pipelines" / "cli.py"))
    assert cli.main(["generate", "--out", str(tmp_path / "samples")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "cloudaudit: error: cloudaudit generate needs the sample generators (sampledata/), which are in a "
        "source checkout, not in an installed wheel: run it from a checkout of the repository"
    ]
    assert not (tmp_path / "samples").exists()
