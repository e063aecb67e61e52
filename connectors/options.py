"""The ``?key=value`` options of a ``--source`` spec or a ``--sink`` value, as pydantic models: one model
per source kind (``connectors/*/options.py``) and per sink kind (``pipelines/sinks/``).

A kind's model says every option it takes, with its type, default and description; the model parses the
query string (``parse_options``), so an unknown key is an error naming it (with the closest known key),
and a bad value is one line naming the spec, the key and what was expected. The ``--help`` text and the
options tables of the docs (``options_table``; ``tests/connectors/test_source_options.py`` and
``tests/sinks/test_sink_options.py`` check the docs against the models) come from the same models, so
they cannot drift.

Values arrive as strings; an empty value (``?endpoint=``) means the default, as if the key were absent,
unless the field says otherwise (``KEEP_BLANK``). A value is echoed in an error only without what could be
a credential (a URL's user info, query and fragment are withheld).

A field can say, in ``json_schema_extra``, what it takes (``{"takes": "sb://HOST[:PORT]"}``) and what its
default is in words (``{"default": "60, or twice balance_interval if more"}``) where the type or the default value
alone would not tell a reader.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

from connectors.sources import SourceError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class QueryOptions(BaseModel):
    """The options of one source kind. Subclasses declare fields with ``Field(default, description=...)``
    and bounds (``ge``/``le``); cross-field rules go in a ``model_validator`` raising ``ValueError``."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)


# ``json_schema_extra`` of a field whose empty value means something (``timestamp_field=``: none), not the
# default.
KEEP_BLANK: dict[str, Any] = {"blank": "kept"}


def _csv(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return value


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        m = _DURATION.match(value)
        if not m:
            raise ValueError("not a duration such as 30m, 1h or 90s")
        return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2).lower()])
    return value


def _endpoint(value: Any) -> Any:
    if isinstance(value, str):
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http(s):// URL")
        if parts.username or parts.password or parts.query:
            raise ValueError("an endpoint must not carry credentials or a query")
    return value


# Comma-separated values (``regions=us-east-1,eu-west-1``) -> a tuple of stripped, non-empty strings.
Csv = Annotated[tuple[str, ...], BeforeValidator(_csv)]
# ``90s``, ``30m``, ``1h``, ``1d`` or plain seconds.
Duration = Annotated[timedelta, BeforeValidator(_duration)]
def _https_endpoint(value: Any) -> Any:
    value = _endpoint(value)
    if isinstance(value, str) and urlsplit(value).scheme != "https":
        raise ValueError("expected an https:// URL (a bearer token is never sent over plain http)")
    return value


# An http(s) URL without user info or query (credentials never travel in a source spec).
HttpEndpoint = Annotated[str, BeforeValidator(_endpoint)]
# The same, https only: for endpoints that are sent a bearer token.
HttpsEndpoint = Annotated[str, BeforeValidator(_https_endpoint)]


M = TypeVar("M", bound=QueryOptions)


def parse_options(
    model: type[M], params: Mapping[str, str], where: str, error: type[Exception] = SourceError
) -> M:
    """``params`` (the spec's query) validated by ``model``; an ``error`` (``SourceError`` unless told) of
    one line otherwise. ``where`` names the spec in the message (``source 's3'``, ``sink hec``)."""
    unknown = [k for k in params if k not in model.model_fields]
    if unknown:
        key = unknown[0]
        known = list(model.model_fields)
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.7)  # "ack" is not "backoff"
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise error(f"{where} does not take {key}{hint}; it takes: {', '.join(known) or 'nothing'}")
    given = {k: v for k, v in params.items() if v != "" or _extra(model.model_fields[k]).get("blank") == "kept"}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        raise error(_one_line(model, exc, given, where)) from None


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _one_line(model: type[QueryOptions], exc: ValidationError, given: Mapping[str, str], where: str) -> str:
    err = exc.errors()[0]
    key = str(err["loc"][0]) if err["loc"] else ""
    if not key or key not in model.model_fields:  # a rule over several options (model_validator)
        return f"{where}: {_message(err)}"
    field = model.model_fields[key]
    if err["type"] == "missing":
        return f"{where} needs ?{key}=: {field.description or expected(field)}"
    value = shown(given.get(key, ""))
    if err["type"] == "value_error":  # one of the validators above, or the model's own: its sentence
        return f"{where}: {key}={value!r}: {_message(err)}"
    return f"{where}: {key}={value!r}: expected {expected(field)}"


def _message(err: Any) -> str:
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def shown(value: str) -> str:
    """A value as an error may echo it: a URL's user info, query and fragment withheld (a SAS token, a
    password); anything else as given."""
    if "://" not in value:
        return value
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "[a URL that cannot be shown]"
    if not (parts.username or parts.password or parts.query or parts.fragment):
        return value
    user = "***@" if parts.username or parts.password else ""
    rest = "?[withheld]" if parts.query or parts.fragment else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}{rest}"


def expected(field: FieldInfo) -> str:
    """What a field takes, in words: ``a whole number between 1 and 1000``, ``true or false``, ..."""
    if "takes" in _extra(field):
        return str(_extra(field)["takes"])
    annotation = field.annotation
    if type(None) in get_args(annotation):  # optional: what it takes when given
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    validators = list(field.metadata)
    if get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        validators += extra
    low = high = None
    for m in field.metadata:
        low = getattr(m, "ge", low)
        high = getattr(m, "le", high)
    if get_origin(annotation) is Literal:
        return " or ".join(str(a) for a in get_args(annotation))
    base = {
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        timedelta: "a duration such as 30m, 1h or 90s",
        tuple: "comma-separated values",
        UUID: "a GUID",
    }
    what = next((text for t, text in base.items() if annotation is t or get_origin(annotation) is t), "text")
    if annotation == tuple[str, ...]:
        what = "comma-separated values"
    elif any(getattr(m, "func", None) is _endpoint for m in validators):
        what = "an http(s):// URL"
    elif any(getattr(m, "func", None) is _https_endpoint for m in validators):
        what = "an https:// URL"

    def show(x: Any) -> str:
        return duration_text(x) if isinstance(x, timedelta) else f"{x:g}" if isinstance(x, float) else str(x)

    if low is not None and high is not None:
        return f"{what} between {show(low)} and {show(high)}"
    if low is not None:
        return f"{what} of at least {show(low)}"
    if high is not None:
        return f"{what} of at most {show(high)}"
    return what


def duration_text(t: timedelta) -> str:
    s = t.total_seconds()
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= n and s % n == 0:
            return f"{int(s // n)}{unit}"
    return f"{s:g}s"


def default_text(field: FieldInfo) -> str:
    if "default" in _extra(field):
        return str(_extra(field)["default"])
    if field.is_required():
        return "required"
    d = field.get_default(call_default_factory=True)
    if d is None:
        return "-"
    if isinstance(d, bool):
        return "true" if d else "false"
    if isinstance(d, timedelta):
        return duration_text(d)
    if isinstance(d, tuple):
        return ",".join(d) if d else "-"
    if isinstance(d, float):
        return f"{d:g}"
    return str(d)


def options_help(model: type[QueryOptions]) -> dict[str, str]:
    """Option -> its description and default (``--help``)."""

    def line(f: FieldInfo) -> str:
        default = default_text(f)
        if default == "-":
            return f.description or ""
        return f"{f.description or expected(f)} ({'required' if default == 'required' else f'default {default}'})"

    return {name: line(f) for name, f in model.model_fields.items()}


def options_table(model: type[QueryOptions]) -> str:
    """The model's options as a Markdown table (option, takes, default, meaning): what the docs show.

    A model derived from a shared base other than ``QueryOptions`` (a sink kind's, from the options every
    sink takes) shows what it adds or changes; its base has a table of its own."""
    fields = model.model_fields
    if model.__bases__[0] is not QueryOptions:
        own = inspect.get_annotations(model)
        fields = {name: f for name, f in fields.items() if name in own}
    lines = ["| option | takes | default | meaning |", "|---|---|---|---|"]
    for name, f in fields.items():
        desc = (f.description or "").replace("|", "\\|")
        lines.append(f"| `{name}` | {expected(f)} | {default_text(f)} | {desc} |")
    return "\n".join(lines) + "\n"


# --- the docs' options tables --------------------------------------------------------------------------

_BEGIN = "<!-- generated from the options model of {subject} (python -m connectors.options) -->"
_END = "<!-- end of generated options -->"


def option_models() -> dict[str, type[QueryOptions]]:
    """Every options model a docs page can show, by subject: ``source KIND`` for the source kinds, and
    ``sinks`` and ``sink KIND`` for the sinks (``pipelines.sinks.option_models``: the command line's
    package, imported here only for the docs, so connectors do not depend on it)."""
    import importlib

    from connectors.sources import source_kinds

    models: dict[str, type[QueryOptions]] = {
        f"source {name}": kind.options_model for name, kind in source_kinds().items() if kind.options_model
    }
    try:
        sinks = importlib.import_module("pipelines.sinks")
    except ImportError:  # pragma: no cover - connectors used without the pipelines
        return models
    models.update(sinks.option_models())
    return models


def docs_with_tables(text: str, models: Mapping[str, type[QueryOptions]] | None = None) -> str:
    """A docs page with each generated options table (between the markers) rewritten from its model."""
    out = text
    for subject, model in (option_models() if models is None else models).items():
        begin = _BEGIN.format(subject=subject)
        if begin not in out:
            continue
        head, _, rest = out.partition(begin)
        _, sep, tail = rest.partition(_END)
        if not sep:
            raise ValueError(f"options table of {subject}: no {_END!r} after its start marker")
        out = f"{head}{begin}\n{options_table(model)}{_END}{tail}"
    return out


def documented(text: str, models: Mapping[str, type[QueryOptions]] | None = None) -> set[str]:
    """The subjects (``source logging``, ``sink hec``) whose generated table the page holds."""
    return {s for s in (option_models() if models is None else models) if _BEGIN.format(subject=s) in text}


def documented_kinds(text: str) -> set[str]:
    """The source kinds whose generated table the page holds."""
    return {s.removeprefix("source ") for s in documented(text) if s.startswith("source ")}


def main(argv: list[str] | None = None) -> int:
    """``python -m connectors.options [--check] DOC.md ...``: rewrite (or check) the generated tables."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    stale = []
    models = option_models()
    for path in (a for a in args if a != "--check"):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new = docs_with_tables(text, models)
        if new != text:
            stale.append(path)
            if not check:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(new)
    if check and stale:
        print(f"options tables out of date: {', '.join(stale)} (run python -m connectors.options on them)")
        return 1
    return 0


if __name__ == "__main__":  # the module's own functions, not this __main__ copy's (the models use those)
    from connectors.options import main as _main

    raise SystemExit(_main())
