"""What the GCP source kinds share: the audit log names, the time range, and error text that
never carries a credential.

Plain functions, no Beam and no Google client imports, so they are testable alone and cheap to import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from connectors.gcp_audit.options import AUDIT_LOGS  # noqa: F401  (the names, where they were)
from connectors.sources import SourceError, SourceSpec

AUDIT_LOG_PREFIX = "cloudaudit.googleapis.com"

# A secret-looking run of characters: bearer tokens, private key bodies, refresh tokens. Error text from a
# library is cut at the first of these before it is shown, in case it echoed a request.
_SECRETISH = re.compile(
    r"(ya29\.|Bearer\s|eyJ[A-Za-z0-9_-]{4,}|-----BEGIN|refresh_token|client_secret|private_key|access_token"
    r"|assertion|password|sig=)",
    re.IGNORECASE,
)


def utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def rfc3339(t: datetime) -> str:
    """The timestamp literal the Logging filter language compares with (UTC, microseconds)."""
    return utc(t).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def time_range(spec: SourceSpec, required: bool) -> tuple[datetime | None, datetime | None]:
    """The run's [start, end) in UTC; ``end`` defaults to now once a start is given."""
    if spec.start is None:
        if required:
            raise SourceError(f"{spec.kind} needs --start (and --end, default now): the time range to read")
        if spec.end is not None:
            raise SourceError(f"{spec.kind}: --end was given without --start")
        return None, None
    start = utc(spec.start)
    end = utc(spec.end) if spec.end is not None else datetime.now(UTC)
    if end <= start:
        raise SourceError(f"{spec.kind}: --end {end.isoformat()} is not after --start {start.isoformat()}")
    return start, end


def safe_text(text: object, limit: int = 300) -> str:
    """One line of someone else's error text, cut before anything that looks like a credential."""
    s = " ".join(str(text).split())
    m = _SECRETISH.search(s)
    if m:
        s = s[: m.start()].rstrip(" :,;{(\"'") + " [rest withheld]"
    return s if len(s) <= limit else s[: limit - 3] + "..."


def describe(exc: BaseException) -> str:
    """A failed call in one line: the API's code and message (never the request, which held the token)."""
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    prefix = f"{type(exc).__name__}"
    if code is not None and not callable(code):
        prefix += f" {code}"
    return f"{prefix}: {safe_text(message)}"


def join(names: Iterable[str]) -> str:
    return ", ".join(names)
