"""Acknowledge after the write, on the local streaming runner: which poll rounds still carry events (or
dead letters) that are not yet durable.

The poll loop registers each round with the tokens of what it carried: ``e<id>`` per event, ``d<sha1>``
per dead-letter batch. The stages release tokens once the thing is durable: the dedup stage when a pane
holding the event is committed (its manifest written), or when the event is a duplicate of one already
committed; the dead-letter writer when the batch's file and manifest are written. An event that ends as
a dead letter (too late, rejected by Parquet) moves its rounds over to that batch's token. A round whose
tokens are all released is done, and the poll loop acknowledges its deliveries (SQS delete, Pub/Sub ack,
Event Hubs checkpoint); until then the sources keep extending their leases. A kill -9 at any moment thus
leaves every unacknowledged delivery to come again, and the id index of the committed panes drops what
was already written.

The local runner runs every stage in this process, so the ledger is a process-wide registry by run id;
on other runners nothing registers, and the stages' ``release`` calls do nothing (there the runner's own
durable state and bundle finalization carry the guarantee: see ``pipelines.stages.streams``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable

_LOCK = threading.Lock()


class AckLedger:
    """Rounds -> tokens still to become durable. Thread-safe; cheap when nothing is registered."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[int]] = {}  # token -> rounds waiting for it
        self._open: dict[int, int] = {}  # round -> tokens it still waits for
        self._done: list[int] = []
        # When a stage last reported something durable (wall clock): the end of the run's last write,
        # for the summary's rate.
        self.last_durable: float | None = None

    def register(self, round_: int, tokens: Iterable[str]) -> None:
        with _LOCK:
            n = 0
            for token in set(tokens):
                self._waiting.setdefault(token, set()).add(round_)
                n += 1
            if n:
                self._open[round_] = n
            else:
                self._done.append(round_)

    def durable(self, tokens: Iterable[str]) -> None:
        with _LOCK:
            self.last_durable = time.time()
            for token in tokens:
                for round_ in self._waiting.pop(token, ()):
                    self._release(round_)

    def transfer(self, tokens: Iterable[str], to: str) -> None:
        """What waited for ``tokens`` now waits for ``to`` (an event that became a dead letter)."""
        with _LOCK:
            for token in tokens:
                for round_ in self._waiting.pop(token, ()):
                    target = self._waiting.setdefault(to, set())
                    if round_ in target:
                        self._release(round_)
                    else:
                        target.add(round_)

    def waiting_for(self, token: str) -> bool:
        with _LOCK:
            return token in self._waiting

    def take_done(self) -> list[int]:
        with _LOCK:
            done, self._done = self._done, []
            return done

    @property
    def pending(self) -> int:
        with _LOCK:
            return len(self._open)

    def _release(self, round_: int) -> None:
        left = self._open.get(round_, 0) - 1
        if left > 0:
            self._open[round_] = left
        else:
            self._open.pop(round_, None)
            self._done.append(round_)


_LEDGERS: dict[str, AckLedger] = {}


def open_ledger(run_id: str) -> AckLedger:
    with _LOCK:
        return _LEDGERS.setdefault(run_id, AckLedger())


def close_ledger(run_id: str) -> None:
    with _LOCK:
        _LEDGERS.pop(run_id, None)


def ledger(run_id: str) -> AckLedger | None:
    return _LEDGERS.get(run_id)


def event_token(event_id: str) -> str:
    return "e" + event_id


def blob_token(blob: bytes) -> str:
    return "d" + hashlib.sha1(blob).hexdigest()


def durable(run_id: str, tokens: Iterable[str]) -> None:
    """The stages' hook: these tokens are durable (nothing happens unless a local poll loop waits)."""
    found = _LEDGERS.get(run_id)
    if found is not None:
        found.durable(tokens)


def transfer(run_id: str, tokens: Iterable[str], to: str) -> None:
    found = _LEDGERS.get(run_id)
    if found is not None:
        found.transfer(tokens, to)
