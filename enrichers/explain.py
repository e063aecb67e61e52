"""``cloudaudit enrich``: enrich events outside the pipeline, and explain where each added field came from.

Input is either normalized events (canonical JSON: one document, a JSON list, or JSON lines such as the
pipeline's ``siem/`` output) or raw audit records in any shape a connector reads (normalized first).
Events travel as canonical documents (``schemas.fastpath``), as in the pipeline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson

from connectors.errors import NonEvent
from connectors.normalize import Normalizer
from enrichers.chain import Explanation
from enrichers.context import EnrichmentContext
from schemas.deadletter import DeadLetter
from schemas.fastpath import Doc, event_document


def _is_event_doc(doc: Any) -> bool:
    return isinstance(doc, dict) and "schema_version" in doc and "what" in doc and "source" in doc


def read_events(
    data: bytes, location: str, normalizer: Normalizer | None = None
) -> Iterator[Doc | DeadLetter | NonEvent]:
    """Events (canonical documents) from canonical event JSON, else from raw records through the
    connectors (``normalizer`` must yield documents: ``Normalizer(documents=True)``)."""
    docs: list[Any] | None = None
    try:
        whole = orjson.loads(data)
        if _is_event_doc(whole):
            docs = [whole]
        elif isinstance(whole, list) and whole and all(_is_event_doc(d) for d in whole):
            docs = whole
    except orjson.JSONDecodeError:
        lines = [ln for ln in data.splitlines() if ln.strip()]
        try:
            first = orjson.loads(lines[0]) if lines else None
        except orjson.JSONDecodeError:
            first = None
        if _is_event_doc(first):
            docs = []
            for n, line in enumerate(lines):
                try:
                    docs.append(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    yield DeadLetter("parse", "invalid_json", f"line {n + 1}: {exc}", line, f"{location}#{n}")
    if docs is None:
        yield from (normalizer or Normalizer(documents=True)).blob(data, location)  # type: ignore[misc]
        return
    for n, doc in enumerate(docs):
        try:
            yield event_document(doc)  # as the normalizer's documents path decides (the model's error text)
        except Exception as exc:
            first_line = (str(exc).splitlines() or ["invalid"])[0]
            yield DeadLetter("validate", "invalid_event", first_line, orjson.dumps(doc), f"{location}#{n}")


def explain(doc: Doc, context: EnrichmentContext) -> list[Explanation]:
    """Enrich ``doc`` (a canonical event document) in place and return, for each field set, its value and
    its source."""
    trace: list[Explanation] = []
    counts: Counter[str] = Counter()
    context.chain.apply(doc, counts, trace)
    for name, outcome in _outcomes(counts):
        if outcome in ("miss", "none", "error") and not any(t.field.startswith(_FIELDS.get(name, "?")) for t in trace):
            why = _WHY_CATALOG if (name, outcome) == ("catalog", "miss") else _WHY[outcome]
            trace.append(Explanation(_FIELDS.get(name, name), None, f"{name}: {why}"))
    return trace


_FIELDS = {
    "identity": "who.person", "account": "where.account_context", "resource_tags": "what.resources",
    "network": "where.source", "catalog": "what.risk_tags",
}
_WHY = {
    "miss": "no reference entry for this event (left empty)",
    "none": "the event has nothing to look up",
    "error": "the lookup failed (left empty; counted as enrich/<name>/error)",
}
_WHY_CATALOG = "not a catalogued security-relevant action (category and tags as the mapper set them)"


def _outcomes(counts: Counter[str]) -> Iterator[tuple[str, str]]:
    for key in counts:
        _, name, outcome = key.split("/", 2)
        yield name, outcome


def format_text(doc: Doc, trace: list[Explanation]) -> str:
    """A readable report: one block per added field, its value and the source that gave it."""
    location = doc["source"]["location"]
    head = (
        f"event {doc['id']}  {doc['where']['provider']}  {doc['what']['action']}"
        + (f"  ({location})" if location else "")
    )
    lines = [head]
    for t in trace:
        value = "-" if t.value is None else orjson.dumps(t.value, default=str).decode()
        if len(value) > 300:
            value = value[:297] + "..."
        lines.append(f"  {t.field:<28} {value}")
        lines.append(f"  {'':<28} <- {t.source}")
    if len(lines) == 1:
        lines.append("  (no enricher is configured)")
    return "\n".join(lines)


def format_json(doc: Doc, trace: list[Explanation]) -> bytes:
    return orjson.dumps({
        "event": doc["id"],
        "provider": doc["where"]["provider"],
        "action": doc["what"]["action"],
        "location": doc["source"]["location"],
        "fields": [{"field": t.field, "value": t.value, "source": t.source} for t in trace],
    }, default=str)
