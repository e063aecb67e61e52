"""The one dead-letter format shared by every stage (read, parse, map, validate, enrich, sink).

A dead letter keeps the original bytes, where they came from and why they could not go on, as one JSON
line, so that `cloudaudit replay` can send it through the pipeline again after a fix.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

DEADLETTER_VERSION = 1


@dataclass(slots=True)
class DeadLetter:
    stage: str  # read | parse | map | validate | enrich | sink
    code: str  # short stable word, counted in the run summary: invalid_json, missing_time, ...
    reason: str  # readable sentence that names the problem
    payload: bytes  # the original bytes of the record (or of the unreadable part of a file)
    location: str  # where it was read: path#record-index, s3://bucket/key#3, ...
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    attempts: int = 1

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "deadletter_version": DEADLETTER_VERSION,
            "stage": self.stage,
            "code": self.code,
            "reason": self.reason,
            "time": self.time.isoformat(),
            "location": self.location,
            "attempts": self.attempts,
            "payload_bytes": len(self.payload),
        }
        try:
            d["payload"] = self.payload.decode("utf-8")
        except UnicodeDecodeError:
            d["payload_b64"] = base64.b64encode(self.payload).decode("ascii")
        return d

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DeadLetter:
        if "payload" in d:
            payload = str(d["payload"]).encode("utf-8")
        elif "payload_b64" in d:
            payload = base64.b64decode(d["payload_b64"])
        else:
            raise ValueError("dead letter has neither payload nor payload_b64")
        return cls(
            stage=str(d["stage"]),
            code=str(d.get("code", "unknown")),
            reason=str(d.get("reason", "")),
            payload=payload,
            location=str(d.get("location", "")),
            time=datetime.fromisoformat(d["time"]) if d.get("time") else datetime.now(UTC),
            attempts=int(d.get("attempts", 1)),
        )
