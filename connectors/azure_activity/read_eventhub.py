"""Azure Activity Logs streamed from Event Hubs (diagnostic settings), checkpoints in blob storage.

Source kind ``eventhub`` (stream): ``eventhub:NAMESPACE.servicebus.windows.net/HUB?checkpoint=CONTAINER_URL``.

Diagnostic settings publish one message per batch of records, its body ``{"records": [...]}``; each
message is one ``Delivery`` (the normalizer unwraps the envelope) at
``eventhub://NAMESPACE/HUB/PARTITION#OFFSET``.

How it reads: ``EventHubConsumerClient.receive_batch`` runs its own loop (claiming partitions through the
checkpoint store, greedily, so one instance reads them all at once) in a background thread, and hands
events to a bounded queue that ``poll`` drains: when the pipeline falls behind, the queue fills and the
receive loop waits. A partition without a checkpoint starts at the earliest retained event (``start=latest``
to skip the backlog); one with a checkpoint resumes after it.

At least once: the checkpoint of a partition (offset and sequence number, the blob layout the SDK's
``BlobCheckpointStore`` reads back) is written only from ``ack``, and only over the prefix of that
partition's deliveries that are all acknowledged. Whatever was handed out but not acknowledged when the
process stops (or crashes) is read again by the next run, and deduplication on the event id keeps the
output single. A stopped source releases its partitions at once; after a crash they are claimable when the
old ownership expires (``partition_ownership_expiration_interval``: ``ownership_expiry=``, 60 s by default,
at least twice ``balance_interval=``, 10 s by default).

Credentials: ``DefaultAzureCredential`` with the fully qualified namespace, for the hub and for the
checkpoint container. Local-development overrides, never needed in production:
``AZURE_EVENTHUB_CONNECTION_STRING`` (e.g. the Event Hubs emulator's, ``UseDevelopmentEmulator=true``) and
``AZURE_STORAGE_CONNECTION_STRING`` (e.g. Azurite). Secrets never reach a location, log line or error:
every error text passes through ``redact``.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from connectors.options import parse_options
from connectors.sources import Delivery, SourceError, SourceSpec

from .options import EventHubQuery

log = logging.getLogger(__name__)

ENV_EVENTHUB = "AZURE_EVENTHUB_CONNECTION_STRING"
ENV_STORAGE = "AZURE_STORAGE_CONNECTION_STRING"
STARTS = {"earliest": "-1", "latest": "@latest"}
_HUB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$")
_SECRETS = (
    (re.compile(r"\b(SharedAccessKey|AccountKey|SharedAccessSignature)\s*=\s*[^;\s]+", re.I), r"\1=***"),
    (re.compile(r"\bSharedAccessSignature\s+\S+", re.I), "SharedAccessSignature ***"),
    (re.compile(r"([?&;]|\b)sig=[^&;\s]+", re.I), r"\1sig=***"),
    (re.compile(r"\b(Bearer)\s+[A-Za-z0-9._~+/=-]+", re.I), r"\1 ***"),
)


class EventHubSourceError(RuntimeError):
    """The hub or the checkpoint store cannot be used (one line, no credential in it)."""


def redact(text: str) -> str:
    """An error or log text with account keys, SAS tokens and bearer tokens replaced by ``***``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return redact(f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__)


@dataclass(frozen=True)
class EventHubOptions:
    namespace: str  # fully qualified: NAME.servicebus.windows.net (host:port for the emulator)
    hub: str
    checkpoint_url: str  # the container: https://ACCOUNT.blob.core.windows.net/CONTAINER
    consumer_group: str = "$Default"
    start: str = "earliest"
    endpoint: str | None = None  # custom AMQP endpoint (sb://host:port): private endpoint, gateway, tests
    max_batch: int = 100
    queue_size: int = 1000  # deliveries buffered ahead of poll
    load_balancing_interval: float = 10.0
    ownership_expiry: float = 60.0
    retry_total: int = 3  # the SDK's retries of one AMQP operation (its default); the loop retries on
    retry_backoff: float = 0.8


def split_container_url(url: str) -> tuple[str, str]:
    """``https://acct.blob.core.windows.net/container`` -> (account URL, container). Azurite-style URLs
    (``http://127.0.0.1:10000/account/container``) keep the account in the account URL."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if parts.scheme not in ("https", "http") or not parts.netloc or not segments:
        raise SourceError("eventhub checkpoint must be a blob container URL such as "
                          "https://ACCOUNT.blob.core.windows.net/CONTAINER")
    account_path = "/".join(segments[:-1])
    account_url = f"{parts.scheme}://{parts.netloc}" + (f"/{account_path}" if account_path else "")
    return account_url, segments[-1]


def options_from_spec(spec: SourceSpec) -> EventHubOptions:
    """Check the spec before the run; a SourceError is a one-line usage error."""
    namespace, sep, hub = spec.target.strip().strip("/").rpartition("/")
    if not sep or not namespace or not _HUB_NAME.match(hub):
        raise SourceError(
            f"eventhub target {spec.target!r} is not NAMESPACE.servicebus.windows.net/HUB"
        )
    if "." not in namespace and ":" not in namespace:
        namespace = f"{namespace}.servicebus.windows.net"
    query = parse_options(EventHubQuery, spec.params, "source 'eventhub'")
    return EventHubOptions(namespace=namespace.lower(), hub=hub, checkpoint_url=query.checkpoint,
                           consumer_group=query.consumer_group, start=query.start, endpoint=query.endpoint,
                           load_balancing_interval=query.balance_interval, ownership_expiry=query.expiry)


def location(namespace: str, hub: str, partition: str, offset: str) -> str:
    return f"eventhub://{namespace}/{hub}/{partition}#{offset}"


def event_body(event: Any) -> bytes:
    """The message body as bytes, whatever the section type (data, value, sequence)."""
    body = event.body
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, Iterable) and not isinstance(body, dict):
        parts = list(body)
        if all(isinstance(p, bytes | bytearray) for p in parts):
            return b"".join(parts)
        body = parts
    import orjson

    return orjson.dumps(body, default=str)


class CheckpointTracker:
    """Per partition, the deliveries handed out (by sequence number, in order) and which are acked. The
    checkpoint may move only over a prefix that is all acknowledged: an event acked before an earlier one
    must not let a crash skip the earlier one."""

    def __init__(self) -> None:
        self._pending: dict[str, dict[int, tuple[str, bool]]] = {}  # partition -> seq -> (offset, acked)
        self._done: dict[str, int] = {}  # partition -> highest sequence number checkpointable
        self._lock = threading.Lock()

    def handed(self, partition: str, sequence_number: int, offset: str) -> None:
        with self._lock:
            if sequence_number <= self._done.get(partition, -1):
                return  # read again after a partition moved: already covered by the checkpoint
            self._pending.setdefault(partition, {}).setdefault(sequence_number, (offset, False))

    def acked(self, partition: str, sequence_number: int) -> tuple[int, str] | None:
        """Mark one delivery; the new checkpoint (sequence number, offset) if the prefix grew."""
        with self._lock:
            pending = self._pending.get(partition)
            if not pending or sequence_number not in pending:
                return None
            offset, _ = pending[sequence_number]
            pending[sequence_number] = (offset, True)
            moved: tuple[int, str] | None = None
            for seq in sorted(pending):
                off, done = pending[seq]
                if not done:
                    break
                del pending[seq]
                moved = (seq, off)
            if moved is not None:
                self._done[partition] = moved[0]
            return moved

    def outstanding(self) -> int:
        with self._lock:
            return sum(len(p) for p in self._pending.values())


class EventHubSource:
    """The ``eventhub`` stream source (``connectors.sources.StreamSource``). Pickles with its options
    only; clients, the receive thread and the queue are made in ``open``."""

    def __init__(self, options: EventHubOptions) -> None:
        self.options = options
        self._reset()

    def _reset(self) -> None:
        self._client: Any = None
        self._store: Any = None
        self._credential: Any = None
        self._thread: threading.Thread | None = None
        self._queue: queue.Queue[Delivery] = queue.Queue(self.options.queue_size)
        self._tracker = CheckpointTracker()
        self._closing = threading.Event()
        self._failure: str | None = None
        self.checkpoints_written = 0

    def __getstate__(self) -> dict[str, Any]:
        return {"options": self.options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.options = state["options"]
        self._reset()

    # --- clients --------------------------------------------------------------------------------

    def _default_credential(self) -> Any:
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        return self._credential

    def _make_store(self) -> Any:
        import os

        from azure.eventhub.extensions.checkpointstoreblob import BlobCheckpointStore
        from azure.storage.blob import ContainerClient

        account_url, container = split_container_url(self.options.checkpoint_url)
        conn = os.environ.get(ENV_STORAGE)
        if conn:
            check = ContainerClient.from_connection_string(conn, container)
            store = BlobCheckpointStore.from_connection_string(conn, container)
        else:
            check = ContainerClient(account_url, container, credential=self._default_credential())
            store = BlobCheckpointStore(account_url, container, credential=self._default_credential())
        shown = f"{account_url}/{container}"
        try:
            exists = check.exists()
        except Exception as exc:  # any SDK error: say which container, keep the secret out
            raise EventHubSourceError(f"checkpoint container {shown} cannot be read: {one_line(exc)}") from None
        finally:
            check.close()
        if not exists:
            raise EventHubSourceError(
                f"checkpoint container {shown} does not exist: create it first (it is not created "
                "here, so that a typo cannot silently start a new, empty checkpoint store)"
            )
        return store

    def _make_client(self, store: Any) -> Any:
        import os

        from azure.eventhub import EventHubConsumerClient, TransportType, parse_connection_string

        o = self.options
        common: dict[str, Any] = dict(
            consumer_group=o.consumer_group,
            checkpoint_store=store,
            load_balancing_strategy="greedy",
            load_balancing_interval=o.load_balancing_interval,
            partition_ownership_expiration_interval=o.ownership_expiry,
            retry_total=o.retry_total,
            retry_backoff_factor=o.retry_backoff,
        )
        ca_bundle = os.environ.get("SSL_CERT_FILE")
        if ca_bundle:
            # The SDK's AMQP stack trusts certifi's bundle only; a CA bundle set the OpenSSL way (a TLS
            # inspecting proxy, a private CA) is honoured too. Verification itself is never turned off.
            common["connection_verify"] = ca_bundle
        if o.endpoint:
            # AMQP over TLS to that host:port (the SDK would default a custom endpoint to web sockets).
            common["custom_endpoint_address"] = o.endpoint
            common["transport_type"] = TransportType.Amqp
        conn = os.environ.get(ENV_EVENTHUB)
        if conn:
            try:
                props = parse_connection_string(conn)
            except ValueError:
                raise EventHubSourceError(f"{ENV_EVENTHUB} is not an Event Hubs connection string") from None
            if props.fully_qualified_namespace.lower() != o.namespace:
                raise EventHubSourceError(
                    f"{ENV_EVENTHUB} is for namespace {props.fully_qualified_namespace}, the source names "
                    f"{o.namespace}"
                )
            if props.eventhub_name and props.eventhub_name != o.hub:
                raise EventHubSourceError(f"{ENV_EVENTHUB} is for hub {props.eventhub_name}, the source names {o.hub}")
            return EventHubConsumerClient.from_connection_string(conn, eventhub_name=o.hub, **common)
        return EventHubConsumerClient(o.namespace, o.hub, credential=self._default_credential(), **common)

    # --- StreamSource --------------------------------------------------------------------------------

    def open(self) -> None:
        self._store = self._make_store()
        self._client = self._make_client(self._store)
        self._thread = threading.Thread(target=self._receive, name=f"eventhub-{self.options.hub}", daemon=True)
        self._thread.start()
        log.info("Event Hubs %s/%s (%s): receiving", self.options.namespace, self.options.hub,
                 self.options.consumer_group)

    def _receive(self) -> None:
        try:
            self._client.receive_batch(
                on_event_batch=self._on_batch,
                on_error=self._on_error,
                max_batch_size=self.options.max_batch,
                starting_position=STARTS[self.options.start],
            )
        except Exception as exc:
            self._failure = one_line(exc)
            log.error("Event Hubs %s/%s: receiving stopped: %s", self.options.namespace, self.options.hub,
                      self._failure)

    def _on_batch(self, context: Any, events: list[Any]) -> None:
        o = self.options
        for event in events:
            partition = context.partition_id
            offset = str(event.offset)
            seq = int(event.sequence_number)
            self._tracker.handed(partition, seq, offset)
            delivery = Delivery(location(o.namespace, o.hub, partition, offset), event_body(event),
                                (partition, seq, offset))
            while not self._closing.is_set():
                try:
                    self._queue.put(delivery, timeout=0.5)
                    break
                except queue.Full:
                    continue

    def _on_error(self, context: Any, error: BaseException) -> None:
        where = f"partition {context.partition_id}" if context is not None else "load balancing"
        log.warning("Event Hubs %s/%s %s: %s (retrying)", self.options.namespace, self.options.hub, where,
                    one_line(error))

    def poll(self, max_items: int, wait_seconds: float) -> Sequence[Delivery]:
        if self._failure is not None:
            raise EventHubSourceError(f"Event Hubs {self.options.namespace}/{self.options.hub}: {self._failure}")
        out: list[Delivery] = []
        try:
            out.append(self._queue.get(timeout=max(wait_seconds, 0.0)) if wait_seconds > 0
                       else self._queue.get_nowait())
        except queue.Empty:
            return out
        while len(out) < max_items:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return out

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        moved: dict[str, tuple[int, str]] = {}
        for d in deliveries:
            partition, seq, _offset = d.ack_id
            position = self._tracker.acked(partition, seq)
            if position is not None:
                moved[partition] = position
        for partition, (seq, offset) in moved.items():
            checkpoint = {
                # the store lower-cases blob names, so this matches what the SDK reads back
                "fully_qualified_namespace": self.options.namespace,
                "eventhub_name": self.options.hub,
                "consumer_group": self.options.consumer_group,
                "partition_id": partition,
                "sequence_number": seq,
                "offset": offset,
            }
            try:
                self._store.update_checkpoint(checkpoint)
                self.checkpoints_written += 1
            except Exception as exc:
                # Not fatal: the events stay delivered; a restart reads them again (at least once).
                log.warning("Event Hubs %s/%s partition %s: checkpoint not written: %s",
                            self.options.namespace, self.options.hub, partition, one_line(exc))

    def close(self) -> None:
        self._closing.set()
        if self._client is not None:
            try:
                self._client.close()  # stops the receive loop and releases the partitions
            except Exception as exc:
                log.warning("Event Hubs %s/%s: close: %s", self.options.namespace, self.options.hub,
                            one_line(exc))
        if self._thread is not None:
            self._thread.join(30)
        for thing in (self._store, self._credential):
            if thing is not None and hasattr(thing, "close"):
                with contextlib.suppress(Exception):  # closing is best effort
                    thing.close()
        self._client = self._store = self._credential = None
        self._thread = None


def source(spec: SourceSpec) -> EventHubSource:
    """The ``eventhub`` factory for ``SOURCES``."""
    return EventHubSource(options_from_spec(spec))
