"""The onboarding kit: what makes a new log source one folder under ``connectors/``.

- ``write_skeleton`` (``cloudaudit new-source NAME``) writes a working package: ``__init__`` with the
  ``Connector``, ``parse.py`` (envelopes, ``claims``), ``tables.py`` (the mapping decisions as data),
  ``mapping.py`` (field groups read from the tables), a README for mapping decisions, a docs page and a
  first golden fixture whose expected output does not exist yet, so ``tests/test_golden.py`` fails until
  the engineer has looked at the mapping and written it (``UPDATE_GOLDEN=1``).
- The contract helpers below are what ``tests/connectors/test_contract.py`` runs over every registered
  connector, built-in or third-party: its folder, fixtures and docs, its wire-shape twins (fixtures named
  ``CASE@SHAPE.ext`` whose events must have the same ids) and the run-summary invariant over its records.
- ``AuthFields`` / ``privilege_change``: the one shape sign-ins and directory changes map into, so a
  rule written for one identity source reads every other.
"""

from __future__ import annotations

import argparse
import importlib
import keyword
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from connectors.base import Connector
from connectors.errors import NonEvent

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_SUFFIX = ".expected.json"
SHAPE_SEP = "@"  # testdata/CASE@SHAPE.ext: the same record in another wire shape -> the same event ids


# --- where a connector's things are ---------------------------------------------------------------


def package_dir(connector: Connector) -> Path:
    mod = importlib.import_module(type(connector).__module__)
    path = Path(mod.__file__ or "")
    return path.parent


def fixtures(connector: Connector) -> list[Path]:
    d = package_dir(connector) / "testdata"
    if not d.is_dir():
        return []
    return sorted(
        p for p in d.iterdir()
        if p.is_file() and not p.name.endswith(EXPECTED_SUFFIX) and not p.name.startswith(".")
    )


def expected_path(fixture: Path) -> Path:
    return fixture.with_name(fixture.name.split(".", 1)[0] + EXPECTED_SUFFIX)


def shape_twins(connector: Connector) -> dict[str, list[Path]]:
    """Fixtures grouped by case, for the cases written in more than one wire shape (``CASE@SHAPE``)."""
    groups: dict[str, list[Path]] = {}
    for f in fixtures(connector):
        stem = f.name.split(".", 1)[0]
        if SHAPE_SEP in stem:
            groups.setdefault(stem.split(SHAPE_SEP, 1)[0], []).append(f)
    return {k: v for k, v in groups.items() if len(v) > 1}


def layout_problems(connector: Connector) -> list[str]:
    """What the folder lacks: fixtures, expected outputs, a README with the mapping decisions, docs."""
    out = []
    pkg = package_dir(connector)
    fx = fixtures(connector)
    if not fx:
        out.append(f"{connector.name}: no golden fixtures in {pkg.name}/testdata/")
    for f in fx:
        if not expected_path(f).exists():
            out.append(f"{connector.name}: {f.name} has no {expected_path(f).name}")
    docs = ROOT / connector.docs_page()
    if not docs.exists():
        out.append(f"{connector.name}: docs page {connector.docs_page()} does not exist")
    if not (pkg / "README.md").exists() and not docs.exists():
        out.append(f"{connector.name}: neither README.md nor a docs page states the mapping decisions")
    return out


def records_of(connector: Connector) -> Iterator[dict[str, Any]]:
    """The plain records inside this connector's fixtures (envelopes opened), for property tests."""
    from connectors.normalize import Normalizer

    for f in fixtures(connector):
        for r in Normalizer(registered=[connector]).blob(f.read_bytes(), f.name):
            raw = getattr(r, "raw", None)
            if raw:
                yield orjson.loads(raw)


# --- the run-summary invariant -----------------------------------------------------------------------


def summary(results: Iterable[Any]) -> dict[str, int]:
    """read / events / duplicates / dead_letters / non_events over normalizer results, deduplicated by
    event id as the pipeline does; ``holds`` is 1 when read = events + dead letters + duplicates +
    non-events."""
    from schemas.deadletter import DeadLetter
    from schemas.event import Event

    c: Counter[str] = Counter()
    seen: set[str] = set()
    for r in results:
        c["read"] += 1
        if isinstance(r, Event):
            if r.id in seen:
                c["duplicates"] += 1
            else:
                seen.add(r.id)
                c["events"] += 1
        elif isinstance(r, DeadLetter):
            c["dead_letters"] += 1
        elif isinstance(r, NonEvent):
            c["non_events"] += 1
    c["holds"] = int(c["read"] == c["events"] + c["dead_letters"] + c["duplicates"] + c["non_events"])
    return dict(c)


# --- the shape identity sources map into -----------------------------------------------------------


def privilege_change(
    op: str,
    kind: str,
    *,
    role: str | None = None,
    role_name: str | None = None,
    grantee: dict[str, Any] | None = None,
    scope: str | None = None,
    condition: str | None = None,
) -> dict[str, Any]:
    """One ``what.privilege_changes`` item (schemas.event.PrivilegeChange), Nones left out."""
    d: dict[str, Any] = {"op": op, "kind": kind}
    for k, v in (("role", role), ("role_name", role_name), ("grantee", grantee), ("scope", scope),
                 ("condition", condition)):
        if v is not None:
            d[k] = v
    return d


def compact(d: dict[str, Any]) -> dict[str, Any] | None:
    """A sub-object with its None values dropped; None when nothing is left."""
    out = {k: v for k, v in d.items() if v is not None and v != [] and v != {}}
    return out or None


# --- cloudaudit new-source NAME --------------------------------------------------------------------

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class SkeletonError(ValueError):
    pass


def write_skeleton(
    name: str,
    root: Path = ROOT,
    provider: str | None = None,
    log: str = "audit",
    sample: dict[str, Any] | None = None,
) -> list[Path]:
    """Write ``connectors/NAME/`` (and ``docs/sources-NAME.md``) under ``root``; return the files written.

    ``sample`` is one record of the new log (the engineer's example); its top-level keys become the
    first ``claims`` rule and it becomes the first golden fixture, with no expected output yet.
    """
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise SkeletonError(f"source name {name!r} must be a lower-case identifier (letters, digits, _)")
    provider = provider or name.split("_", 1)[0]
    if not re.match(r"^[a-z][a-z0-9_]*$", provider) or not re.match(r"^[a-z][a-z0-9_]*$", log):
        raise SkeletonError("provider and log must be lower-case words")
    pkg = root / "connectors" / name
    if pkg.exists():
        raise SkeletonError(f"{pkg} already exists")
    record = sample if sample is not None else {
        "uuid": "00000000-0000-4000-8000-000000000001",
        "published": "2025-01-14T09:30:00Z",
        "eventType": "example.operation",
        "actor": {"id": "user-1", "email": "someone@example.com"},
        "client": {"ipAddress": "192.0.2.10"},
        "outcome": "success",
    }
    fields = {
        "name": name,
        "cls": "".join(p.capitalize() for p in name.split("_")) + "Connector",
        "provider": provider,
        "format": f"{provider}.{log}",
        "claim_keys": repr(tuple(sorted(record))),
    }
    files = {
        pkg / "__init__.py": _INIT,
        pkg / "parse.py": _PARSE,
        pkg / "tables.py": _TABLES,
        pkg / "mapping.py": _MAPPING,
        pkg / "README.md": _README,
        root / "docs" / f"sources-{name}.md": _DOCS,
    }
    written = []
    for path in files:
        if path.exists():
            raise SkeletonError(f"{path} already exists")
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**fields))
        written.append(path)
    fx = pkg / "testdata" / "first_record.json"
    fx.parent.mkdir(parents=True, exist_ok=True)
    fx.write_bytes(orjson.dumps(record, option=orjson.OPT_INDENT_2) + b"\n")
    written.append(fx)
    return written


def add_new_source_command(sub: Any) -> None:
    """``cloudaudit new-source NAME [--provider P] [--log L] [--sample FILE]``"""
    p = sub.add_parser(
        "new-source", help="write the skeleton of a new log source (connectors/NAME/), see docs/onboarding.md",
        allow_abbrev=False,
    )
    p.add_argument("name", metavar="NAME", help="package name, e.g. okta_system")
    p.add_argument("--provider", help="where.provider word (default: NAME up to the first _)")
    p.add_argument("--log", default="audit", help="second part of source.format PROVIDER.LOG (default: audit)")
    p.add_argument("--sample", metavar="FILE", help="one record of the new log (JSON): the first fixture")
    p.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_new_source)


def _cmd_new_source(args: argparse.Namespace, extra: list[str]) -> int:
    from pipelines.errors import UsageError, no_extra

    no_extra(extra)
    sample = None
    if args.sample:
        try:
            sample = orjson.loads(Path(args.sample).read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise UsageError(f"--sample {args.sample}: {exc}") from None
        if isinstance(sample, list) and sample and isinstance(sample[0], dict):
            sample = sample[0]
        if not isinstance(sample, dict):
            raise UsageError(f"--sample {args.sample}: one JSON object (a record) is needed")
    try:
        written = write_skeleton(args.name, Path(args.root), args.provider, args.log, sample)
    except SkeletonError as exc:
        raise UsageError(str(exc)) from None
    for p in written:
        print(p)
    print(
        f"next: edit connectors/{args.name}/tables.py and mapping.py, run "
        f"pytest tests/test_golden.py -k {args.name} (it fails until you write the expected output with "
        "UPDATE_GOLDEN=1 and review it), then tests/connectors/test_contract.py; see docs/onboarding.md",
        file=sys.stderr,
    )
    return 0


_INIT = '''"""{name}: written by ``cloudaudit new-source``; see README.md for the mapping decisions."""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, MapContext, Unwrapped
from connectors.errors import NonEvent
from connectors.sources import SourceKind

from . import parse
from .mapping import map_record


class {cls}(Connector):
    name = "{name}"
    format = "{format}"
    provider = "{provider}"
    docs = "docs/sources-{name}.md"
    before: tuple[str, ...] = ()  # connectors whose claims overlap and that must be asked after this one

    def unwrap(self, doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
        return parse.unwrap(doc)

    def claims(self, record: dict[str, Any]) -> bool:
        return parse.claims(record)

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | NonEvent:
        return map_record(record, ctx)


CONNECTOR = {cls}()

# Where the logs live: add SourceKind entries (see connectors/sources.py), each with an options model
# (connectors/options.py), when a reader is needed;
# files, GCS/S3/Azure blobs and the existing queues already read any JSON shape.
SOURCES: tuple[SourceKind, ...] = ()
'''

_PARSE = '''"""Wire shapes of {name}: envelopes around its records, and how to recognise one record."""

from __future__ import annotations

from typing import Any

from connectors.base import Unwrapped
from connectors.errors import NonEvent

from .tables import CLAIM_KEYS


def unwrap(doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
    """The records inside an envelope of this source (a page {{"items": [...]}}, ...), else None."""
    return None


def claims(record: dict[str, Any]) -> bool:
    """Cheap and specific: keys only. Another source must never match (the contract suite checks)."""
    return all(k in record for k in CLAIM_KEYS)
'''

_TABLES = '''"""The mapping decisions of {name}, as data (review them in README.md)."""

from __future__ import annotations

# A record is this source's when it has all of these top-level keys (narrow it down: see parse.claims).
CLAIM_KEYS: tuple[str, ...] = {claim_keys}

# Where the mapper finds each field, as dotted paths into the record.
PATHS: dict[str, str] = {{
    "native_id": "uuid",
    "time": "published",
    "operation": "eventType",
    "actor_id": "actor.id",
    "actor_email": "actor.email",
    "ip": "client.ipAddress",
    "outcome": "outcome",
}}

# operation -> (activity, category); operations not listed are ("other", "other").
OPERATIONS: dict[str, tuple[str, str]] = {{
    "example.operation": ("other", "other"),
}}

# the source's outcome words -> success/failure
OUTCOMES: dict[str, str] = {{"success": "success", "failure": "failure"}}
'''

_MAPPING = '''"""{name} record -> event dict, one small function per field group, read from tables.py."""

from __future__ import annotations

from typing import Any

from connectors.base import MapContext
from connectors.common import ip_or_domain, text
from connectors.errors import MappingError
from connectors.timeutil import parse_time
from schemas.ids import event_id

from .tables import OPERATIONS, OUTCOMES, PATHS

FORMAT = "{format}"
PROVIDER = "{provider}"


def get(record: dict[str, Any], key: str) -> Any:
    v: Any = record
    for part in PATHS[key].split("."):
        if not isinstance(v, dict):
            return None
        v = v.get(part)
    return v


def map_record(record: dict[str, Any], ctx: MapContext) -> dict[str, Any]:
    operation = text(get(record, "operation"))
    if operation is None:
        raise MappingError("missing_operation", f"no {{PATHS['operation']}}: the record does not say what happened")
    raw_time = get(record, "time")
    time, time_text = parse_time(raw_time, PATHS["time"])  # MappingError names the field when unusable
    native_id = text(get(record, "native_id"))
    activity, category = OPERATIONS.get(operation, ("other", "other"))
    ip, domain = ip_or_domain(text(get(record, "ip")))
    return {{
        "id": event_id(FORMAT, native_id, raw_time, operation),
        "when": {{"time": time, "time_text": time_text, "ingested": ctx.ingested}},
        "who": {{"actor": {{"type": "human" if get(record, "actor_email") else "unknown",
                          "id": text(get(record, "actor_id")), "email": text(get(record, "actor_email"))}}}},
        "what": {{
            "action": f"{name}:{{operation}}",
            "operation": operation,
            "activity": activity,
            "category": category,
            "outcome": OUTCOMES.get(str(get(record, "outcome")).lower(), "unknown"),
        }},
        "where": {{"provider": PROVIDER, "source": {{"ip": ip, "domain": domain}}}},
        "source": {{"format": FORMAT, "native_id": native_id, "location": ctx.location}},
        "raw": ctx.raw,
    }}
'''

_README = '''# {name}

Format `{format}`, provider `{provider}`. Written by `cloudaudit new-source`; replace this text with the
mapping decisions as you make them (docs/onboarding.md says what belongs here).

| Question | Field | From | Why |
|---|---|---|---|
| when | when.time | `published` | |
| who | who.actor.id / email | `actor.id` / `actor.email` | |
| what | what.action | `{name}:` + `eventType` | |
| outcome | what.outcome | `outcome` (tables.OUTCOMES) | |
| where | where.source.ip | `client.ipAddress` | |

Wire shapes: (list every shape the source delivers and how `parse.claims` tells them apart.)
'''

_DOCS = '''# Source: {name}

Format `{format}` (`where.provider` = `{provider}`). How to deliver these logs to cloudaudit, which
source kinds read them, and what each field means: see `connectors/{name}/README.md`.
'''
