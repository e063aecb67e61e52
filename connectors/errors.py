"""Errors and non-event results a connector can give for one record."""

from __future__ import annotations

from dataclasses import dataclass


class MappingError(Exception):
    """A record that cannot say what happened, or when. Becomes a dead letter with this reason.

    ``code`` is a short stable word for counting (``missing_time``, ``unknown_shape``); ``reason`` is the
    readable sentence that names the problem.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class NonEvent:
    """A record that is not an audit event (a CloudTrail digest, an Insights event, an intermediate
    Azure operation row). Counted by ``kind``, never mapped and never dropped silently."""

    kind: str
    location: str = ""
