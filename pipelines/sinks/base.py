"""What every SIEM sink shares: events in, batching, projection, retries with backoff, dead letters out.

A ``Sink`` is plain Python (no Beam): ``send(lines)`` takes canonical event JSON lines and returns which
event ids were delivered and which became dead letters. Every line ends in exactly one of the two;
``send`` never raises for anything the endpoint or the data does. That is the guarantee the Beam
composite, ``cloudaudit replay`` and the tests build on.

A kind implements ``attempt(items)``: one try at delivering a batch, saying per item whether it was
delivered, should be retried, or is rejected for good. The loop here does the rest: batches by count
and bytes, retries what is retryable with exponential backoff and full jitter (and at least the
server's Retry-After), and dead-letters what is left when the retries run out.

Each sink also has a circuit breaker, so an endpoint that is down costs bounded time, not retries times
batches. An attempt that delivers nothing and rejects nothing is an outage; after ``breaker_batches``
consecutive batches that ran out of retries (default 3), or ``breaker_seconds`` of continuous outage
(default 30, also the retry budget of a single batch), the sink is declared down: the batch in hand and
every later event go straight to the dead letters with code ``sink_unavailable`` and the last error,
the run finishes and exits non-zero, and ``cloudaudit replay`` delivers them once the endpoint is back.
Any attempt that gets an answer (delivered or rejected items) closes the breaker again.
"""

from __future__ import annotations

import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import orjson

from pipelines.redact import redact, register_secret
from pipelines.sinks.config import (
    SinkConfig,
    SinkConfigError,
    SinkOptions,
    register_projections,
    sink_options,
)
from schemas.deadletter import DeadLetter

log = logging.getLogger(__name__)

STAGE = "sink"
REASON_LIMIT = 1000
UNAVAILABLE = "sink_unavailable"


@dataclass(slots=True)
class Item:
    """One event on its way to a sink."""

    id: str
    line: bytes  # the canonical JSON line: the dead letter's payload, replayable as it is
    location: str  # where the event was read (source.location)
    time: str  # when.time, ISO 8601 UTC
    provider: str
    doc: dict[str, Any]  # the sink's projection of the event

    def size(self) -> int:
        return len(self.line)


@dataclass
class SendResult:
    delivered_ids: list[str] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)

    def extend(self, other: SendResult) -> None:
        self.delivered_ids.extend(other.delivered_ids)
        self.dead.extend(other.dead)


@dataclass
class Attempt:
    """What one try at a batch did; every item given to ``attempt`` must be in exactly one list."""

    delivered: list[Item] = field(default_factory=list)
    retry: list[Item] = field(default_factory=list)
    rejected: list[tuple[Item, str, str]] = field(default_factory=list)  # (item, code, reason)
    reason: str = ""  # why the retry list failed, for the dead letter if retries run out
    retry_after: float | None = None  # seconds the server asked for (Retry-After)


# --- projections: what an event becomes before a sink wraps it ------------------------------------


def canonical(event: dict[str, Any], keep_raw: bool) -> dict[str, Any]:
    """The canonical event JSON, as cold storage has it; ``raw`` (the last field) only when asked."""
    if not keep_raw:
        event.pop("raw", None)
    return event


Projection = Callable[[dict[str, Any], bool], dict[str, Any]]
PROJECTIONS: dict[str, Projection] = {"canonical": canonical}  # later issues add ocsf, ecs, ...


# --- the loop ----------------------------------------------------------------------------------------


class Sink(ABC):
    """Delivers canonical event lines to one endpoint; subclasses speak its protocol in ``attempt``."""

    kind: ClassVar[str]
    # The kind's options (pipelines.sinks.config.SinkOptions and what the kind adds): parse_sink checks a
    # value with it, the sink reads its settings from it, and docs/sinks.md shows it.
    OPTIONS_MODEL: ClassVar[type[SinkOptions]] = SinkOptions
    CREDENTIALS: ClassVar[str] = ""  # where credentials come from, for error messages and --help

    def __init__(self, config: SinkConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.name = config.name
        register_projections()
        opts = sink_options(self.OPTIONS_MODEL, config)
        self.projection_name = opts.projection
        self.project = PROJECTIONS[self.projection_name]
        self.keep_raw = opts.raw
        self.batch_events = opts.batch_events
        self.batch_bytes = opts.batch_bytes
        self.retries = opts.retries
        self.backoff = opts.backoff
        self.max_backoff = opts.max_backoff
        self.timeout = opts.timeout
        self.gzip = opts.gzip
        self.breaker_batches = opts.breaker_batches
        self.breaker_seconds = opts.breaker_seconds
        self._sleep = sleep
        self._clock = time.monotonic
        self._failed_batches = 0  # consecutive batches that ran out of retries
        self._outage_since: float | None = None  # when the current run of failed attempts began
        self.down_reason = ""  # set once the breaker opens: why, with the last error
        self._random = random.Random()
        self.configure(opts)

    def configure(self, opts: SinkOptions) -> None:  # noqa: B027 - optional hook
        """Read the kind's own options (and the environment); raise SinkConfigError when they cannot work."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def attempt(self, items: list[Item]) -> Attempt:
        """One try at delivering ``items`` (one batch, within the size limits)."""

    # -- public --

    def send(self, lines: list[bytes]) -> SendResult:
        """Deliver canonical event JSON lines; every line ends delivered or dead-lettered, never raised."""
        result = SendResult()
        items: list[Item] = []
        for line in lines:
            if not line.strip():
                continue
            item, letter = self.item(line)
            if letter is not None:
                result.dead.append(letter)
            elif item is not None:
                items.append(item)
        for batch in self.batches(items):
            if self.down_reason:  # the breaker is open: no more tries, no more waiting
                result.dead.extend(self.letter(i.line, i.location, UNAVAILABLE, self.down_reason) for i in batch)
                continue
            result.extend(self._deliver(batch))
        return result

    # -- the circuit breaker --

    def _answered(self) -> None:
        self._failed_batches = 0
        self._outage_since = None

    def _outage(self) -> float:
        """An attempt that got no answer; returns how long the outage has lasted."""
        now = self._clock()
        if self._outage_since is None:
            self._outage_since = now
        return now - self._outage_since

    def _trip(self, why: str, last_error: str) -> str:
        self.down_reason = f"sink declared down after {why}; last error: {last_error or 'no reason given'}"
        log.warning("sink %s: %s", self.name, self.down_reason)
        return self.down_reason

    def item(self, line: bytes) -> tuple[Item | None, DeadLetter | None]:
        """A line -> Item, or the dead letter saying why it is not an event this sink can send."""
        location = ""
        try:
            event = orjson.loads(line)
            location = str((event.get("source") or {}).get("location") or "")
            event_id = str(event["id"])
            provider = str((event.get("where") or {}).get("provider") or "")
            when = str(event["when"]["time"])
            datetime.fromisoformat(when)  # every sink files the event by its time
        except Exception as exc:
            reason = f"not a canonical event line: {type(exc).__name__}: {exc}"
            return None, self.letter(line, location, "invalid_event", reason)
        try:
            doc = self.project(event, self.keep_raw)
        except Exception as exc:
            return None, self.letter(
                line, location, "projection_failed", f"projection {self.projection_name} failed: {exc}"
            )
        item = Item(event_id, line, location, when, provider, doc)
        try:
            self.shape(item, event)
        except Exception as exc:
            return None, self.letter(line, location, "invalid_event", f"cannot wrap the event: {exc}")
        return item, None

    def shape(self, item: Item, event: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Wrap ``item.doc`` in what the sink's table needs (``event``: the parsed canonical event)."""

    def batches(self, items: list[Item]) -> Iterator[list[Item]]:
        """Consecutive batches within batch_events and batch_bytes (an item larger than batch_bytes goes
        alone: the endpoint decides whether it is too large)."""
        batch: list[Item] = []
        size = 0
        for item in items:
            n = item.size()
            if batch and (len(batch) >= self.batch_events or size + n > self.batch_bytes):
                yield batch
                batch, size = [], 0
            batch.append(item)
            size += n
        if batch:
            yield batch

    def letter(self, line: bytes, location: str, code: str, reason: str, attempts: int = 1) -> DeadLetter:
        text = redact(f"sink {self.name} ({self.kind}): {reason}")
        return DeadLetter(STAGE, code, text[:REASON_LIMIT], line, redact(location), attempts=attempts)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter, never shorter than Retry-After, never over max_backoff."""
        cap = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        d = self._random.uniform(0, cap)
        if retry_after is not None:
            d = max(d, min(retry_after, self.max_backoff))
        return d

    # -- the retry loop --

    def _deliver(self, batch: list[Item]) -> SendResult:
        result = SendResult()
        pending = batch
        attempt = 0
        while pending:
            attempt += 1
            try:
                outcome = self.attempt(pending)
            except SinkConfigError:
                raise
            except Exception as exc:  # a bug or an endpoint we did not foresee: retry, then dead-letter
                log.warning("sink %s: unexpected error: %s", self.name, exc, exc_info=True)
                outcome = Attempt(retry=list(pending), reason=f"unexpected error: {type(exc).__name__}: {exc}")
            result.delivered_ids.extend(i.id for i in outcome.delivered)
            for item, code, reason in outcome.rejected:
                result.dead.append(self.letter(item.line, item.location, code, reason, attempt))
            pending = outcome.retry
            if not pending:
                break
            outage = 0.0
            if outcome.delivered or outcome.rejected:
                self._answered()
            else:
                outage = self._outage()
            if outage >= self.breaker_seconds:
                why = self._trip(f"{outage:.0f}s of outage (breaker_seconds={self.breaker_seconds:g})", outcome.reason)
                result.dead.extend(self.letter(i.line, i.location, UNAVAILABLE, why, attempt) for i in pending)
                break
            if attempt > self.retries:
                self._failed_batches += 1
                if self._failed_batches >= self.breaker_batches:
                    why = self._trip(f"{self._failed_batches} consecutive failed batches", outcome.reason)
                    result.dead.extend(self.letter(i.line, i.location, UNAVAILABLE, why, attempt) for i in pending)
                    break
                reason = f"gave up after {attempt} attempts: {outcome.reason or 'no reason given'}"
                result.dead.extend(self.letter(i.line, i.location, "retries_exhausted", reason, attempt) for i in pending)
                break
            wait = self.delay(attempt, outcome.retry_after)
            if self._outage_since is not None:  # never wait past the outage budget
                wait = min(wait, max(0.0, self.breaker_seconds - (self._clock() - self._outage_since)))
            log.info("sink %s: %d events to retry in %.2fs: %s", self.name, len(pending), wait, outcome.reason)
            self._sleep(wait)
        return result


# --- HTTP helpers ------------------------------------------------------------------------------------


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (the HTTP-date form counts as 'unknown': backoff decides)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def short(text: str | bytes, limit: int = 300) -> str:
    """A response body for a reason: one line, bounded."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 3] + "..."


class HttpSink(Sink):
    """A sink that posts over one lazily opened requests Session (HEC, ``_bulk``)."""

    _session: Any = None

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    @property
    def session(self) -> Any:
        if self._session is None:
            self._session = http_session()
        return self._session


RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
GZIP_LEVEL = 3  # as the raw archive (store.py): levels 1-3 are equally fast on audit JSON, 6 at half the speed


def http_session() -> Any:
    """A requests Session with its own retries off (the sink's loop retries, with its own backoff)."""
    import requests
    from requests.adapters import HTTPAdapter

    s = requests.Session()
    adapter = HTTPAdapter(max_retries=0, pool_connections=2, pool_maxsize=4)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def env_secret(name: str, file_env: str | None = None) -> str | None:
    """A secret from the environment, or from the file an environment variable names (Kubernetes/Docker
    secrets); surrounding whitespace stripped."""
    import os

    value = os.environ.get(name)
    if value:
        register_secret(value)  # never written: see pipelines.redact
        return value.strip()
    if file_env and os.environ.get(file_env):
        path = os.environ[file_env]
        try:
            with open(path, encoding="utf-8") as f:
                secret = f.read().strip() or None
                register_secret(secret)
                return secret
        except OSError as exc:
            raise SinkConfigError(f"cannot read the file named by {file_env}: {exc.strerror or exc}") from None
    return None
