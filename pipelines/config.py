"""The run configuration file (``cloudaudit run --config run.yaml``) and the run's parameters as data.

One pydantic model, ``RunFile``, holds everything a run is asked to do: sources, sinks, enrichment,
rules, windows, output and Beam options. ``cloudaudit run --config FILE`` reads it; an option given on
the command line wins over the file. The Dataflow Flex Template takes the same file (parameter
``config``) and the same parameters, listed once in ``PARAMETERS`` (names, help, regexes):
``pipelines.options.CloudauditOptions`` and ``dataflow/metadata.json`` are made from that table.

This module imports no Beam.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from connectors.usage import UsageError
from pipelines.settings import (
    DEFAULT_ALLOWED_LATENESS_SECONDS,
    DEFAULT_BATCH_SIZE,
    DEFAULT_DEDUP_SHARDS,
    DEFAULT_DEDUP_TTL_SECONDS,
    DEFAULT_OUTPUT,
    DEFAULT_WINDOW_SECONDS,
)

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Windows(BaseModel):
    """Streaming: event-time windows of the cold-storage writes (SIEM delivery does not wait for them)."""

    model_config = _STRICT
    window: int = Field(DEFAULT_WINDOW_SECONDS, gt=0, le=3600, description="seconds; must divide an hour")
    allowed_lateness: int = Field(DEFAULT_ALLOWED_LATENESS_SECONDS, ge=0)
    dedup_ttl: int = Field(DEFAULT_DEDUP_TTL_SECONDS, gt=0)
    idle_stop: float | None = Field(None, gt=0, description="stop after this many seconds without deliveries")

    @field_validator("window")
    @classmethod
    def _divides_hour(cls, v: int) -> int:
        if 3600 % v:
            raise ValueError(f"{v} must divide an hour (e.g. 60, 300, 900, 3600)")
        return v


class Output(BaseModel):
    """Where and how the events are written (cold storage, SIEM files, dead letters)."""

    model_config = _STRICT
    path: str = DEFAULT_OUTPUT
    raw: bool = True
    batch_size: int = Field(DEFAULT_BATCH_SIZE, gt=0)
    dedup_shards: int = Field(DEFAULT_DEDUP_SHARDS, gt=0)
    max_record_bytes: int | None = Field(None, gt=0)


class RunFile(BaseModel):
    """``run.yaml``: every key optional; unknown keys are an error (a typo is never ignored)."""

    model_config = _STRICT
    mode: Literal["batch", "streaming"] = "batch"
    inputs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # KIND:TARGET?key=value, as for --source
    start: str | None = None
    end: str | None = None
    sinks: tuple[str, ...] = ()  # KIND:URL?key=value, as for --sink (credentials come from the environment)
    enrichment: str | None = None  # an enrichment config file (docs/enrichment.md), as for --enrich-config
    rules: str | None = None  # a folder of detection rules (path only: the Detect stage loads it)
    # The run fails (exit 1) when dead letters are a larger share of the records than this (as
    # --max-deadletter-ratio; None: the command line's default).
    max_deadletter_ratio: float | None = Field(None, ge=0, le=1)
    windows: Windows = Windows()
    output: Output = Output()
    beam: dict[str, str | int | float | bool | list[str]] = {}  # Beam/Dataflow options, as --key=value

    @model_validator(mode="after")
    def _something_to_read(self) -> RunFile:
        if self.mode == "streaming" and self.inputs:
            raise ValueError("inputs are read in batch: use mode: batch, or stream sources")
        return self

    def beam_args(self) -> list[str]:
        args = []
        for key, value in self.beam.items():
            if isinstance(value, bool):
                if value:
                    args.append(f"--{key}")
            elif isinstance(value, list):
                args.extend(f"--{key}={v}" for v in value)
            else:
                args.append(f"--{key}={value}")
        return args


def load_run_file(path: str) -> RunFile:
    """Read and validate a run file (local path or any Beam filesystem URI); problems are one
    ``UsageError`` naming the key."""
    try:
        if "://" in path:
            from apache_beam.io.filesystems import FileSystems

            with FileSystems.open(path) as f:
                text = f.read()
        else:
            with open(path, "rb") as f:
                text = f.read()
    except Exception as exc:
        raise UsageError(f"cannot read run config {path!r}: {exc}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"run config {path!r} is not YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UsageError(f"run config {path!r} must be a mapping of keys to values")
    try:
        return RunFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise UsageError(f"run config {path!r}: {where}: {first['msg']}") from None


# --- the file as command-line defaults ---------------------------------------------------------------

def file_values(run: RunFile) -> dict[str, Any]:
    """The file's values by argparse dest of ``cloudaudit run``. Lists replace the defaults, never extend."""
    values: dict[str, Any] = {
        "input": list(run.inputs),
        "source": list(run.sources),
        "start": run.start,
        "end": run.end,
        "streaming": run.mode == "streaming",
        "enrich_config": run.enrichment,
        "rules": run.rules,
        "output": run.output.path,
        "no_raw": not run.output.raw,
        "batch_size": run.output.batch_size,
        "dedup_shards": run.output.dedup_shards,
        "window": run.windows.window,
        "allowed_lateness": run.windows.allowed_lateness,
        "dedup_ttl": run.windows.dedup_ttl,
        "idle_stop": run.windows.idle_stop,
    }
    if run.output.max_record_bytes is not None:
        values["max_record_bytes"] = run.output.max_record_bytes
    if run.max_deadletter_ratio is not None:
        values["max_deadletter_ratio"] = run.max_deadletter_ratio
    if run.sinks:
        from pipelines.sinks import parse_sink
        from pipelines.sinks.config import SinkConfigError

        try:
            values["sink"] = [parse_sink(s) for s in run.sinks]
        except SinkConfigError as exc:
            raise UsageError(f"run config: sinks: {exc}") from None
    return values


def merge_run_file(args: argparse.Namespace, defaults: argparse.Namespace, extra: list[str]) -> list[str]:
    """Fill ``args`` from ``args.config``: a value the command line left at its default takes the file's.
    Returns the Beam arguments: the file's first, the command line's after (the last one wins)."""
    run = load_run_file(args.config)
    for dest, value in file_values(run).items():
        if not hasattr(args, dest):
            setattr(args, dest, value)  # a key the command line has no option for (rules)
        elif getattr(args, dest) == getattr(defaults, dest, None):
            setattr(args, dest, value)
    return run.beam_args() + list(extra)


def check_rules(rules: str | None) -> None:
    """``rules:`` names the detection rules for the Detect stage; a run that cannot apply them refuses
    to start rather than run without detection."""
    if not rules:
        return
    import importlib.util

    if importlib.util.find_spec("detections") is None:
        raise UsageError(f"run config: rules: {rules!r} given, but this build has no detection stage")


# --- template parameters: one table for CloudauditOptions and dataflow/metadata.json -----------------

_PATH = r"^(gs://|s3://|azfs://|/)?[^\s]+$"
_SECONDS = r"^[0-9]+$"


@dataclass(frozen=True)
class Parameter:
    name: str  # the Beam option / template parameter (--name=value)
    flag: str  # the ``cloudaudit run`` option it becomes
    label: str
    help: str
    regex: str | None = None
    kind: Literal["text", "list", "flag"] = "text"  # list: comma-separated; flag: true/false


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("config", "--config", "Run configuration file",
              "run.yaml (gs://...) with sources, sinks, enrichment, rules, windows and output; the other "
              "parameters override it", _PATH),
    Parameter("input", "--input", "Input files",
              "comma-separated paths or globs of audit log files (gs://bucket/AWSLogs/**); batch only",
              r"^[^\s]+$", "list"),
    Parameter("source", "--source", "Cloud sources",
              "comma-separated KIND:TARGET?key=value sources, e.g. pubsub:projects/P/subscriptions/S, "
              "sqs:https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE, eventhub:NAMESPACE/HUB",
              r"^[a-z_]+:[^\s]+$", "list"),
    Parameter("start", "--start", "Start of the time range",
              "batch sources: ISO 8601 (2024-05-01T00:00:00Z) or relative (-24h)", r"^[-+0-9TZ:.a-z]+$"),
    Parameter("end", "--end", "End of the time range", "batch sources: exclusive end (default now)",
              r"^[-+0-9TZ:.a-z]+$"),
    Parameter("output", "--output", "Output location",
              "where cold storage, SIEM files and dead letters go, e.g. gs://lake/cloudaudit", r"^gs://[^\s]+$"),
    Parameter("sink", "--sink", "SIEM sinks",
              "comma-separated KIND:URL?options (hec, elastic, sentinel); tokens come from the worker "
              "environment or Secret Manager, never from here", r"^(hec|splunk|elastic|opensearch|sentinel):[^\s]+$",
              "list"),
    Parameter("enrich_config", "--enrich-config", "Enrichment configuration",
              "enrichment.yaml naming the reference files (directory, inventory, networks, indicators)", _PATH),
    Parameter("window", "--window", "Window (seconds)",
              "streaming: event-time window of the cold-storage writes; divides an hour (default 300)", _SECONDS),
    Parameter("allowed_lateness", "--allowed-lateness", "Allowed lateness (seconds)",
              "streaming: later events are dead letters too_late (default 3600)", _SECONDS),
    Parameter("dedup_ttl", "--dedup-ttl", "Dedup TTL (seconds)",
              "streaming: how long (event time) event ids are remembered (default 7200)", _SECONDS),
    Parameter("dedup_shards", "--dedup-shards", "Dedup shards",
              "groups per provider/date/hour partition (default 2)", _SECONDS),
    Parameter("batch_size", "--batch-size", "Batch size",
              "events per batch and SIEM request (default 2000)", _SECONDS),
    Parameter("max_record_bytes", "--max-record-bytes", "Largest record (bytes)",
              "larger records are dead letters", _SECONDS),
    Parameter("no_raw", "--no-raw", "Do not keep raw records",
              "true: no raw archive and no Event.raw", r"^(true|false)$", "flag"),
)


def template_argv(values: dict[str, Any]) -> list[str]:
    """Template parameter values (as Beam options give them) -> ``cloudaudit run`` arguments."""
    argv: list[str] = []
    for p in PARAMETERS:
        value = values.get(p.name)
        if value is None or value == "":
            continue
        if p.kind == "flag":
            if str(value).lower() in ("true", "1", "yes"):
                argv.append(p.flag)
        elif p.kind == "list":
            items = value if isinstance(value, list) else [value]
            for item in items:
                for part in str(item).split(","):
                    if part.strip():
                        argv.extend([p.flag, part.strip()])
        else:
            argv.extend([p.flag, str(value)])
    return argv


def metadata(name: str, description: str, streaming: bool = True) -> dict[str, Any]:
    """The Flex Template's metadata.json, every parameter with its label, help text and regex. One
    template runs batch and streaming (``--parameters streaming=true``); streaming jobs default to
    exactly-once, and at-least-once is allowed (docs/deploy-dataflow.md says when to choose it)."""
    params = []
    for p in PARAMETERS:
        entry: dict[str, Any] = {"name": p.name, "label": p.label, "helpText": p.help, "isOptional": True}
        if p.regex:
            entry["regexes"] = [p.regex]
        params.append(entry)
    return {
        "name": name,
        "description": description,
        "streaming": streaming,
        "supportsAtLeastOnce": True,
        "supportsExactlyOnce": True,
        "defaultStreamingMode": "EXACTLY_ONCE",
        "parameters": params,
    }
