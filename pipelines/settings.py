"""What a run is asked to do: plain settings and defaults, importable without Beam (the command line
builds its help from them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connectors.normalize import MAX_RECORD_BYTES

if TYPE_CHECKING:
    from connectors.base import Connector
    from connectors.sources import SourceSpec
    from enrichers.config import EnrichmentConfig
    from pipelines.sinks import SinkConfig

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
    batch_size: int = DEFAULT_BATCH_SIZE  # events per spill flush and SIEM element (pipelines/store.py: row groups)
    dedup_shards: int = DEFAULT_DEDUP_SHARDS  # groups per provider/date/hour partition
    # None: the registered connectors. Tests pass their own.
    connectors: tuple[Connector, ...] | None = None
    # File-name globs a directory input reads (--include); empty: the log-like names (pipelines.read.LOG_LIKE).
    include: tuple[str, ...] = ()
    # Batch: Azure intermediate rows wait for the run's end; lone ones become events (pipelines/stages/lone_start.py).
    lone_starts: bool = False


# Streaming defaults (seconds): CloudTrail delivers within minutes, Azure rows arrive out of order; ids are
# remembered at least as long as an event can still land (window + lateness), so a redelivery that is not
# too late is always recognised.
DEFAULT_WINDOW_SECONDS = 300
DEFAULT_ALLOWED_LATENESS_SECONDS = 3600
DEFAULT_DEDUP_TTL_SECONDS = 7200


@dataclass
class RunConfig:
    inputs: list[str] = field(default_factory=list)
    output: str = DEFAULT_OUTPUT
    settings: Settings = field(default_factory=Settings)
    beam_args: list[str] = field(default_factory=list)
    # Sources (connectors.sources.SourceSpec), batch kinds without streaming, stream kinds with it.
    sources: list[SourceSpec] = field(default_factory=list)
    streaming: bool = False
    idle_stop_seconds: float | None = None  # streaming: end after this long without deliveries
    window_seconds: int = DEFAULT_WINDOW_SECONDS  # streaming: event-time window of the writes
    allowed_lateness_seconds: int = DEFAULT_ALLOWED_LATENESS_SECONDS
    dedup_ttl_seconds: int = DEFAULT_DEDUP_TTL_SECONDS  # streaming: how long (event time) ids are kept
    progress_seconds: float = 30.0  # streaming: interval of the progress line
    sinks: list[SinkConfig] = field(default_factory=list)  # SIEM sinks (pipelines.sinks), besides the files
    # Enrichment reference files (enrichers.config); None: no reference data, the bundled action catalog only.
    enrichment: EnrichmentConfig | None = None
    # An OCSF copy in Security Lake's custom-source layout under this root (pipelines.securitylake).
    security_lake: str | None = None
    security_lake_prefix: str = "cloudaudit"
    # Batch: event batches through the runner's shuffle (True) or spill files (False); None: spill files on
    # Beam's local runners, the shuffle elsewhere (pipelines.stages.shuffle).
    shuffle: bool | None = None
    group_readable: bool = False  # output files 0640 instead of 0600 (pipelines/interrupt.py)
    max_deadletter_ratio: float | None = None  # exit status 1 above this dead-letter share (None: not checked)
    # Detection rules (detections/): None = no detection, "" = the bundled pack, else a rule pack folder.
    rules: str | None = None


MICROS = 1_000_000


@dataclass(frozen=True)
class StreamSettings:
    """What the streaming stages need besides ``Settings``; pickled into the DoFns."""

    window_seconds: int = DEFAULT_WINDOW_SECONDS
    allowed_lateness_seconds: int = DEFAULT_ALLOWED_LATENESS_SECONDS
    dedup_ttl_seconds: int = DEFAULT_DEDUP_TTL_SECONDS
    # The OCSF copy in Security Lake's layout, written by each pane (pipelines.stages.cold); None: none.
    security_lake: str | None = None
    security_lake_prefix: str = "cloudaudit"

    @property
    def window_us(self) -> int:
        return self.window_seconds * MICROS

    @property
    def lateness_us(self) -> int:
        return self.allowed_lateness_seconds * MICROS

    @property
    def ttl_us(self) -> int:
        return self.dedup_ttl_seconds * MICROS

    @classmethod
    def of(cls, config: RunConfig) -> StreamSettings:
        return cls(config.window_seconds, config.allowed_lateness_seconds, config.dedup_ttl_seconds,
                   config.security_lake, config.security_lake_prefix)
