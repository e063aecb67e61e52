"""The validation fast path: a checker generated from the pydantic model, for the dicts mappers build.

``Event.model_validate`` costs more than mapping itself (10 to 23 us per record on the shared corpus) and
builds about fifteen model instances that a pipeline which only serializes the event never uses. The fast
path checks a mapper's dict against the same model in plain Python, generated once from the model's own
field definitions, and returns the event as a *canonical document*: a plain dict with every field of the
model, in the model's order, defaults filled in, exactly what ``Event.model_validate(d).model_dump()``
gives. ``orjson.dumps(doc, option=OPT_UTC_Z)`` of that document is byte for byte ``model_dump_json()``.

It is strict where pydantic is lax, and that is what makes it safe: it accepts a value only when pydantic
would keep it unchanged (a ``str`` for a string field, a ``datetime`` in UTC for a timestamp, a ``float``
for a float, a word of the vocabulary for a Literal, no unknown key). Anything else (a value pydantic
would coerce or reject, an enum member, an int where a float is due) raises ``Unsure``, and the caller
takes the full pydantic path for that record: the guarantee that every event satisfies the schema stays
pydantic's, the fast path only skips the work when the answer is known. ``tests/schemas/test_fastpath.py``
checks the two agree on every golden fixture and on 10,000 generated records per connector.

The generator understands the field shapes the model uses (str, bool, int, float, aware datetimes,
Literals, the registry's open vocabularies, nested models, lists of those, ``X | None``, defaults and
default factories). A field of any other shape, or a model validator, makes ``compile_model`` refuse with
an error naming the field: a schema change cannot silently weaken the check.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from math import isfinite
from operator import itemgetter
from typing import Any, Literal, cast

import orjson
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo
from pydantic.functional_validators import AfterValidator
from pydantic_core import PydanticUndefined

Doc = dict[str, Any]
JSON_OPTIONS = orjson.OPT_UTC_Z  # pydantic writes UTC as "Z", orjson as "+00:00" unless told


class Unsure(Exception):  # not an error: "take the full path for this one"
    """The fast path cannot vouch for this dict; validate it with pydantic."""


class FastPathError(TypeError):
    """The model has a field shape the generator does not know (raised when compiling, never per event)."""


def dumps(doc: Doc) -> bytes:
    """A canonical document as ``model_dump_json`` bytes."""
    return orjson.dumps(doc, option=JSON_OPTIONS)


# --- the generator ----------------------------------------------------------------------------------
#
# Each model becomes one function. It merges the input over the model's defaults in C
# (``{**DEFAULTS, **d}`` keeps the model's field order, and the unknown-key check comes first), unpacks
# every field with one ``itemgetter``, checks the plain fields in groups (all the ``str | None`` fields of
# a model in one ``frozenset.issuperset(map(type, ...))``, which runs in C), then the fields that need
# more (Literals, timestamps, nested models, lists) one by one. Required fields default to a marker that
# no check accepts; default factories to a marker replaced by a fresh value.

_REQUIRED = object()
_FACTORY = object()
_NONE = type(None)


class _Compiler:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.rebound: set[str] = set()  # variables given a new value (nested models, fresh defaults)
        self.names: dict[str, Any] = {
            "Unsure": Unsure,
            "datetime": datetime,
            "UTC": UTC,
            "isfinite": isfinite,
            "FACTORY": _FACTORY,
            "type": type,
            "list": list,
            "dict": dict,
            "str": str,
            "map": map,
        }
        self.done: dict[type[BaseModel], str] = {}
        self._n = 0

    def const(self, value: Any, hint: str) -> str:
        self._n += 1
        name = f"_{hint}_{self._n}"
        self.names[name] = value
        return name

    def model(self, cls: type[BaseModel]) -> str:
        if cls in self.done:
            return self.done[cls]
        fname = f"_check_{cls.__name__}"
        self.done[cls] = fname
        decorators = cls.__pydantic_decorators__
        if decorators.model_validators or decorators.field_validators or decorators.validators:
            raise FastPathError(f"{cls.__name__}: model or field validators are not supported by the fast path")
        if cls.model_config.get("extra") != "forbid":
            raise FastPathError(f"{cls.__name__}: the fast path needs extra='forbid'")
        fields = cls.model_fields
        outer, self.rebound = self.rebound, set()
        defaults: dict[str, Any] = {}
        groups: dict[frozenset[type], list[str]] = {}
        checks: list[str] = []
        for i, (name, info) in enumerate(fields.items()):
            where = f"{cls.__name__}.{name}"
            if info.alias is not None and info.alias != name:
                raise FastPathError(f"{where}: aliases are not supported")
            var = f"v{i}"
            defaults[name] = self.default(info, where)
            plain = self.plain_types(info, defaults[name])
            if plain is not None:
                groups.setdefault(plain, []).append(var)
                continue
            checks.extend(self.field(info, name, var, where, defaults[name]))
        keys = self.const(frozenset(fields), "keys")
        body = [
            f"def {fname}(d):",
            f"    if type(d) is not dict or not {keys}.issuperset(d): raise Unsure",
        ]
        base = self.const(defaults, "defaults")
        getter = self.const(_getter(tuple(fields)), "get")
        body.append(f"    out = {{**{base}, **d}}")
        body.append(f"    {', '.join(f'v{i}' for i in range(len(fields)))}, = {getter}(out)")
        for allowed, members in groups.items():
            tname = self.const(allowed, "types")
            if len(members) == 1:
                body.append(f"    if type({members[0]}) not in {tname}: raise Unsure")
            else:
                body.append(f"    if not {tname}.issuperset(map(type, ({', '.join(members)},))): raise Unsure")
        body.extend("    " + line for line in checks)
        body.extend(f"    out[{name!r}] = v{i}" for i, name in enumerate(fields) if f"v{i}" in self.rebound)
        body.append("    return out")
        self.rebound = outer
        self.lines.extend(body)
        self.lines.append("")
        return fname

    def default(self, info: FieldInfo, where: str) -> Any:
        if info.default_factory is not None:
            return _FACTORY
        if info.default is PydanticUndefined:
            return _REQUIRED
        if info.default is not None and type(info.default) not in (str, bool, int, float):
            raise FastPathError(f"{where}: default {info.default!r} is not supported")
        if info.metadata:
            raise FastPathError(f"{where}: validators are supported on required fields only")
        return info.default

    def plain_types(self, info: FieldInfo, default: Any) -> frozenset[type] | None:
        """The exact types a plain field allows (str, bool, ``str | None``, ...); None for the others."""
        if info.metadata:
            return None
        annotation = info.annotation
        nullable = False
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            rest = [a for a in typing.get_args(annotation) if a is not _NONE]
            if len(rest) != 1:
                return None
            annotation, nullable = rest[0], True
        if annotation not in (str, bool):
            return None
        return frozenset((annotation, _NONE) if nullable else (annotation,))

    def field(self, info: FieldInfo, name: str, var: str, where: str, default: Any) -> list[str]:
        annotation = info.annotation
        if default is _FACTORY:
            factory = info.default_factory
            if factory is list:
                fresh = "[]"
            elif isinstance(factory, type) and issubclass(factory, BaseModel):
                fresh = f"{self.model(factory)}({{}})"
            else:
                raise FastPathError(f"{where}: default factory {factory!r} is not supported")
            self.rebound.add(var)
            return [f"if {var} is FACTORY: {var} = {fresh}", "else:", *("    " + s for s in self.check(annotation, var, where))]
        lines = self.check(annotation, var, where)
        for m in info.metadata:
            if not isinstance(m, AfterValidator) or annotation is not str:
                raise FastPathError(f"{where}: field metadata {m!r} is not supported by the fast path")
            guard = self.const(_vocabulary_guard(cast(Callable[[Any], Any], m.func)), "vocabulary")
            lines.append(f"if not {guard}({var}): raise Unsure")
        return lines

    def check(self, annotation: Any, var: str, where: str) -> list[str]:
        """Lines that check ``var`` and, for nested models, rebind it to its canonical form."""
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin in (typing.Union, types.UnionType):
            rest = [a for a in args if a is not _NONE]
            if len(rest) != 1 or len(rest) == len(args):
                raise FastPathError(f"{where}: only 'X | None' unions are supported, not {annotation!r}")
            return [f"if {var} is not None:", *("    " + s for s in self.check(rest[0], var, where))]
        if annotation is AwareDatetime:
            # Only UTC: pydantic writes any zero offset as "Z", orjson only timezone.utc.
            return [f"if type({var}) is not datetime or {var}.tzinfo is not UTC: raise Unsure"]
        if origin is Literal:
            if not all(type(a) is str for a in args):
                raise FastPathError(f"{where}: only string Literals are supported")
            words = self.const(frozenset(args), "words")
            return [f"if type({var}) is not str or {var} not in {words}: raise Unsure"]
        if origin is list:
            (item,) = args
            if isinstance(item, type) and issubclass(item, BaseModel):
                fn = self.model(item)
                self.rebound.add(var)
                return [f"if type({var}) is not list: raise Unsure", f"{var} = [{fn}(x) for x in {var}]"]
            if item is str:
                return [f"if type({var}) is not list or not {self.const(frozenset((str,)), 'types')}"
                        f".issuperset(map(type, {var})): raise Unsure"]
            raise FastPathError(f"{where}: list[{item!r}] is not supported by the fast path")
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            self.rebound.add(var)
            return [f"{var} = {self.model(annotation)}({var})"]
        if annotation in (str, bool):
            return [f"if type({var}) is not {annotation.__name__}: raise Unsure"]
        if annotation is int:
            # Past 64 bits orjson refuses it: the full path (and pydantic's serializer) handle that.
            return [f"if type({var}) is not int or not -0x8000000000000000 <= {var} <= 0xFFFFFFFFFFFFFFFF: "
                    "raise Unsure"]
        if annotation is float:
            return [f"if type({var}) is not float or not isfinite({var}): raise Unsure"]
        raise FastPathError(f"{where}: annotation {annotation!r} is not supported by the fast path")


def _vocabulary_guard(fn: Callable[[Any], Any]) -> Callable[[Any], bool]:
    def ok(value: Any) -> bool:
        try:
            return fn(value) == value
        except ValueError:
            return False

    return ok


def _getter(fields: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    if len(fields) > 1:
        return itemgetter(*fields)
    (only,) = fields
    return lambda o: (o[only],)


def compile_model(cls: type[BaseModel]) -> Callable[[Any], Doc]:
    """The fast-path checker of ``cls``: dict -> canonical document, or ``Unsure``."""
    c = _Compiler()
    entry = c.model(cls)
    source = "\n".join(c.lines)
    code = compile(source, f"<fastpath {cls.__name__}>", "exec")
    namespace = dict(c.names)
    exec(code, namespace)  # our own source, generated from the model's field definitions
    fn: Callable[[Any], Doc] = namespace[entry]
    fn.__doc__ = f"Fast-path check of {cls.__name__} (generated by schemas.fastpath)."
    fn.source = source  # type: ignore[attr-defined]  # for reading and for tests
    return fn


_EVENT_CHECK: Callable[[Any], Doc] | None = None


def event_check() -> Callable[[Any], Doc]:
    """The compiled checker of ``schemas.event.Event`` (compiled on first use, about 2 ms)."""
    global _EVENT_CHECK
    if _EVENT_CHECK is None:
        from schemas.event import Event

        _EVENT_CHECK = compile_model(Event)
    return _EVENT_CHECK


def canonical(d: Any) -> Doc:
    """``d`` as a canonical event document: the fast path, else full pydantic validation (which raises
    ``pydantic.ValidationError`` for an invalid event, as ``Event.model_validate`` does)."""
    try:
        return event_check()(d)
    except Unsure:
        from schemas.event import Event

        return Event.model_validate(d).model_dump()
