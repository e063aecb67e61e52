"""Retry waits shared by the source kinds that retry on their own (Cloud Logging, Log Analytics): capped
exponential backoff with full jitter, honouring the server's Retry-After."""

from __future__ import annotations


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None, rnd: float) -> float:
    """Wait before retry ``attempt`` (1-based): the server's Retry-After when it gives one (never more than
    ``cap``), else full jitter over a capped exponential (so parallel slices that were throttled together
    spread out). ``rnd`` is a uniform draw in [0, 1)."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), cap)
    return min(cap, base * (2 ** (attempt - 1))) * rnd


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header as seconds; None when absent or an HTTP date (our own backoff decides)."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
