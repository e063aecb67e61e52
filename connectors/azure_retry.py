"""azure-core's retry policy for the Azure clients that POST (the Log Analytics query client and the Logs
Ingestion client), instead of switching the client's retries off and retrying by hand.

azure-core retries 408, 429, 500, 502, 503 and 504, connection and read errors, with exponential backoff,
and waits what ``Retry-After`` says. It does so for every method only on 500/503/504 or with
``Retry-After``; a 408, a 502 or a 429 without ``Retry-After`` is retried for idempotent methods only.
Both clients here POST where sending again is safe: a query only reads, and ingestion is at least once
by design (every row carries its ``EventId``). So POST joins the retried methods; all the rest (which
codes, the waits, ``Retry-After``, the timeout) is azure-core's own.
"""

from __future__ import annotations

import threading
from typing import Any

from azure.core.pipeline.policies import RetryPolicy


class PostRetryPolicy(RetryPolicy):
    """``RetryPolicy`` with POST among the methods retried on every retryable status; ``attempts()`` is
    how many requests the calling thread's last call took (for error messages)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._local = threading.local()

    def configure_retries(self, options: dict[str, Any]) -> dict[str, Any]:
        settings = super().configure_retries(options)
        settings["methods"] = frozenset(settings["methods"]) | {"POST"}
        self._local.attempts = 1
        return settings

    def increment(self, settings: dict[str, Any], response: Any = None, error: Exception | None = None) -> bool:
        more = super().increment(settings, response=response, error=error)
        if more:
            self._local.attempts = getattr(self._local, "attempts", 1) + 1
        return bool(more)

    def get_retry_after(self, response: Any) -> float | None:
        """The service's Retry-After, never longer than ``retry_backoff_max`` (a run must not stall on
        one answer; the retry budget still bounds how often it is asked)."""
        after = super().get_retry_after(response)
        return None if after is None else min(after, float(self.backoff_max))

    def attempts(self) -> int:
        return int(getattr(self._local, "attempts", 0))


def retry_policy(attempts: int, backoff: float, backoff_max: float) -> PostRetryPolicy:
    """At most ``attempts`` requests in all (connection, read and status failures alike), the waits
    ``backoff`` doubling up to ``backoff_max`` seconds (a Retry-After replaces them, up to the same cap)."""
    retries = max(0, attempts - 1)
    return PostRetryPolicy(
        retry_total=retries,
        retry_connect=retries,
        retry_read=retries,
        retry_status=retries,
        retry_backoff_factor=backoff,
        retry_backoff_max=backoff_max,
    )
