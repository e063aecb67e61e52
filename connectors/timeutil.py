"""Timestamp parsing shared by the mappers (every cloud's text forms to an aware UTC datetime), and time
ranges cut into slices for the source kinds that query by time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.errors import MappingError

# Anything outside this window is a broken clock or a broken record, not an audit event.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


_latest: list[Any] = [0.0, EARLIEST]  # (monotonic clock of the last refresh, latest acceptable time)


def _latest_acceptable() -> datetime:
    # Refreshed at most once a second: a clock read per record is measurable at 50k records/s.
    now = time.monotonic()
    if now - _latest[0] > 1.0:
        _latest[0] = now
        _latest[1] = datetime.now(UTC) + FUTURE_SLACK
    return _latest[1]  # type: ignore[return-value]


def _finer_than_microseconds(text: str) -> bool:
    dot = text.find(".")
    if dot < 0:
        return False
    frac = text[dot + 1 : dot + 8]
    return len(frac) == 7 and frac.isdigit()


def parse_time(value: object, field: str) -> tuple[datetime, str | None]:
    """Parse a timestamp; return (UTC datetime, original text if it is finer than microseconds).

    Accepts ISO 8601 with 'Z', offsets, a space separator, 0-9 fraction digits, BigQuery's " UTC"
    suffix (text without a zone is UTC, as Panther copies write it), and epoch seconds or milliseconds
    as numbers. The original text returned is the one given, untouched.
    Raises MappingError naming the field when the value is missing, unreadable or absurd.
    """
    if type(value) is str:
        # The common case first: ISO text that fromisoformat reads as it is (it rejects surrounding
        # blanks and " UTC", which take the general path below), already in UTC or zone-less.
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            tz = dt.tzinfo
            if tz is None:
                dt = datetime.combine(dt, dt.time(), UTC)  # replace(tzinfo=UTC), without its keyword parsing
            elif tz is not UTC:
                dt = dt.astimezone(UTC)
            if dt < EARLIEST or dt > _latest_acceptable():
                raise MappingError("absurd_time", f"{field}={_short(value)} is outside {EARLIEST.year}..now")
            # _finer_than_microseconds, inline: seven digits after the dot.
            dot = value.find(".")
            if dot >= 0 and len(value) - dot > 7 and value[dot + 1 : dot + 8].isdigit():
                return dt, value
            return dt, None
    if value is None or value == "":
        raise MappingError("missing_time", f"no timestamp in {field}")
    text: str | None = None
    if isinstance(value, bool):
        raise MappingError("bad_time", f"{field} is a boolean, not a timestamp")
    if isinstance(value, int | float):
        seconds = value / 1000.0 if value > 1e11 else float(value)
        try:
            dt = datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise MappingError("bad_time", f"{field}={value!r} is not a usable epoch time") from exc
    elif isinstance(value, str):
        text = value.strip()
        # BigQuery prints TIMESTAMP values with a trailing " UTC", which fromisoformat does not read.
        iso = text[:-4] + "+00:00" if text.endswith(" UTC") else text
        try:
            dt = datetime.fromisoformat(iso)
        except ValueError as exc:
            raise MappingError("bad_time", f"{field}={_short(value)} is not an ISO 8601 timestamp") from exc
        dt = datetime.combine(dt, dt.time(), UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    else:
        raise MappingError("bad_time", f"{field} is a {type(value).__name__}, not a timestamp")
    if dt < EARLIEST or dt > _latest_acceptable():
        raise MappingError("absurd_time", f"{field}={_short(value)} is outside {EARLIEST.year}..now")
    keep = text if text is not None and _finer_than_microseconds(text) else None
    return dt, keep


def parse_time_opt(value: object) -> datetime | None:
    """Lenient form for secondary timestamps (observed, session created): None when unreadable."""
    if value is None or value == "":
        return None
    try:
        return parse_time(value, "optional")[0]
    except MappingError:
        return None


def _short(value: object, n: int = 60) -> str:
    s = repr(value)
    return s if len(s) <= n else s[: n - 3] + "..."


def time_slices(start: datetime, end: datetime, size: timedelta) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive half-open slices of ``size`` (the last one shorter)."""
    out: list[tuple[datetime, datetime]] = []
    t = start
    while t < end:
        nxt = min(t + size, end)
        out.append((t, nxt))
        t = nxt
    return out
