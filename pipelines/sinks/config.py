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

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pipelines.errors import UsageError


class SinkConfigError(UsageError):
    """A sink value or option that cannot work: one line, exit status 2 on the command line."""


# Options every sink understands; each kind adds its own (see the sink classes' OPTIONS).
COMMON_OPTIONS: dict[str, str] = {
    "name": "the sink's name in the run summary and dead letters (default: its kind; repeated kinds get -2, -3)",
    "projection": "what each event becomes before the sink's envelope: native (the event JSON, also "
    "'canonical'), ocsf (OCSF 1.8.0) or ecs (ECS 9); default ecs for elastic/opensearch, native elsewhere",
    "raw": "include the original record (event.raw) in what is sent: true or false (default false)",
    "batch_events": "events per request at most",
    "batch_bytes": "uncompressed bytes per request at most",
    "retries": "retries of a failed request or item before it becomes a dead letter (default 5)",
    "backoff": "first retry delay in seconds, doubled per retry, with full jitter (default 0.5)",
    "max_backoff": "longest retry delay in seconds, Retry-After included (default 30)",
    "timeout": "seconds to wait for a connection or a response (default 30)",
    "gzip": "compress request bodies: true or false (default true)",
    "breaker_batches": "consecutive batches out of retries before the sink is declared down (default 3)",
    "breaker_seconds": "seconds of continuous outage before the sink is declared down (default 30)",
}

# The projection a sink kind uses when none is given: Elasticsearch/OpenSearch content (detection rules,
# dashboards) is written against ECS; Splunk and Sentinel get the native event, whose fields their
# cloudaudit content and the Sentinel table's flat columns are named after.
DEFAULT_PROJECTION: dict[str, str] = {"elastic": "ecs", "opensearch": "ecs"}
NATIVE = "native"

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
SECRET_OPTIONS = frozenset({"token", "password", "api_key", "apikey", "secret", "key", "client_secret"})


@dataclass(frozen=True)
class SinkConfig:
    """One configured sink: ``kind`` picks the class, ``url`` the endpoint, ``options`` the rest (as
    given, strings; each sink class checks and converts them)."""

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

    Only the syntax and the options' names are checked here; ``make_sink`` checks values and the
    environment (a missing token), so the command line reports every problem before the run starts.
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
    known = {**COMMON_OPTIONS, **sink_class(kind).OPTIONS}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise SinkConfigError(
            f"sink {kind}: unknown option(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    url = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    name = options.pop("name", "") or kind
    if not _NAME.fullmatch(name):
        raise SinkConfigError(f"sink {kind}: option name={name!r}: letters, digits, '.', '_' and '-' only")
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


class Options:
    """Typed reads of a SinkConfig's option strings, with one-line errors naming the sink and option."""

    def __init__(self, config: SinkConfig) -> None:
        self._config = config
        self._values = dict(config.options)
        if not self._values.get("projection"):
            self._values["projection"] = DEFAULT_PROJECTION.get(config.kind, NATIVE)
        register_projections()

    def _raw(self, key: str) -> str | None:
        v = self._values.get(key)
        return None if v is None or v == "" else v

    def _fail(self, key: str, expected: str, value: str) -> SinkConfigError:
        return SinkConfigError(f"sink {self._config.name}: option {key}={value!r}: expected {expected}")

    def text(self, key: str, default: str) -> str:
        v = self._raw(key)
        return default if v is None else v

    def optional(self, key: str) -> str | None:
        return self._raw(key)

    def boolean(self, key: str, default: bool) -> bool:
        v = self._raw(key)
        if v is None:
            return default
        low = v.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise self._fail(key, "true or false", v)

    def integer(self, key: str, default: int, minimum: int = 1) -> int:
        v = self._raw(key)
        if v is None:
            return default
        try:
            n = int(v)
        except ValueError:
            raise self._fail(key, "a whole number", v) from None
        if n < minimum:
            raise self._fail(key, f"at least {minimum}", v)
        return n

    def number(self, key: str, default: float, minimum: float = 0.0) -> float:
        v = self._raw(key)
        if v is None:
            return default
        try:
            x = float(v)
        except ValueError:
            raise self._fail(key, "a number", v) from None
        if not math.isfinite(x) or x < minimum:
            raise self._fail(key, f"a number of at least {minimum}", v)
        return x

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        v = self._raw(key)
        if v is None:
            return default
        if v not in allowed:
            raise self._fail(key, " or ".join(allowed), v)
        return v


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
