"""Where a connector's logs live: the source kinds a run can read from, batch and streaming.

A *blob* is ``(location, data)``: the bytes of one delivered file or message, in any wire shape the
``Normalizer`` reads (plain or gzip, JSON lines, a ``Records`` document, an envelope), and where it came
from (``s3://bucket/key``, ``pubsub://projects/p/subscriptions/s#<message id>``, ...). Every source kind
turns its cloud into blobs; the pipeline normalizes blobs exactly as it normalizes files.

- A **batch** source is a Beam ``PTransform`` applied to the pipeline root that yields blobs
  (``PCollection[tuple[str, bytes]]``) and ends. An object it listed but could not read (deleted since,
  access denied, retries exhausted) is yielded as a ``Delivery`` with ``error`` set (``ack_id`` None) in
  place of the blob, so the pipeline dead-letters it (stage "read") exactly as it does a stream's.
- A **stream** source is a ``StreamSource``: a pull client (``poll``/``ack``) that the streaming pipeline
  drives. Delivery is at least once: a delivery is acknowledged (SQS message deleted, Pub/Sub message
  acked, Event Hubs checkpoint written) only after its records are durable in the output (committed in cold
  storage, dead-lettered, or duplicates of committed events); whatever is not acknowledged is delivered
  again after a crash, and deduplication on ``Event.id`` keeps the output single. A source may offer
  ``extend_leases()``, called while the pipeline waits to acknowledge without polling.

A source is named on the command line as ``KIND:TARGET[?key=value&...]``, for example
``s3:my-trail-bucket/AWSLogs/o-abc123`` or ``pubsub:projects/p/subscriptions/audit``. Each connector
package lists its kinds in ``SOURCES`` (a tuple of ``SourceKind``); ``source_kinds()`` gathers them from
the registered connectors, so onboarding a new cloud's readers touches only its own package.

Credentials come only from each cloud's default chain (boto3's, Application Default Credentials,
``DefaultAzureCredential``); no source kind takes a secret as an argument, and none may put one in a
location, a log line, an error or a dead letter.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    import apache_beam as beam

    from connectors.options import QueryOptions

Blob = tuple[str, bytes]  # (location, bytes of one file or message)


class SourceError(ValueError):
    """A source spec or its options are wrong (one readable sentence; the command line exits 2)."""


@dataclass(frozen=True)
class SourceSpec:
    """A parsed ``KIND:TARGET?key=value`` plus the run's common options."""

    kind: str
    target: str
    params: Mapping[str, str] = field(default_factory=dict)
    start: datetime | None = None  # batch: the time range to read, [start, end)
    end: datetime | None = None

    @classmethod
    def parse(cls, text: str, start: datetime | None = None, end: datetime | None = None) -> SourceSpec:
        kind, sep, rest = text.partition(":")
        if not sep or not kind or not rest:
            raise SourceError(f"source {text!r} is not KIND:TARGET (for example s3:bucket/prefix)")
        target, _, query = rest.partition("?")
        params = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
        return cls(kind=kind.lower(), target=target, params=params, start=start, end=end)

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)


@dataclass(frozen=True)
class Delivery:
    """One unit a stream source hands over: its blob, and what ``ack`` needs to acknowledge it."""

    location: str
    data: bytes
    ack_id: Any  # opaque to the pipeline (receipt handle, ack id, (partition, offset), ...)
    # Set when one message announces several files (an S3 notification with several records): the
    # message is acknowledged once all its parts have entered the pipeline.
    part: int = 0
    parts: int = 1
    # Set when the delivery announced a file that could not be fetched (deleted, access denied): the
    # pipeline turns it into a dead letter (stage "read") with this reason, and it is acknowledged like
    # any other delivery, since reading it again would fail again. Never put a credential in it.
    error: str | None = None


@runtime_checkable
class StreamSource(Protocol):
    """A pull client for one stream. Constructed from a ``SourceSpec`` (it must pickle: clients are made
    in ``open``), then driven by the streaming pipeline: ``open``, ``poll``/``ack`` in a loop, ``close``."""

    def open(self) -> None: ...

    def poll(self, max_items: int, wait_seconds: float) -> Sequence[Delivery]:
        """Up to ``max_items`` deliveries, waiting at most ``wait_seconds`` for the first one."""
        ...

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge deliveries whose records have entered the pipeline."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SourceKind:
    """One way of reading a connector's logs, as the command line names it."""

    kind: str  # e.g. "s3", "sqs", "logging", "gcs", "pubsub", "azure-blob", "log-analytics", "eventhub"
    mode: Literal["batch", "stream"]
    summary: str  # one line for --help
    example: str  # a full --source value, for --help and the README
    # batch: spec -> PTransform(PBegin -> PCollection[Blob]); stream: spec -> StreamSource
    factory: Callable[[SourceSpec], beam.PTransform | StreamSource]
    params: Mapping[str, str] = field(default_factory=dict)  # ?key= options -> what each means
    # The kind's options as a pydantic model (connectors.options.QueryOptions): it parses and checks the
    # spec's query (``options``), and ``params`` (the help) comes from its field descriptions.
    options_model: type[QueryOptions] | None = None
    # Whether the kind reads --start/--end: "required" (the command line refuses to run without --start),
    # "optional", or "none" (a stream: the range is refused).
    time_range: Literal["required", "optional", "none"] = "optional"

    def __post_init__(self) -> None:
        if self.options_model is not None and not self.params:
            from connectors.options import options_help

            object.__setattr__(self, "params", options_help(self.options_model))

    def options(self, spec: SourceSpec) -> Any:
        """The spec's ``?key=value`` options parsed by the kind's model (a one-line ``SourceError``)."""
        from connectors.options import parse_options

        if self.options_model is None:
            raise SourceError(f"source {self.kind!r} has no options model")
        return parse_options(self.options_model, spec.params, f"source {self.kind!r}")


@cache
def source_kinds() -> dict[str, SourceKind]:
    """Every source kind of the registered connectors, by name."""
    from connectors.registry import connectors

    found: dict[str, SourceKind] = {}
    for connector in connectors():
        module = type(connector).__module__
        if not hasattr(importlib.import_module(module), "__path__"):  # defined in a module of the package
            module = module.rsplit(".", 1)[0]
        try:
            package = importlib.import_module(module)
        except ImportError:  # pragma: no cover - a connector package always imports
            continue
        for kind in getattr(package, "SOURCES", ()):
            if kind.kind in found:
                raise SourceError(f"source kind {kind.kind!r} is registered twice")
            found[kind.kind] = kind
    return found


def resolve(spec: SourceSpec) -> SourceKind:
    kinds = source_kinds()
    if spec.kind not in kinds:
        known = ", ".join(sorted(kinds)) or "none"
        raise SourceError(f"unknown source kind {spec.kind!r} (known: {known})")
    kind = kinds[spec.kind]
    if kind.options_model is not None:  # unknown keys and bad values: one line, before the run
        kind.options(spec)
        return kind
    unknown = sorted(set(spec.params) - set(kind.params))
    if unknown:
        raise SourceError(
            f"source {spec.kind!r} does not take {', '.join(unknown)} (it takes: {', '.join(kind.params) or 'nothing'})"
        )
    return kind
