"""docs/schema.md: the field reference, generated from the model, the samples and the projection tables.

For every field of the native event: its type, its meaning (the description on the pydantic model), an
example per cloud (the first value in the bundled demo samples, normalized and enriched with the demo
reference data), what fills it (a mapper or an enricher), and its OCSF 1.8 and ECS 9 targets side by
side (``tables.FIELD_TARGETS``). ``python -m schemas.export`` (``make schemas``) writes it; a test fails
when the checked-in page differs from what the generator makes.
"""

from __future__ import annotations

import types
import typing
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from schemas.event import SCHEMA_VERSION, Event
from schemas.projections import tables as t

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
DEMO_REFERENCE = ROOT / "examples" / "reference" / "enrichment.yaml"
DOC = ROOT / "docs" / "schema.md"
PROVIDERS = ("aws", "gcp", "azure")
NO_EXAMPLE = {"when.ingested": "(time of the run)", "raw": "(the original record)"}
EXAMPLE_CHARS = 48

# What fills a field, by path or covering prefix ('.*'); everything else comes from the connectors' mappers.
FILLED_BY: dict[str, str] = {
    "id": "schemas.ids (from source format and native id)",
    "schema_version": "the model (constant)",
    "when.ingested": "the pipeline (normalize stage)",
    "who.person.*": "enricher identity (directory reference data)",
    "where.account_context.*": "enricher resources (inventory reference data)",
    "what.resources.tags.*": "mapper; enricher resources (inventory tags)",
    "where.source.geo.*": "enricher network (MaxMind GeoIP database)",
    "where.source.asn": "enricher network (MaxMind ASN database)",
    "where.source.as_org": "enricher network (MaxMind ASN database)",
    "where.source.cloud_provider": "enricher network (published cloud ranges)",
    "where.source.cloud_service": "enricher network (published cloud ranges)",
    "where.source.internal": "enricher network (internal networks)",
    "where.source.threat_tags": "enricher network (indicators)",
    "what.category": "mapper; enricher catalog (action catalog)",
    "what.activity": "mapper; enricher catalog (action catalog)",
    "what.risk_tags": "enricher catalog (action catalog)",
}
MAPPER = "mapper"


@dataclass
class Field:
    path: str
    type: str
    description: str


def _type_text(annotation: Any) -> tuple[str, type[BaseModel] | None]:
    """A readable type and the sub-model (if the field holds one)."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _type_text(inner[0]) if len(inner) == 1 else (" or ".join(_type_text(a)[0] for a in inner), None)
    if origin is list:
        text, sub = _type_text(args[0])
        return f"list of {text}", sub
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in args), None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object", annotation
    if getattr(annotation, "__name__", "") == "AwareDatetime" or (
        isinstance(annotation, type) and issubclass(annotation, datetime)
    ):
        return "timestamp (ISO 8601, UTC)", None
    name = getattr(annotation, "__name__", str(annotation))
    return {"str": "string", "bool": "boolean", "int": "integer", "float": "number"}.get(name, name), None


def fields(model: type[BaseModel] = Event, prefix: str = "") -> Iterator[Field]:
    """Every leaf field of the model, depth first in declaration order ('a.b.c' paths, lists as is)."""
    for name, info in model.model_fields.items():
        text, sub = _type_text(info.annotation)
        path = f"{prefix}{name}"
        if sub is not None:
            yield Field(path, text, info.description or "")
            yield from fields(sub, f"{path}.")
        else:
            yield Field(path, text, info.description or "")


def leaf_paths() -> list[str]:
    return [f.path for f in fields() if f.type not in ("object", "list of object")]


def _covering(table: dict[str, str], path: str) -> str | None:
    if path in table:
        return table[path]
    parts = path.split(".")
    for n in range(len(parts) - 1, 0, -1):
        hit = table.get(".".join(parts[:n]) + ".*")
        if hit is not None:
            return hit
    return None


# --- examples from the samples -----------------------------------------------------------------------


def _values(data: Any, path: list[str]) -> Iterator[Any]:
    if not path:
        if data not in (None, "", [], {}):
            yield data
        return
    if isinstance(data, list):
        for item in data:
            yield from _values(item, path)
    elif isinstance(data, dict) and path[0] in data:
        yield from _values(data[path[0]], path[1:])


def sample_events() -> list[dict[str, Any]]:
    from connectors.normalize import Normalizer

    enrich = _demo_enricher()
    norm = Normalizer(keep_raw=False)
    out = []
    for path in sorted(p for p in SAMPLES.rglob("*") if p.is_file() and "malformed" not in p.parts):
        for r in norm.blob(path.read_bytes(), path.relative_to(ROOT).as_posix()):
            if isinstance(r, Event):
                out.append(enrich(r).model_dump(mode="json", exclude_none=True))
    return out


def _demo_enricher() -> Any:
    try:
        from enrichers.config import EnrichmentConfig
        from enrichers.context import load_context

        ctx = load_context(EnrichmentConfig.from_file(str(DEMO_REFERENCE)))
    except Exception:  # the page still lists every field; examples then come from mapping alone
        return lambda e: e
    counts: Counter[str] = Counter()
    return lambda e: ctx.enrich(e, counts)


def examples(events: list[dict[str, Any]]) -> tuple[dict[tuple[str, str], str], dict[str, set[str]]]:
    """(path, provider) -> first example text; path -> providers whose samples fill it."""
    first: dict[tuple[str, str], str] = {}
    seen: dict[str, set[str]] = {}
    paths = leaf_paths()
    for e in events:
        provider = e["where"]["provider"]
        for path in paths:
            if (path, provider) in first:
                continue
            for v in _values(e, path.split(".")):
                first[(path, provider)] = _short(v)
                seen.setdefault(path, set()).add(provider)
                break
    return first, seen


def _short(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "—"


# --- the page ----------------------------------------------------------------------------------------


def render(events: list[dict[str, Any]] | None = None) -> str:
    events = sample_events() if events is None else events
    first, seen = examples(events)
    out = [
        "# The cloudaudit event: field reference",
        "",
        f"Schema version {SCHEMA_VERSION}. Generated by `make schemas` (`python -m schemas.export`) from the "
        "model (`schemas/event.py`), the demo samples (`samples/`, enriched with `examples/reference/`) and "
        "the projection tables (`schemas/projections/tables.py`); `tests/projections/test_reference.py` "
        "fails when this page is stale. Do not edit by hand.",
        "",
        f"- **OCSF**: OCSF {t.OCSF_VERSION} with the `cloud` profile. The class comes from the event: "
        "Authentication (3002) for sign-ins, Account Change (3001) for identity lifecycle and credentials, "
        "User Access Management (3005) for privilege grants (when `what.privilege_changes` is filled), "
        "API Activity (6003) for the rest (`cloudaudit normalize --projection ocsf`).",
        "- **ECS**: ECS 9 (`cloudaudit normalize --projection ecs`); `cloud.account.id` is the account "
        "acted on, the caller's account is `cloud.origin.account.id`; fields ECS has no place for are "
        "under `cloudaudit.*`.",
        "- **Examples** are the first value in the bundled samples of each cloud (— where its samples "
        "have none). **Filled by** names the mapper or enricher, and which clouds' samples fill it.",
        "",
    ]
    groups: dict[str, list[str]] = {}
    for f in fields():
        nested = "." in f.path or f.type in ("object", "list of object")
        rows = groups.setdefault(f.path.split(".")[0] if nested else "event", [])
        if f.type in ("object", "list of object"):
            rows.append(f"| **{f.path}** | {f.type} | {_cell(f.description)} | | | | | | |")
            continue
        targets = t.field_targets(f.path) or ("?", "?")
        filled = _covering(FILLED_BY, f.path) or MAPPER
        providers = [p for p in PROVIDERS if p in seen.get(f.path, set())]
        if providers:
            filled += f" ({', '.join(providers)})"
        ex = [NO_EXAMPLE.get(f.path) or first.get((f.path, p), "") for p in PROVIDERS]
        rows.append(
            f"| `{f.path}` | {_cell(f.type)} | {_cell(f.description)} | "
            + " | ".join(f"`{_cell(x)}`" if x else "—" for x in ex)
            + f" | {_cell(filled)} | {_cell(targets[0])} | {_cell(targets[1])} |"
        )
    for group, rows in groups.items():
        out += ["", f"## {group}", "", "| Field | Type | Meaning | AWS example | GCP example | Azure example "
                "| Filled by | OCSF 1.8 | ECS 9 |", "|---|---|---|---|---|---|---|---|---|", *rows]
    return "\n".join(out) + "\n"
