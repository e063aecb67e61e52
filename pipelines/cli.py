"""The ``cloudaudit`` command line: run the batch pipeline, normalize a few files, print the schema,
generate sample data.

Exit status: 0 done; 1 done but something needs a look (``run``: the pipeline failed, or its summary's
invariant does not hold; ``normalize``: at least one record became a dead letter); 2 a problem with the
arguments or the input (missing file, glob that matches nothing, unwritable output), reported as one
``cloudaudit: error: ...`` line on stderr and never as a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, cast

import orjson

from pipelines.errors import Submitted, UsageError, last_line, no_extra

PROG = "cloudaudit"

RUN_EXAMPLES = """\
examples:
  cloudaudit run --input 'logs/**/*.json.gz' --output out
  cloudaudit run --input trail/ --input gcp-export.jsonl --dedup-shards 4 --no-raw
  cloudaudit run --input 'gs://audit-bucket/AWSLogs/**' --output gs://lake/cloudaudit \\
      --runner DataflowRunner --project my-project --region europe-west1 --temp_location gs://lake/tmp
  cloudaudit run --input big/ --direct_num_workers 1      # one process: half the memory, half the speed
  SPLUNK_HEC_TOKEN=... cloudaudit run --input logs/ --sink 'hec:https://splunk:8088?index=audit&ack=true'

Inputs are local paths, globs (** crosses folders), directories (every file under them) or any Beam
filesystem URI (gs://, s3://, azfs://); gzip is recognised by its content, not its name. Options this
command does not know are Beam pipeline options (--runner, --direct_num_workers, Dataflow's options).
Without --runner the local FnApiRunner is used (nothing is downloaded); an input of several files and
64 MiB or more runs on one worker process per CPU, unless --direct_num_workers or
--direct_running_mode say otherwise.

Writes under OUTPUT: siem/ (canonical event JSON lines), cold/events/provider=P/date=D/hour=H/*.parquet,
cold/raw/... (the original records, .jsonl.gz), deadletters/ (JSON lines) and _summary.json. The summary
is printed at the end; exit status 1 if the pipeline failed or its invariant
(read = written + dead letters + duplicates + non-events) does not hold.
"""

NORMALIZE_EXAMPLES = """\
examples:
  cloudaudit normalize cloudtrail.json.gz
  cloudaudit normalize --no-raw gcp/*.json | jq -r .what.action
  gunzip -c export.jsonl.gz | cloudaudit normalize -

Events go to stdout as canonical JSON, one a line; each dead letter goes to stderr as one line
(location, stage/code, reason), and so does each record that is not an event (kind). Exit status 0 when
every record became an event or a non-event, 1 when there was at least one dead letter, 2 when a file
cannot be found or opened.
"""

SCHEMA_EXAMPLES = """\
examples:
  cloudaudit schema > event.schema.json
  cloudaudit schema --format arrow
"""

GENERATE_EXAMPLES = """\
examples:
  cloudaudit generate --out samples --events 10000
  cloudaudit generate --out /tmp/big --events 1000000 --seed 11 && cloudaudit run --input /tmp/big

Writes sample audit files of all three clouds in their delivery shapes (plain and gzip), with a few
malformed ones, for demos and benchmarks.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with errors as one line (``cloudaudit: error: ...``) and exit status 2.

    A value that starts with "-" and a digit (``--start -24h``) is a value, not an option: argparse's
    own rule only knows plain negative numbers, and no option of this program starts with "-" and a
    digit, so widening that rule is safe (argparse reads the attribute when it classifies arguments).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-\d")
        self.commands: dict[str, _Parser] = {}

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        _error(message + hint)
        raise SystemExit(2)

    def option_names(self) -> list[str]:
        """Every option string this parser knows (``--input``, ``-i``, ...)."""
        return [name for action in self._actions for name in action.option_strings]


# Commands that pass the options they do not know on to Beam as pipeline options.
BEAM_COMMANDS = ("run", "replay")


def unknown_options(parser: _Parser, command: str, extra: Sequence[str]) -> str | None:
    """The first option in ``extra`` that neither the command nor (for run and replay) Beam knows, named with
    the closest valid option when there is one; None when every option is known.

    Run before the command itself, so a typo is reported before any input is checked.
    """
    options = [a for a in extra if a.startswith("-") and not _DASH_VALUE.match(a)]
    if not options:
        return None
    sub = parser.commands.get(command, parser)
    known = sub.option_names()
    if command in BEAM_COMMANDS:  # options these do not know go to Beam, which knows a few hundred more
        from pipelines.options import beam_option_names, unknown_beam_args

        unknown = [a for a in unknown_beam_args(extra) if not _DASH_VALUE.match(a)]
        known = known + beam_option_names()
    else:
        unknown = options
    if not unknown:
        return None
    name = unknown[0].split("=", 1)[0]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unrecognized arguments: {' '.join(unknown)}{hint}"


def _error(message: str) -> None:
    line = " ".join(message.split())
    print(f"{PROG}: error: {line}", file=sys.stderr)


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {n}")
    return n


def build_parser() -> _Parser:
    from connectors.normalize import MAX_RECORD_BYTES
    from enrichers.cli import add_enrich_command
    from enrichers.cli import add_run_arguments as add_enrichment_arguments
    from enrichers.loaders import add_loader_commands
    from pipelines.cliparsers import (  # beam-free argument definitions; the commands import Beam when run
        add_cleanup_parser,
        add_replay_parser,
        add_run_safety_arguments,
        add_security_lake_arguments,
        add_verify_parser,
    )
    from pipelines.settings import DEFAULT_BATCH_SIZE, DEFAULT_DEDUP_SHARDS, DEFAULT_OUTPUT
    from pipelines.sinks import add_sink_arguments
    from pipelines.sourceargs import add_source_arguments

    parser = _Parser(
        prog=PROG,
        description="Normalize AWS CloudTrail, GCP Cloud Audit Logs and Azure Activity Logs into one "
        "security event schema.",
        allow_abbrev=False,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    fmt = argparse.RawDescriptionHelpFormatter

    run = sub.add_parser(
        "run", help="run the pipeline: batch, or streaming with --streaming", epilog=RUN_EXAMPLES, formatter_class=fmt, allow_abbrev=False
    )
    run.add_argument("--input", "-i", action="append", default=[], metavar="PATH_OR_GLOB",
                     help="file, directory, glob or URI to read; repeat for more (needed unless --source)")
    run.add_argument("--output", "-o", default=DEFAULT_OUTPUT, metavar="DIR",
                     help=f"output folder or URI (default: ./{DEFAULT_OUTPUT})")
    run.add_argument("--max-record-bytes", type=_positive, default=MAX_RECORD_BYTES, metavar="N",
                     help=f"records larger than this are dead letters (default: {MAX_RECORD_BYTES})")
    run.add_argument("--dedup-shards", type=_positive, default=DEFAULT_DEDUP_SHARDS, metavar="N",
                     help="groups (and Parquet files) per provider/date/hour partition, for parallel "
                     f"deduplication (default: {DEFAULT_DEDUP_SHARDS})")
    run.add_argument("--batch-size", type=_positive, default=DEFAULT_BATCH_SIZE, metavar="N",
                     help=f"records per batch element (default: {DEFAULT_BATCH_SIZE}); Parquet row groups "
                     "collect batches up to 10,000 rows")
    run.add_argument("--no-raw", action="store_true",
                     help="do not keep the original records (no event.raw, no raw archive)")
    run.add_argument("--verbose", "-v", action="store_true", help="Beam's log and full tracebacks")
    run.add_argument("--config", metavar="RUN_YAML",
                     help="run configuration file (sources, sinks, enrichment, rules, windows, output, beam "
                     "options; docs/deploy-dataflow.md); options given here override it")
    run.set_defaults(func=_cmd_run)
    add_source_arguments(run)  # --source, --start/--end, --streaming and its knobs; kinds in the epilog
    add_enrichment_arguments(run)  # --enrich-config, --directory, --inventory, --geoip-db, ... (enrichers/cli.py)
    add_sink_arguments(run)  # --sink KIND:URL?options (Splunk HEC, Elasticsearch/OpenSearch, Sentinel)
    add_security_lake_arguments(run)  # --security-lake ROOT (pipelines/cliparsers.py; runs in securitylake.py)
    add_run_safety_arguments(run)  # --max-deadletter-ratio, --group-readable (pipelines/cliparsers.py)
    run.add_argument("--rules", nargs="?", const="", default=None, metavar="DIR",
                     help="evaluate detection rules and write alerts (no DIR: the bundled pack; detections/)")

    norm = sub.add_parser(
        "normalize", help="normalize files to event JSON lines on stdout", epilog=NORMALIZE_EXAMPLES,
        formatter_class=fmt, allow_abbrev=False,
    )
    norm.add_argument("files", nargs="+", metavar="FILE", help="file or URI to read ('-' for stdin)")
    norm.add_argument("--max-record-bytes", type=_positive, default=MAX_RECORD_BYTES, metavar="N")
    norm.add_argument("--no-raw", action="store_true", help="leave event.raw out")
    norm.add_argument("--projection", choices=("native", "ocsf", "ecs"), default="native",
                      help="print the events as they are (native, default), as OCSF 1.8.0 or as ECS 9")
    norm.set_defaults(func=_cmd_normalize)

    schema = sub.add_parser(
        "schema", help="print the event schema", epilog=SCHEMA_EXAMPLES, formatter_class=fmt, allow_abbrev=False
    )
    schema.add_argument("--format", choices=("json-schema", "arrow"), default="json-schema",
                        help="JSON Schema (default) or the Arrow/Parquet schema as text")
    schema.set_defaults(func=_cmd_schema)

    gen = sub.add_parser(
        "generate", help="write sample audit log files", epilog=GENERATE_EXAMPLES, formatter_class=fmt,
        allow_abbrev=False,
    )
    gen.add_argument("--out", required=True, metavar="DIR", help="folder to write the sample files to")
    gen.add_argument("--events", type=_positive, default=10_000, metavar="N", help="events (default: 10000)")
    gen.add_argument("--seed", type=int, default=7, metavar="S", help="random seed (default: 7)")
    gen.add_argument("--layout", choices=("real", "bench"), default="real",
                     help="real: every wire shape under the clouds' own paths (default); bench: each "
                     "cloud's main shape in a few large files, for throughput runs")
    gen.add_argument("--malformed", action="store_true", help="also write broken files (dead letters)")
    gen.set_defaults(func=_cmd_generate)
    add_replay_parser(sub)  # replay DEADLETTERS... (pipelines/replay.py)
    add_verify_parser(sub)  # verify OUTPUT: cold storage against its manifests (pipelines/manifest.py)
    add_cleanup_parser(sub)  # cleanup OUTPUT: what interrupted runs left (pipelines/cleanup.py)
    add_enrich_command(sub, fmt)  # cloudaudit enrich [--explain] FILE... (enrichers/cli.py)
    add_loader_commands(sub)  # cloudaudit directory|inventory SOURCE --out FILE (enrichers/loaders)
    from connectors.kit import add_new_source_command

    add_new_source_command(sub)  # cloudaudit new-source NAME: a connector skeleton (connectors/kit.py)
    from detections.cli import add_detect_commands, add_hunt_command

    add_detect_commands(sub, fmt)  # cloudaudit detect test|coverage [DIR] (detections/cli.py)
    add_hunt_command(sub, fmt)  # cloudaudit hunt [--rules DIR] INPUT... (detections/cli.py)
    parser.commands = {name: p for name, p in sub.choices.items() if isinstance(p, _Parser)}
    return parser


# --- commands -----------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    from enrichers.cli import enrichment_config
    from pipelines import batch, streaming
    from pipelines.settings import RunConfig, Settings
    from pipelines.sourceargs import run_source_options
    from pipelines.summary import format_summary

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not args.verbose:
        # A failed step comes back as the pipeline's error, printed below as one line: Beam's own ERROR
        # record of it (with the worker's traceback) is for --verbose.
        logging.getLogger("apache_beam").setLevel(logging.CRITICAL)
    if args.config:  # the run file first, the command line on top
        from pipelines.config import check_rules, merge_run_file

        extra = merge_run_file(args, build_parser().parse_args(["run"]), extra)
        check_rules(getattr(args, "rules", None))
    config = RunConfig(
        inputs=args.input,
        output=args.output,
        settings=Settings(
            max_record_bytes=args.max_record_bytes,
            keep_raw=not args.no_raw,
            batch_size=args.batch_size,
            dedup_shards=args.dedup_shards,
            include=tuple(args.include),
        ),
        beam_args=extra,
        **cast(dict[str, Any], run_source_options(args)),
        sinks=args.sink,
        enrichment=enrichment_config(args),
        security_lake=args.security_lake,
        security_lake_prefix=args.security_lake_prefix,
        group_readable=args.group_readable,
        max_deadletter_ratio=args.max_deadletter_ratio,
        rules=args.rules,
    )
    try:
        runner = streaming.run if config.streaming else batch.run
        summary = runner(config, progress=lambda msg: print(f"{PROG}: {msg}", file=sys.stderr, flush=True))
    except UsageError:
        raise
    except Submitted as done:  # the job runs on in the cloud (Flex Template launch, --no_wait_until_finish)
        print(f"{PROG}: {done}", file=sys.stderr, flush=True)
        return 0
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        _error(f"the pipeline failed: {last_line(exc)}")
        return 1
    print(format_summary(summary), flush=True)
    return 0 if summary.ok else 1


def _cmd_normalize(args: argparse.Namespace, extra: list[str]) -> int:
    from connectors.errors import NonEvent
    from connectors.normalize import Normalizer
    from schemas.deadletter import DeadLetter

    no_extra(extra)
    for path in args.files:  # every file is checked before any output, so a typo costs nothing
        if path != "-" and not _exists(path):
            raise UsageError(f"no such file: {path}")
    from schemas.fastpath import dumps

    # Documents, not models: validated on plain dicts (schemas/fastpath.py), serialized once by orjson (the
    # same bytes as model_dump_json).
    normalizer = Normalizer(max_record_bytes=args.max_record_bytes, keep_raw=not args.no_raw, documents=True)
    out = sys.stdout.buffer
    dead = 0
    for path in args.files:
        stream: BinaryIO
        try:
            stream = sys.stdin.buffer if path == "-" else _open(path)
        except Exception as exc:
            raise UsageError(f"cannot open {path}: {last_line(exc)}") from None
        location = "<stdin>" if path == "-" else path
        for result in normalizer.stream(stream, location):
            if isinstance(result, DeadLetter):
                dead += 1
                out.flush()
                print(f"{PROG}: dead letter: {result.location}: {result.stage}/{result.code}: "
                      f"{' '.join(result.reason.split())}", file=sys.stderr, flush=True)
            elif isinstance(result, NonEvent):
                out.flush()
                print(f"{PROG}: not an event: {result.location}: {result.kind}", file=sys.stderr, flush=True)
            elif args.projection != "native":  # schemas/projections
                from schemas.projections import project_line

                doc = cast(dict[str, Any], result)
                out.write(project_line(orjson.loads(dumps(doc)), args.projection, keep_raw=not args.no_raw))
            else:
                out.write(dumps(cast(dict[str, Any], result)) + b"\n")
        if stream is not sys.stdin.buffer:
            stream.close()
    out.flush()
    return 1 if dead else 0


def _cmd_schema(args: argparse.Namespace, extra: list[str]) -> int:
    no_extra(extra)
    if args.format == "arrow":
        from schemas.arrow import schema_text

        sys.stdout.write(schema_text())
    else:
        from schemas.jsonschema import json_schema_text

        sys.stdout.write(json_schema_text())
    return 0


def _cmd_generate(args: argparse.Namespace, extra: list[str]) -> int:
    no_extra(extra)
    generate = _sample_generator()
    if generate is None:
        _error(
            "cloudaudit generate needs the sample generators (sampledata/), which are in a source checkout, "
            "not in an installed wheel: run it from a checkout of the repository"
        )
        return 1
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {args.out!r}: {exc.strerror or exc}") from None
    manifest: dict[str, Any] = generate(
        args.out, args.events, seed=args.seed, layout=args.layout, malformed=args.malformed
    )
    shown = {k: v for k, v in manifest.items() if k != "files"}  # the file list can be very long
    sys.stdout.write(orjson.dumps(shown, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")
    return 0


# --- helpers ------------------------------------------------------------------------------------


def _sample_generator() -> Callable[..., dict[str, Any]] | None:
    """``sampledata.generate``: importable in a checkout (tests, PYTHONPATH), or found beside this package
    when an editable install runs the console script; None from a wheel, which leaves the generators out."""
    try:
        from sampledata import generate
    except ModuleNotFoundError as exc:
        if exc.name != "sampledata":
            raise
        root = Path(__file__).resolve().parent.parent
        if not (root / "sampledata" / "__init__.py").is_file():
            return None
        sys.path.append(str(root))
        from sampledata import generate
    return generate


def _open(path: str) -> BinaryIO:
    """A local file directly; a URI through Beam's filesystems (imported only then: Beam takes seconds)."""
    if "://" not in path:
        return open(path, "rb")
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def _exists(path: str) -> bool:
    if "://" not in path:
        return os.path.isfile(path)
    from apache_beam.io.filesystems import FileSystems

    try:
        return bool(FileSystems.exists(path))
    except Exception:
        return False


# A relative time such as -24h or -30m: a value, not an option.
_DASH_VALUE = re.compile(r"^-\d")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if args.command is None:
        _error(f"choose a command: run, normalize, enrich, schema or generate (see '{PROG} --help')")
        return 2
    unknown = unknown_options(parser, args.command, extra)
    if unknown:
        _error(f"{unknown} (see '{PROG} {args.command} --help')")
        return 2
    try:
        return int(args.func(args, extra))
    except UsageError as exc:
        _error(str(exc))
        return 2
    except BrokenPipeError:
        # The reader went away (| head): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as exc:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return int(getattr(exc, "exit_code", 130))  # 143 for SIGTERM (pipelines.interrupt.Interrupted)


if __name__ == "__main__":
    raise SystemExit(main())
