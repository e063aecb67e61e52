"""Projections of the cloudaudit event into the schemas SIEMs already speak: OCSF 1.8.0 and ECS 9.

Each projection is a plain function over the canonical event JSON (a dict): ``project(event, keep_raw)``.
``PROJECTIONS`` names them for sinks and the command line; ``native`` is the event itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from schemas.projections import ecs, ocsf

Json = dict[str, Any]


def native(event: Json, keep_raw: bool = False) -> Json:
    """The canonical event JSON as cold storage has it; ``raw`` only when asked."""
    if not keep_raw:
        event.pop("raw", None)
    return event


PROJECTIONS: dict[str, Callable[[Json, bool], Json]] = {
    "native": native,
    "ocsf": ocsf.project,
    "ecs": ecs.project,
}
NAMES = tuple(PROJECTIONS)


def project(event: Any, name: str, keep_raw: bool = False) -> Json | None:
    """An Event (or its JSON dict) -> the named projection. A record that is not an event (a
    ``NonEvent``: CloudTrail digest, Insights row, ...) projects to nothing: None."""
    from schemas.event import Event

    if isinstance(event, Event):
        event = event.model_dump(mode="json")
    elif not isinstance(event, dict):
        return None
    return PROJECTIONS[name](event, keep_raw)


def project_line(event: Any, name: str, keep_raw: bool = False) -> bytes:
    """An Event -> its projection as one JSON line (``cloudaudit normalize --projection``)."""
    return orjson.dumps(project(event, name, keep_raw)) + b"\n"
