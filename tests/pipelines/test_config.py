"""The run configuration file (``cloudaudit run --config``), the Flex Template's parameters and its
metadata.json: one table of parameters, the command line over the file, typos refused."""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson
import pytest

from pipelines import cli
from pipelines.config import PARAMETERS, RunFile, load_run_file, merge_run_file, metadata, template_argv
from pipelines.errors import UsageError
from pipelines.template import run_argv
from tests.pipelines.conftest import CLOUDTRAIL_FILE

ROOT = Path(__file__).resolve().parents[2]

RUN_YAML = """\
mode: batch
inputs: [{input}]
output: {{path: {output}, raw: false, batch_size: 500}}
windows: {{window: 60}}
beam: {{direct_num_workers: 1}}
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return str(path)


def defaults() -> argparse.Namespace:
    return cli.build_parser().parse_args(["run"])


def test_file_fills_what_the_command_line_left_out(tmp_path: Path) -> None:
    path = write(tmp_path, RUN_YAML.format(input="a.json", output="from-file"))
    args = cli.build_parser().parse_args(["run", "--config", path, "--output", "from-cli", "--window", "300"])
    extra = merge_run_file(args, defaults(), ["--direct_num_workers=2"])
    assert args.input == ["a.json"] and args.output == "from-cli"  # the command line wins
    assert args.no_raw is True and args.batch_size == 500
    # --window 300 is the default: the file's 60 is taken (an explicit default cannot be told apart)
    assert args.window == 60
    assert extra == ["--direct_num_workers=1", "--direct_num_workers=2"]  # Beam takes the last one


def test_lists_from_the_command_line_replace_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, RUN_YAML.format(input="a.json", output="o"))
    args = cli.build_parser().parse_args(["run", "--config", path, "--input", "b.json"])
    merge_run_file(args, defaults(), [])
    assert args.input == ["b.json"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("inptus: [a]\n", "inptus: Extra inputs are not permitted"),
        ("windows: {window: 7}\n", "windows.window: Value error, 7 must divide an hour"),
        ("output: {batch_size: 0}\n", "output.batch_size: Input should be greater than 0"),
        ("mode: streaming\ninputs: [a]\n", "inputs are read in batch"),
        ("- a\n- b\n", "must be a mapping"),
        ("sinks: [hec]\n", None),  # checked when the sinks are parsed (merge), not by the model
    ],
)
def test_bad_files_are_one_line_errors(tmp_path: Path, text: str, message: str | None) -> None:
    path = write(tmp_path, text)
    if message is None:
        assert isinstance(load_run_file(path), RunFile)
        with pytest.raises(UsageError, match="run config: sinks"):
            merge_run_file(cli.build_parser().parse_args(["run", "--config", path]), defaults(), [])
        return
    with pytest.raises(UsageError, match="run config") as err:
        load_run_file(path)
    assert message in str(err.value)


def test_run_with_a_config_file(cloudaudit, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A real run: inputs and options from the file, the output folder from the command line."""
    src = tmp_path / "trail.json"
    src.write_bytes(orjson.dumps(CLOUDTRAIL_FILE))
    path = write(tmp_path, RUN_YAML.format(input=src, output=tmp_path / "unused"))
    # The file holds one record with no time on purpose: half the records are dead letters.
    p = cloudaudit("run", "--config", path, "--output", str(tmp_path / "out"), "--max-deadletter-ratio", "1")
    assert p.returncode == 0, p.stderr
    assert not (tmp_path / "unused").exists()
    assert list((tmp_path / "out" / "cold" / "events").rglob("*.parquet"))
    assert not list((tmp_path / "out" / "cold").rglob("*.jsonl.gz"))  # raw: false


def test_template_parameters_become_run_options() -> None:
    argv = run_argv(
        [
            "--config=gs://b/run.yaml",
            "--input=gs://b/AWSLogs/**,gs://b/extra.json",
            "--window",
            "60",
            "--no_raw=true",
            "--runner=DataflowRunner",
            "--project=p",
            "--streaming=true",
        ]
    )
    assert argv == [
        "run", "--config", "gs://b/run.yaml", "--input", "gs://b/AWSLogs/**", "--input", "gs://b/extra.json",
        "--window", "60", "--no-raw", "--runner=DataflowRunner", "--project=p", "--streaming",
    ]  # fmt: skip
    assert template_argv({"no_raw": "false", "sink": None}) == []
    # Every parameter's flag is a `cloudaudit run` option.
    known = {a for action in cli.build_parser()._subparsers._group_actions[0].choices["run"]._actions
             for a in action.option_strings}  # fmt: skip
    assert {p.flag for p in PARAMETERS} <= known


def test_metadata_json_is_generated_from_the_parameters() -> None:
    """dataflow/metadata.json is `make dataflow-template`'s output of the same table: in step with it."""
    on_disk = orjson.loads((ROOT / "dataflow" / "metadata.json").read_bytes())
    assert on_disk == metadata(on_disk["name"], on_disk["description"], on_disk["streaming"])
    for param in on_disk["parameters"]:
        assert param["label"] and param["helpText"] and param.get("regexes")


def test_template_entry_runs_the_pipeline(tmp_path: Path) -> None:
    """The Flex Template's entry point with Beam-style parameters, run locally end to end."""
    from pipelines.template import main

    src = tmp_path / "trail.json"
    src.write_bytes(orjson.dumps(CLOUDTRAIL_FILE))
    # The file holds one record with no time on purpose: half the records are dead letters.
    path = write(tmp_path, "output: {raw: false}\nmax_deadletter_ratio: 1\n")
    code = main([f"--config={path}", f"--input={src}", f"--output={tmp_path / 'out'}", "--batch_size=100",
                 "--direct_num_workers=1"])  # fmt: skip
    assert code == 0
    assert list((tmp_path / "out" / "cold" / "events").rglob("*.parquet"))
    assert not list((tmp_path / "out" / "cold").rglob("*.jsonl.gz"))


def test_dataflow_requirements_are_in_step_with_pyproject() -> None:
    """dataflow/requirements.txt is `make dataflow-requirements`'s output: every dependency of the project
    and its worker extras, pinned as installed here. A dependency added to pyproject.toml without
    regenerating it would be missing on Dataflow workers (ijson, tqdm and isal once were)."""
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("pin_requirements", root / "dataflow" / "pin_requirements.py")
    assert spec is not None and spec.loader is not None
    pin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pin)
    pinned = pin.closure(pin.roots(["aws", "gcp", "azure", "sinks"]))
    lines = (root / "dataflow" / "requirements.txt").read_text().splitlines()
    on_disk = dict(line.split("==", 1) for line in lines if line and not line.startswith("#"))
    assert on_disk == pinned, "run `make dataflow-requirements`"
