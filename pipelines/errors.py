"""Errors the command line reports as one line."""

from __future__ import annotations

from connectors.usage import UsageError, no_extra

__all__ = ["UsageError", "last_line", "no_extra"]


def last_line(exc: BaseException) -> str:
    """Beam wraps a worker's error in a long message holding the whole traceback; its last line names
    the error itself (with the exception's type when that line does not), shortened to 400 characters."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[-1] if lines else type(exc).__name__
    if ":" not in text:
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= 400 else text[:397] + "..."
