"""Golden files: every connector's ``testdata/`` holds raw fixtures beside their expected results.

``connectors/<source>/testdata/<case>.<ext>`` (any shape, plain or gzip) is normalized and compared with
``<case>.expected.json``: a list with one entry per record, an event (as JSON, without ``raw`` and
``when.ingested``, which depend on the run) or ``{"dead_letter": {stage, code}}`` or
``{"non_event": kind}``. ``UPDATE_GOLDEN=1`` rewrites the expected files; review the diff like code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from connectors.errors import NonEvent
from connectors.normalize import Normalizer
from schemas.deadletter import DeadLetter
from schemas.event import Event

ROOT = Path(__file__).resolve().parent.parent


def fixtures() -> list[Path]:
    out = []
    for d in sorted((ROOT / "connectors").glob("*/testdata")):
        for p in sorted(d.iterdir()):
            if p.is_file() and not p.name.endswith(".expected.json") and not p.name.startswith("."):
                out.append(p)
    return out


def expected_path(fixture: Path) -> Path:
    return fixture.with_name(fixture.name.split(".", 1)[0] + ".expected.json")


def comparable(result: Any) -> dict[str, Any]:
    if isinstance(result, Event):
        d = result.model_dump(mode="json")
        d.pop("raw", None)
        d["when"].pop("ingested", None)
        return d
    if isinstance(result, DeadLetter):
        return {"dead_letter": {"stage": result.stage, "code": result.code}}
    if isinstance(result, NonEvent):
        return {"non_event": result.kind}
    raise TypeError(type(result))


def run_fixture(fixture: Path) -> list[dict[str, Any]]:
    rel = fixture.relative_to(ROOT).as_posix()
    return [comparable(r) for r in Normalizer().blob(fixture.read_bytes(), rel)]


def dump(results: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
