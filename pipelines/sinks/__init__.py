"""SIEM sinks: Splunk HTTP Event Collector, Elasticsearch/OpenSearch ``_bulk``, Microsoft Sentinel.

```
SIEM lines batches ─┬─ Sink[hec]      ─┐
                    ├─ Sink[elastic]  ─┼─ Flatten ─ dead-letter batches (stage "sink")
                    └─ Sink[sentinel] ─┘
```

* ``parse_sink("hec:https://splunk:8088?index=audit")`` -> ``SinkConfig`` (Beam-free, see config.py)
* ``make_sink(config)`` -> a plain ``Sink`` with ``send(lines) -> SendResult(delivered_ids, dead)``,
  for replay and tests; checks options and credentials (``SinkConfigError``, a UsageError)
* ``WriteToSinks(configs)``: PCollection[bytes] (batches of canonical JSON lines joined by newlines)
  -> PCollection[bytes] (batches of dead-letter JSON lines), counting ``sinks/<name>/...``

This module imports no Beam: the command line builds its options from it; ``WriteToSinks`` is loaded on
first use.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from pipelines.sinks.config import SinkConfig, SinkConfigError, SinkOptions, parse_sink, unique_names

if TYPE_CHECKING:
    from pipelines.sinks.base import Sink

# kind -> "module:Class"; loaded on demand so one kind's client library is only needed when it is used.
KINDS: dict[str, str] = {
    "hec": "pipelines.sinks.hec:HecSink",
    "splunk": "pipelines.sinks.hec:HecSink",
    "elastic": "pipelines.sinks.elastic:ElasticSink",
    "opensearch": "pipelines.sinks.elastic:ElasticSink",
    "sentinel": "pipelines.sinks.sentinel:SentinelSink",
}


def sink_class(kind: str) -> type[Sink]:
    import importlib

    try:
        module, cls = KINDS[kind].split(":")
    except KeyError:
        raise SinkConfigError(f"unknown sink kind {kind!r} (known: {', '.join(sorted(KINDS))})") from None
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


def option_models() -> dict[str, type[SinkOptions]]:
    """The sinks' options models by docs subject: ``sinks`` (what every kind takes) and ``sink KIND`` (what
    a kind adds or changes; an alias such as ``splunk`` is listed under its first name, ``hec``)."""
    models: dict[str, type[SinkOptions]] = {"sinks": SinkOptions}
    for kind in KINDS:
        model = sink_class(kind).OPTIONS_MODEL
        if model not in models.values():
            models[f"sink {kind}"] = model
    return models


def make_sink(config: SinkConfig | str, **kwargs: Any) -> Sink:
    """A ready Sink for a config (or a command-line value); raises SinkConfigError when it cannot work."""
    if isinstance(config, str):
        config = parse_sink(config)
    return sink_class(config.kind)(config, **kwargs)


def check_sinks(configs: list[SinkConfig]) -> list[SinkConfig]:
    """Names made unique, and each sink built once, so a bad option or a missing credential is a usage
    error before the pipeline starts rather than a failure on every worker."""
    configs = unique_names(list(configs))
    for c in configs:
        make_sink(c).close()
    return configs


# --- counters (summary.py reads them) ----------------------------------------------------------------

SINKS = "sinks"


def events_counter(name: str) -> str:
    return f"{SINKS}/{name}/events"


def delivered_counter(name: str) -> str:
    return f"{SINKS}/{name}/delivered"


def sink_deadletter_counter(name: str, code: str) -> str:
    return f"{SINKS}/{name}/deadletters/{code}"


# --- command line ------------------------------------------------------------------------------------

SINK_HELP = (
    "send the events to a SIEM too; repeat for more: hec:URL?index=..&ack=true (token in env "
    "SPLUNK_HEC_TOKEN), elastic:URL?index=cloudaudit-{date} (env ELASTIC_API_KEY), "
    "sentinel:DCE_URL?dcr=dcr-..&stream=Custom-CloudAudit_CL (DefaultAzureCredential); options in docs/sinks.md"
)


def _sink_value(text: str) -> SinkConfig:
    try:
        return parse_sink(text)
    except SinkConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_sink_arguments(parser: argparse.ArgumentParser) -> None:
    """``--sink KIND:URL?...`` (repeatable) -> ``args.sink``: a list of SinkConfig."""
    parser.add_argument("--sink", action="append", default=[], type=_sink_value, metavar="KIND:URL",
                        help=SINK_HELP)


def __getattr__(name: str) -> Any:
    # The Beam composite, loaded only when asked for (it imports apache_beam).
    if name in ("WriteToSinks", "SendToSinkFn"):
        from pipelines.sinks import transform

        return getattr(transform, name)
    raise AttributeError(name)


__all__ = [
    "KINDS",
    "SinkConfig",
    "SinkConfigError",
    "WriteToSinks",
    "add_sink_arguments",
    "check_sinks",
    "make_sink",
    "option_models",
    "parse_sink",
    "sink_class",
]
