"""Sink configuration from one command-line value, Beam-free.

A sink is named on the command line as ``KIND:URL?option=value&...``::

    hec:https://splunk:8088?index=audit&sourcetype=cloudaudit&ack=true
    elastic:https://es:9200?index=cloudaudit-{date}
    sentinel:https://my-dce.westeurope-1.ingest.monitor.azure.com?dcr=dcr-0123&stream=Custom-CloudAudit_CL

The value says where and how, never who: credentials come from the environment (``SPLUNK_HEC_TOKEN``,
``ELASTIC_API_KEY``, ...) or a cloud's default chain, so a value can be logged, put in a job's
parameters or a ticket without leaking anything. A value holding ``user:password@`` or a token option
is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pydantic import AfterValidator, Field

from connectors.options import QueryOptions, parse_options
from pipelines.errors import UsageError


class SinkConfigError(UsageError):
    """A sink value or option that cannot work: one line, exit status 2 on the command line."""


_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# The circuit breaker's defaults (pipelines/sinks/base.py): consecutive batches out of retries, and seconds
# of continuous outage, before a sink is declared down.
DEFAULT_BREAKER_BATCHES = 3
DEFAULT_BREAKER_SECONDS = 30.0
SECRET_OPTIONS = frozenset({"token", "password", "api_key", "apikey", "secret", "key", "client_secret"})


@dataclass(frozen=True)
class SinkConfig:
    """One configured sink: ``kind`` picks the class, ``url`` the endpoint, ``options`` the rest (as
    given, strings; the kind's options model checks and converts them)."""

    name: str
    kind: str
    url: str
    options: Mapping[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """The value again, as the user could have typed it (nothing secret is ever in it)."""
        query = "&".join(f"{k}={v}" for k, v in self.options.items())
        return f"{self.kind}:{self.url}" + (f"?{query}" if query else "")


def parse_sink(text: str) -> SinkConfig:
    """``KIND:URL?opt=value&...`` -> SinkConfig; raises SinkConfigError with a one-line reason.

    The syntax and the options (names and values, by the kind's model) are checked here; ``make_sink``
    checks the environment (a missing token), so the command line reports every problem before the run
    starts.
    """
    from pipelines.sinks import KINDS, sink_class  # the registry; late to keep this module import-light

    kind, sep, rest = text.strip().partition(":")
    kind = kind.lower()
    if not sep or not rest:
        raise SinkConfigError("sink: expected KIND:URL, e.g. hec:https://splunk:8088?index=audit")
    if kind not in KINDS:
        raise SinkConfigError(f"sink: unknown kind {kind!r} (known: {', '.join(sorted(KINDS))})")
    parts = urlsplit(rest)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SinkConfigError(f"sink {kind}: the URL must be http(s)://HOST[:PORT][/PATH], got {_redact(rest)!r}")
    if parts.username or parts.password:
        raise SinkConfigError(
            f"sink {kind}: credentials do not belong in the sink URL ({_redact(rest)}); "
            f"{sink_class(kind).CREDENTIALS}"
        )
    try:
        _ = parts.port
    except ValueError:
        raise SinkConfigError(f"sink {kind}: bad port in {_redact(rest)!r}") from None
    options: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        key = key.strip().lower()
        if key in SECRET_OPTIONS:
            raise SinkConfigError(
                f"sink {kind}: option {key!r} would put a secret on the command line; "
                f"{sink_class(kind).CREDENTIALS}"
            )
        if key in options:
            raise SinkConfigError(f"sink {kind}: option {key!r} given twice")
        options[key] = value
    given = options.get("name", "")
    where = f"sink {given if _NAME.fullmatch(given) else kind}"
    checked = parse_options(sink_class(kind).OPTIONS_MODEL, options, where, error=SinkConfigError)
    url = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    options.pop("name", None)
    name = checked.name or kind
    return SinkConfig(name=name, kind=kind, url=url, options=options)


def unique_names(configs: list[SinkConfig]) -> list[SinkConfig]:
    """Two sinks of one kind without names become ``hec`` and ``hec-2``; counters are per name."""
    seen: dict[str, int] = {}
    out = []
    for c in configs:
        n = seen.get(c.name, 0) + 1
        seen[c.name] = n
        out.append(c if n == 1 else SinkConfig(f"{c.name}-{n}", c.kind, c.url, dict(c.options)))
    return out


SinkOptionsT = TypeVar("SinkOptionsT", bound="SinkOptions")


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"***@{host}" + (f":{parts.port}" if _port(parts) else "")
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _port(parts: object) -> int | None:
    try:
        return parts.port  # type: ignore[attr-defined,no-any-return]
    except ValueError:
        return None


# --- option values ----------------------------------------------------------------------------------


def _name(value: str) -> str:
    if value and not _NAME.fullmatch(value):
        raise ValueError("letters, digits, '.', '_' and '-' only, at most 64")
    return value


class SinkOptions(QueryOptions):
    """The options every sink kind takes; each kind's model (``Sink.OPTIONS_MODEL``, beside its class)
    adds its own and may change a default here (``batch_events``, ``projection``)."""

    name: Annotated[str, AfterValidator(_name)] = Field(
        "",
        description="the sink's name in the run summary (`sinks/<name>/...`) and in dead-letter reasons; "
        "repeated kinds get -2, -3",
        json_schema_extra={"takes": "letters, digits, `.`, `_`, `-`", "default": "the kind"},
    )
    # The projection when none is given: Splunk and Sentinel get the native event, whose fields their
    # cloudaudit content and the Sentinel table's flat columns are named after; elastic changes it to ecs.
    projection: Literal["native", "canonical", "ocsf", "ecs"] = Field(
        "native",
        description="what an event becomes before the sink's envelope: `native` (also `canonical`) is the "
        "event JSON exactly as in `siem/` and Parquet; `ocsf` is OCSF 1.8.0 (class per event), `ecs` is ECS 9 "
        "(`schemas/projections/`, field by field in [schema.md](schema.md))",
        json_schema_extra={"takes": "native or ocsf or ecs (canonical is native)"},
    )
    raw: bool = Field(False, description="include `event.raw` (the original record) in what is sent")
    batch_events: int = Field(500, ge=1, description="events per request at most")
    batch_bytes: int = Field(
        1_000_000,
        ge=1024,
        description="uncompressed bytes per request at most (an event larger than this goes alone)",
    )
    retries: int = Field(
        5, ge=0, description="retries of a failed request or item; then the event is a dead letter "
        "(`retries_exhausted`)"
    )
    backoff: float = Field(
        0.5, ge=0, description="first retry delay in seconds; doubled per retry, with full jitter (a random "
        "delay between 0 and the cap)"
    )
    max_backoff: float = Field(
        30.0, ge=0, description="longest retry delay in seconds; a server's `Retry-After` is honoured up to this"
    )
    timeout: float = Field(
        30.0, ge=0.001, description="seconds to wait for a connection or an answer; a timeout is retried"
    )
    gzip: bool = Field(True, description="compress request bodies")
    breaker_batches: int = Field(
        DEFAULT_BREAKER_BATCHES,
        ge=1,
        description="circuit breaker: after this many consecutive batches that ran out of retries the sink is "
        "declared down",
    )
    breaker_seconds: float = Field(
        DEFAULT_BREAKER_SECONDS,
        ge=0.001,
        description="circuit breaker: after this long (seconds) without any answer the sink is declared down "
        "(also caps one batch's retries)",
    )


def sink_options(model: type[SinkOptionsT], config: SinkConfig) -> SinkOptionsT:
    """A SinkConfig's option strings checked by its kind's model (a one-line ``SinkConfigError``)."""
    return parse_options(model, config.options, f"sink {config.name}", error=SinkConfigError)


# --- projections -------------------------------------------------------------------------------------


def register_projections() -> None:
    """Make the schema projections (schemas.projections: native, ocsf, ecs) choosable by every sink.

    The sinks' registry (``pipelines.sinks.base.PROJECTIONS``) is filled here, when a sink reads its
    options, rather than in base.py: base.py imports this module, and the projections are plain
    functions of the canonical event that need nothing from the sinks."""
    from pipelines.sinks import base
    from schemas.projections import PROJECTIONS

    for name, project in PROJECTIONS.items():
        base.PROJECTIONS.setdefault(name, project)
