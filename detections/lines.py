"""Detection on canonical event lines, one person at a time, without Beam or a model per event.

``keyed`` turns a batch of enriched canonical lines into (person key, item): every event as the few fields
``related`` shows, and whole only when some rule's prefilter lets it through. ``detect_person`` runs
``Engine.detect`` on one person's items, building models only for the candidates. The pipeline's
``Detect`` (``detections.beam``), the streaming stage and ``hunt`` over raw files all detect this way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import orjson

from detections.engine import Brief, Engine
from detections.fastkeys import RuleIndex, scan
from detections.helpers import person_key
from detections.rule import CompiledPrefilter, Threshold
from schemas.event import Event

FULL, LIGHT = b"F", b"L"
_F = FULL[0]


def strip_raw(line: bytes) -> bytes:
    """The canonical line without ``raw`` (its last field; a quote inside it is escaped, so the last
    ``,"raw":`` is the key): alerts never carry it, and models build faster without it."""
    i = line.rfind(b',"raw":')
    return line[:i] + b"}" if i > 0 else line


def keyed(batch: bytes, prefilters: Sequence[CompiledPrefilter] | RuleIndex) -> Iterator[tuple[str, bytes]]:
    """A batch of canonical lines -> (person key, item). An item is ``b"L"`` + the light record
    ``[bits, id, time, provider, account, action, outcome, risk_tags]`` (JSON, the values' text copied
    from the line) for every event; for the events some prefilter passes, ``b"F"`` + the light record +
    ``b"\\n"`` + the line without ``raw``. Bit ``i`` of ``bits`` says that ``prefilters[i]`` (the engine's
    ``rules[i]``) lets the event through. No model is built and the line is not parsed as a whole
    (``detections.fastkeys``)."""
    index = prefilters if isinstance(prefilters, RuleIndex) else RuleIndex(prefilters)
    pos, size = 0, len(batch)
    while pos < size:  # the lines are read in place; only a candidate's line is copied
        end = batch.find(b"\n", pos)
        if end < 0:
            end = size
        start, pos = pos, end + 1
        if end == start or (batch[start] != 0x7B and batch[start:end].isspace()):  # 0x7B: "{"
            continue
        key, bits, light = scan(batch, index, start, end)
        if bits:
            cut = batch.rfind(b',"raw":', start, end)  # as strip_raw
            yield key, b"".join((FULL, light, b"\n", batch[start:cut] + b"}" if cut > start else batch[start:end]))
        else:
            yield key, LIGHT + light


def _brief(rec: list[Any], key: str) -> Brief:
    _, i, t, provider, account, action, outcome, tags = rec
    return Brief(i, datetime.fromisoformat(t), key, provider, account, action, outcome or "unknown", tags or [])


def _dense(times: list[datetime], th: Threshold) -> bool:
    """Whether more than ``th.more_than`` of ``times`` (sorted) fall within one ``th.window``: without that
    the threshold cannot fire, whatever its match and distinct values say, so no model is needed."""
    lo = 0
    for hi, t in enumerate(times):
        while times[lo] < t - th.window:
            lo += 1
        if hi - lo + 1 > th.more_than:
            return True
    return False


def detect_person(items: Iterable[bytes], engine: Engine) -> list[dict[str, Any]]:
    """One person's items (from ``keyed`` with the prefilters of ``engine.rules``, in that order) ->
    alerts. Models are built only for events a single-event rule's prefilter passes, or a threshold
    rule's whose prefilter passes more than its count within its window; everything else is context for
    ``related``, decoded only when there is an alert."""
    items = list(items)
    full = [x for x in items if x[0] == _F]
    if not full:
        return []
    cands: list[tuple[list[Any], bytes]] = []
    for x in full:
        head, _, line = x[1:].partition(b"\n")
        cands.append((orjson.loads(head), line))
    for n, rule in enumerate(engine.rules):
        th = rule.meta.threshold
        bit = 1 << n
        if th is None:
            continue
        times = sorted(datetime.fromisoformat(rec[2]) for rec, _ in cands if rec[0] & bit)
        if times and not _dense(times, th):
            for rec, _ in cands:
                rec[0] &= ~bit
    docs = {rec[1]: line for rec, line in cands if rec[0]}
    bits = {rec[1]: rec[0] for rec, _ in cands if rec[0]}
    if not docs:
        return []
    build = [Event.model_validate_json(line) for line in docs.values()]
    built = docs.keys()
    key = person_key(build[0])

    def context() -> Iterator[Event | Brief]:
        yield from build
        for rec, _ in cands:
            if rec[1] not in built:
                yield _brief(rec, key)
        light = [x[1:] for x in items if x[0] != _F]
        if light:  # one decode for all of them
            for rec in orjson.loads(b"".join((b"[", b",".join(light), b"]"))):
                yield _brief(rec, key)

    return engine.detect(build, context=context(), documents=docs, prefiltered=bits)
