"""GCP Cloud Audit Logs from a Pub/Sub subscription fed by a log sink: a pull ``StreamSource``.

Source kind ``pubsub`` (stream): ``pubsub:projects/P/subscriptions/S``.

A log sink to a topic publishes one LogEntry JSON per message. The source pulls synchronously
(``SubscriberClient.pull`` with ``max_messages``, waiting up to the poll's wait time for the first
message), hands each message over as a ``Delivery`` at ``pubsub://projects/P/subscriptions/S#<message
id>``, and acknowledges a message only in ``ack``, once the pipeline says its records have entered it.
Until then a lease thread keeps extending the messages' ack deadline (``modifyAckDeadline`` to
``ack_deadline`` seconds, every few seconds, for at most ``max_lease``), so a slow batch is not delivered
a second time while it is still being worked on; ``close`` gives back (nacks, deadline 0) whatever was
not acknowledged, so another reader gets it at once. After a crash nothing is acknowledged: Pub/Sub
delivers the messages again when their deadline runs out, and deduplication on the event id keeps the
output single.

Client: google-cloud-pubsub on Application Default Credentials; it honours ``PUBSUB_EMULATOR_HOST``.
Transient errors (UNAVAILABLE, RESOURCE_EXHAUSTED, INTERNAL, ABORTED) are retried with exponential backoff
and jitter (google-api-core's ``Retry``); a poll that still fails returns nothing and logs why (the
stream tries again), while a permanent error (subscription missing, permission denied) raises
``PubSubSourceError``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connectors.gcp_audit.options import PubsubQuery
from connectors.gcp_audit.read_common import describe
from connectors.options import parse_options
from connectors.sources import Delivery, SourceError, SourceSpec

log = logging.getLogger(__name__)

_SUBSCRIPTION = re.compile(r"^projects/[a-z][a-z0-9.:-]{2,62}/subscriptions/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$")
MAX_PULL = 1000  # the API's max_messages ceiling
ACK_CHUNK = 2500  # ack ids per acknowledge/modifyAckDeadline request, as the client library batches them


class PubSubSourceError(RuntimeError):
    """The subscription cannot be read (missing, permission denied, no credentials)."""


@dataclass(frozen=True)
class PubSubOptions:
    subscription: str
    ack_deadline: int = 60  # seconds each lease extension asks for (10..600)
    max_lease: float = 3600.0  # give up extending a message after this long; it is delivered again
    retry_timeout: float = 60.0  # seconds google-api-core may spend retrying one transient failure


def options_from_spec(spec: SourceSpec) -> PubSubOptions:
    sub = spec.target.strip().strip("/")
    if not _SUBSCRIPTION.match(sub):
        raise SourceError(
            f"pubsub target {spec.target!r} is not a subscription name projects/PROJECT/subscriptions/NAME"
        )
    query = parse_options(PubsubQuery, spec.params, f"source {spec.kind!r}")
    return PubSubOptions(subscription=sub, ack_deadline=query.ack_deadline, max_lease=float(query.max_lease))


def message_location(subscription: str, message_id: str) -> str:
    return f"pubsub://{subscription}#{message_id}"


def lease_interval(ack_deadline: int) -> float:
    """How often leases are extended: well inside the shortest deadline a subscription can have (10 s),
    whatever the subscription's own setting is (reading it would need another permission)."""
    return max(1.0, min(ack_deadline, 10) / 2.0)


def _chunks(items: Sequence[str], size: int = ACK_CHUNK) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class PubSubSource:
    """A pull client for one subscription (see the module docstring). Pickles: the client, the lease
    thread and its lock are made in ``open``."""

    def __init__(self, options: PubSubOptions) -> None:
        self.options = options
        self._client: Any = None
        self._leases: dict[str, float] = {}  # ack id -> when it was pulled (monotonic)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"options": self.options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["options"])  # type: ignore[misc]

    # --- StreamSource --------------------------------------------------------------------------

    def open(self) -> None:
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import pubsub_v1

        try:
            self._client = pubsub_v1.SubscriberClient()
        except DefaultCredentialsError:
            raise PubSubSourceError(
                "no Google credentials in the default chain (Application Default Credentials) for "
                f"{self.options.subscription}"
            ) from None
        self._stop.clear()
        self._thread = threading.Thread(target=self._lease_loop, name="pubsub-lease", daemon=True)
        self._thread.start()

    def poll(self, max_items: int, wait_seconds: float) -> Sequence[Delivery]:
        from google.api_core import exceptions as gexc

        client = self._require_client()
        n = max(1, min(int(max_items), MAX_PULL))
        try:
            resp = client.pull(
                request={"subscription": self.options.subscription, "max_messages": n},
                retry=self._retry(),
                timeout=max(float(wait_seconds), 1.0),
            )
        except (gexc.DeadlineExceeded, gexc.RetryError) as exc:
            if isinstance(exc, gexc.RetryError):
                log.warning("pull from %s still failing after retries: %s", self.options.subscription,
                            describe(exc.cause or exc))
            return []  # nothing arrived in time: the stream polls again
        except (gexc.ServiceUnavailable, gexc.ResourceExhausted, gexc.InternalServerError, gexc.Aborted,
                gexc.Unknown) as exc:
            log.warning("pull from %s failed, will poll again: %s", self.options.subscription, describe(exc))
            return []
        except gexc.GoogleAPICallError as exc:
            raise PubSubSourceError(f"cannot pull from {self.options.subscription}: {describe(exc)}") from None
        except Exception as exc:
            if type(exc).__module__.startswith("google.auth"):
                raise PubSubSourceError(
                    f"cannot pull from {self.options.subscription}: could not get an access token from "
                    f"Application Default Credentials ({type(exc).__name__})"
                ) from None
            raise
        now = time.monotonic()
        out: list[Delivery] = []
        with self._lock:
            for received in resp.received_messages:
                msg = received.message
                self._leases[received.ack_id] = now
                out.append(
                    Delivery(
                        location=message_location(self.options.subscription, msg.message_id),
                        data=bytes(msg.data),
                        ack_id=received.ack_id,
                    )
                )
        return out

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        ids = self._take([d.ack_id for d in deliveries if d.ack_id])
        for chunk in _chunks(ids):
            self._call("acknowledge", {"subscription": self.options.subscription, "ack_ids": list(chunk)})

    def nack(self, deliveries: Sequence[Delivery]) -> None:
        """Give deliveries back at once (ack deadline 0), for another reader or the next poll."""
        ids = self._take([d.ack_id for d in deliveries if d.ack_id])
        self._modack(ids, 0)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._client is not None:
            with self._lock:
                ids = list(self._leases)
                self._leases.clear()
            self._modack(ids, 0)
            self._client.close()
            self._client = None

    # --- internals -----------------------------------------------------------------------------

    def _require_client(self) -> Any:
        if self._client is None:
            raise PubSubSourceError("the Pub/Sub source was used before open()")
        return self._client

    def _retry(self) -> Any:
        from google.api_core import exceptions as gexc
        from google.api_core.retry import Retry, if_exception_type

        return Retry(
            predicate=if_exception_type(
                gexc.ServiceUnavailable, gexc.ResourceExhausted, gexc.InternalServerError, gexc.Aborted,
                gexc.Unknown,
            ),
            initial=0.25,
            maximum=10.0,
            multiplier=2.0,
            timeout=self.options.retry_timeout,
        )

    def _take(self, ids: list[str]) -> list[str]:
        with self._lock:
            for i in ids:
                self._leases.pop(i, None)
        return ids

    def _modack(self, ids: Sequence[str], seconds: int) -> None:
        for chunk in _chunks(ids):
            self._call(
                "modify_ack_deadline",
                {"subscription": self.options.subscription, "ack_ids": list(chunk), "ack_deadline_seconds": seconds},
            )

    def _call(self, method: str, request: dict[str, Any]) -> None:
        """ack / modack: a failure is logged, not raised; the worst outcome is a redelivery, which
        deduplication absorbs."""
        from google.api_core import exceptions as gexc

        if self._client is None:
            return
        try:
            getattr(self._client, method)(request=request, retry=self._retry(), timeout=30.0)
        except (gexc.GoogleAPIError, OSError) as exc:
            log.warning("%s on %s for %d messages failed (they may be delivered again): %s", method,
                        self.options.subscription, len(request["ack_ids"]), describe(exc))

    def _lease_loop(self) -> None:
        interval = lease_interval(self.options.ack_deadline)
        while not self._stop.wait(interval):
            now = time.monotonic()
            with self._lock:
                expired = [i for i, t in self._leases.items() if now - t > self.options.max_lease]
                for i in expired:
                    del self._leases[i]
                ids = list(self._leases)
            if expired:
                log.warning("%d messages from %s held longer than max_lease=%.0f s: no longer extended, "
                            "Pub/Sub will deliver them again", len(expired), self.options.subscription,
                            self.options.max_lease)
            if ids:
                self._modack(ids, self.options.ack_deadline)


def source(spec: SourceSpec) -> PubSubSource:
    return PubSubSource(options_from_spec(spec))
