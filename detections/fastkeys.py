"""The detection stage's per-event work on canonical event lines, without building a model or parsing
the whole line.

A canonical line is ``Event.model_dump_json()`` (the SIEM line): its fields come in the model's order, so
the few fields the prefilters, the person key and ``related`` read are found with ``bytes.find`` on
anchors that name the field *and* its place in the structure (``},"what":{"action":``). A quote inside
a JSON string is always escaped, so such an anchor cannot match inside a string value; the only
free-form object before ``where`` is none (resource tags are a list of ``{key, value}``), and ``raw``
comes last. A line that does not have this shape, or a value with an escape in it, takes the slow path
(``orjson`` on the line without ``raw``), which gives the same fields: a test keeps the two equal.

The values are kept as their JSON text (``b'"aws"'``, ``b'null'``, ``b'["iam.admin_grant"]'``), so the
light record a non-candidate event travels as is a join of slices, never decoded and re-encoded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

import orjson

from detections.rule import CompiledPrefilter


class Fields(NamedTuple):
    """The JSON text of the fields detection reads from one canonical line."""

    id: bytes
    time: bytes
    actor_type: bytes
    actor_id: bytes
    actor_name: bytes
    actor_email: bytes
    person_id: bytes
    action: bytes
    outcome: bytes
    risk_tags: bytes
    provider: bytes
    account: bytes


# A JSON string without escapes, or null; the anchored patterns below follow the model's field order.
_S = rb'("[^"\\]*+"|null)'
_N = rb'(?:"[^"\\]*+"|null)'
_HEAD = re.compile(
    rb'\{"schema_version":"[^"\\]*+","id":' + _S + rb',"when":\{"time":' + _S
    + rb',"time_text":' + _N + rb',"observed":' + _N + rb',"ingested":' + _N
    + rb'\},"who":\{"actor":\{"type":' + _S + rb',"id":' + _S + rb',"name":' + _S + rb',"email":' + _S
)
_PERSON = re.compile(_N + rb',"person":(?:null|\{"id":' + _S + rb")")
_WHAT = re.compile(
    _S + rb',"operation":' + _N + rb',"service":' + _N + rb',"activity":' + _N + rb',"category":' + _N
    + rb',"read_only":(?:true|false|null),"outcome":' + _S
)
_TAGS = re.compile(rb'\[(?:"[^"\\]*+"(?:,"[^"\\]*+")*+)?\]')
_WHERE = re.compile(_S + rb',"account":' + _S)


def fields(line: bytes) -> Fields:
    """The detection fields of one canonical event line (with or without ``raw``)."""
    f = _fast(line)
    return f if f is not None else _slow(line)


def _fast(line: bytes) -> Fields | None:
    # Each step is one C call: a pattern anchored where the previous one ended, or a find of an anchor
    # over a stretch the patterns do not describe (the rest of who, the error/resources/request/response
    # of what, the privilege changes ... before where). None: the slow path decides.
    a = _HEAD.match(line)
    if a is None:
        return None
    i = line.find(b',"invoked_by":', a.end())
    b = _PERSON.match(line, i + 14) if i >= 0 else None
    if b is None:
        return None
    i = line.find(b'},"what":{"action":', b.end())
    c = _WHAT.match(line, i + 19) if i >= 0 else None
    if c is None:
        return None
    i = line.find(b',"risk_tags":[', c.end())
    d = _TAGS.match(line, i + 13) if i >= 0 else None
    if d is None:
        return None
    i = line.find(b'},"where":{"provider":', d.end())
    e = _WHERE.match(line, i + 22) if i >= 0 else None
    if e is None:
        return None
    id_, time, actor_type, actor_id, actor_name, actor_email = a.groups()
    action, outcome = c.groups()
    provider, account = e.groups()
    return Fields(id_, time, actor_type, actor_id, actor_name, actor_email, b.group(1) or b"null", action, outcome,
                  d.group(), provider, account)


def scan(line: bytes, index: RuleIndex, start: int = 0, end: int | None = None) -> tuple[str, int, bytes]:
    """(person key, prefilter bits, light record) of the line ``line[start:end]``: ``fields``,
    ``RuleIndex.bits`` and ``key_of`` in one call on the fast path (the per-event work of the detection
    stage). ``line`` may be a whole batch: the fast path reads it in place, without copying the line."""
    if end is None:
        end = len(line)
    a = _HEAD.match(line, start, end)
    if a is not None:
        i = line.find(b',"invoked_by":', a.end(), end)
        b = _PERSON.match(line, i + 14, end) if i >= 0 else None
        if b is not None:
            i = line.find(b'},"what":{"action":', b.end(), end)
            c = _WHAT.match(line, i + 19, end) if i >= 0 else None
            if c is not None:
                i = line.find(b',"risk_tags":[', c.end(), end)
                d = _TAGS.match(line, i + 13, end) if i >= 0 else None
                if d is not None:
                    i = line.find(b'},"where":{"provider":', d.end(), end)
                    e = _WHERE.match(line, i + 22, end) if i >= 0 else None
                    if e is not None:
                        id_, time, actor_type, actor_id, actor_name, actor_email = a.groups()
                        person = b.group(1)
                        action, outcome = c.groups()
                        tags = d.group()
                        provider, account = e.groups()
                        bits = index.bits_of(provider, outcome, action, tags, actor_type, actor_name, actor_email)
                        light = b",".join((b"[%d" % bits, id_, time, provider, account, action, outcome, tags)) + b"]"
                        for v in (person, actor_id, actor_email, actor_name):
                            if v is not None and len(v) > 2 and v != b"null":  # neither null nor ""
                                return v[1:-1].decode(), bits, light
                        return "unknown", bits, light
    f = _slow(line[start:end])
    bits = index.bits(f)
    light = b",".join((b"[%d" % bits, f.id, f.time, f.provider, f.account, f.action, f.outcome, f.risk_tags)) + b"]"
    return key_of(f), bits, light


def _slow(line: bytes) -> Fields:
    from detections.lines import strip_raw

    d = orjson.loads(strip_raw(line))
    who, what, where = d.get("who") or {}, d.get("what") or {}, d.get("where") or {}
    actor, person = who.get("actor") or {}, who.get("person") or {}
    j = orjson.dumps
    return Fields(
        j(d.get("id")), j((d.get("when") or {}).get("time")), j(actor.get("type")), j(actor.get("id")),
        j(actor.get("name")), j(actor.get("email")), j(person.get("id")), j(what.get("action")),
        j(what.get("outcome")), j(what.get("risk_tags") or []), j(where.get("provider")), j(where.get("account")),
    )


def text(v: bytes) -> str | None:
    """A field's value from its JSON text (fast-path strings have no escapes; the rest go through orjson)."""
    if v == b"null":
        return None
    if b"\\" in v:
        out = orjson.loads(v)
        return out if isinstance(out, str) else None
    return v[1:-1].decode()


def key_of(f: Fields) -> str:
    """``helpers.person_key``: person id, else actor id, e-mail, name, else "unknown"."""
    for v in (f.person_id, f.actor_id, f.actor_email, f.actor_name):
        if len(v) > 2 and v != b"null":  # neither null nor ""
            if b"\\" not in v:
                return v[1:-1].decode()
            s = text(v)
            if s:
                return s
    return "unknown"


def tags_of(f: Fields) -> list[str]:
    if f.risk_tags == b"[]":
        return []
    out = orjson.loads(f.risk_tags)
    return [t for t in out if isinstance(t, str)] if isinstance(out, list) else []


class RuleIndex:
    """Every rule's prefilter at once: bit ``i`` of ``bits`` is ``prefilters[i].passes`` of the event.
    Lookups on the fields' JSON text: by action (its exact and prefix rules, cached per action), risk tag,
    actor type, and provider and outcome (cached per pair); principal prefixes are tested in turn."""

    def __init__(self, prefilters: Sequence[CompiledPrefilter]) -> None:
        self.size = len(prefilters)
        self._exact: dict[str, int] = {}
        self._tags: dict[bytes, int] = {}
        self._types: dict[bytes, int] = {}
        self._prefixes: list[tuple[str, int]] = []
        self._principals: list[tuple[str, int]] = []
        self._open = 0  # rules with no selective condition
        self._providers: list[tuple[frozenset[str], int]] = []
        self._outcomes: list[tuple[frozenset[str], int]] = []
        for n, p in enumerate(prefilters):
            bit = 1 << n
            for a in p.actions:
                self._exact[a] = self._exact.get(a, 0) | bit
            for t in p.tags:
                k = orjson.dumps(t)
                self._tags[k] = self._tags.get(k, 0) | bit
            for t in p.actor_types:
                k = orjson.dumps(t)
                self._types[k] = self._types.get(k, 0) | bit
            self._prefixes.extend((x, bit) for x in p.prefixes)
            self._principals.extend((x, bit) for x in p.principals)
            if not p.selective:
                self._open |= bit
            if p.providers:
                self._providers.append((p.providers, bit))
            if p.outcomes:
                self._outcomes.append((p.outcomes, bit))
        # A tag list splits on commas unless a rule's tag holds one (then it is decoded).
        self._split_tags = not any(b"," in k for k in self._tags)
        self._scope: dict[tuple[bytes, bytes], int] = {}
        self._actions: dict[bytes, int] = {}
        self._who: dict[tuple[bytes, bytes], int] = {}
        self._principal_bits = 0
        for _, bit in self._principals:
            self._principal_bits |= bit

    def _allowed(self, provider: bytes, outcome: bytes) -> int:
        k = (provider, outcome)
        bits = self._scope.get(k)
        if bits is None:
            p, o = text(provider), text(outcome)
            bits = (1 << self.size) - 1
            for values, bit in self._providers:
                if p not in values:
                    bits &= ~bit
            for values, bit in self._outcomes:
                if o not in values:
                    bits &= ~bit
            if len(self._scope) < 10_000:
                self._scope[k] = bits
        return bits

    def _action(self, action: bytes) -> int:
        bits = self._actions.get(action)
        if bits is None:
            a = (text(action) or "").lower()
            bits = self._exact.get(a, 0)
            for prefix, bit in self._prefixes:
                if a.startswith(prefix):
                    bits |= bit
            if len(self._actions) < 100_000:
                self._actions[action] = bits
        return bits

    def bits(self, f: Fields) -> int:
        return self.bits_of(f.provider, f.outcome, f.action, f.risk_tags, f.actor_type, f.actor_name, f.actor_email)

    def bits_of(self, provider: bytes, outcome: bytes, action: bytes, risk_tags: bytes, actor_type: bytes,
                actor_name: bytes, actor_email: bytes) -> int:
        """The bits from the fields' JSON text."""
        allowed = self._scope.get((provider, outcome))
        if allowed is None:
            allowed = self._allowed(provider, outcome)
        if not allowed:
            return 0
        hit = self._actions.get(action)
        if hit is None:
            hit = self._action(action)
        hit |= self._open
        if self._tags and risk_tags != b"[]":
            if self._split_tags:
                for t in risk_tags[1:-1].split(b","):
                    hit |= self._tags.get(t, 0)
            else:
                for t in orjson.loads(risk_tags):
                    hit |= self._tags.get(orjson.dumps(t), 0)
        if self._types:
            hit |= self._types.get(actor_type, 0)
        if allowed & self._principal_bits & ~hit:
            hit |= self._principal(actor_name, actor_email)
        return hit & allowed

    def _principal(self, name_json: bytes, email_json: bytes) -> int:
        k = (name_json, email_json)
        bits = self._who.get(k)
        if bits is None:
            name = (text(name_json) or "").lower()
            email = (text(email_json) or "").lower()
            bits = 0
            for prefix, bit in self._principals:
                if name.startswith(prefix) or email.startswith(prefix):
                    bits |= bit
            if len(self._who) < 100_000:
                self._who[k] = bits
        return bits
