"""What a run is asked to do: plain settings and defaults, importable without Beam (the command line
builds its help from them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connectors.normalize import MAX_RECORD_BYTES

if TYPE_CHECKING:
    from connectors.base import Connector

# The local runner for batch: FnApiRunner runs in this process and downloads nothing. Beam's default
# (DirectRunner) tries to download and start Prism first and falls back quietly when it cannot.
DEFAULT_RUNNER = "FnApiRunner"
# Inputs at least this large run on one local worker process per CPU (unless Beam options say otherwise).
PARALLEL_MIN_BYTES = 64 << 20
DEFAULT_OUTPUT = "out"
DEFAULT_BATCH_SIZE = 2000
DEFAULT_DEDUP_SHARDS = 2


@dataclass(frozen=True)
class Settings:
    """What the pipeline's DoFns need to know; pickled into them."""

    max_record_bytes: int = MAX_RECORD_BYTES  # larger records are dead letters
    keep_raw: bool = True  # Event.raw and the raw archive
    batch_size: int = DEFAULT_BATCH_SIZE  # events per spill flush, SIEM element and Parquet row group
    dedup_shards: int = DEFAULT_DEDUP_SHARDS  # groups per provider/date/hour partition
    # None: the registered connectors. Tests pass their own.
    connectors: tuple[Connector, ...] | None = None


@dataclass
class RunConfig:
    inputs: list[str]
    output: str = DEFAULT_OUTPUT
    settings: Settings = field(default_factory=Settings)
    beam_args: list[str] = field(default_factory=list)
