"""Argument definitions of the commands whose code needs Apache Beam (cleanup, verify, replay, and run's
safety and Security Lake options), kept here so that building the parser imports nothing heavy.

``cloudaudit --help`` and ``cloudaudit normalize FILE`` must start in well under a second; importing Beam
alone takes two. Each command's code stays in its own module (pipelines/cleanup.py, manifest.py,
replay.py) and is imported when the command runs (``lazy_command``).
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

DEFAULT_MAX_DEADLETTER_RATIO = 0.05  # a run whose dead letters are over 5% of its records exits 1
DEFAULT_PREFIX = "cloudaudit"  # Security Lake custom source names are PREFIX-<ocsf-class>


class lazy_command:  # used like a function: set_defaults(func=lazy_command(...))
    """A command function named by module and attribute, imported on the first call."""

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(self.module), self.name)(*args, **kwargs)

    def __repr__(self) -> str:
        return f"lazy_command({self.module}.{self.name})"


CLEANUP_EXAMPLES = """\
examples:
  cloudaudit cleanup out
  cloudaudit cleanup s3://lake/cloudaudit --break-lock

Removes what interrupted runs left under OUTPUT: run files (cold storage, SIEM, dead letters) that no
manifest in cold/_manifests/ lists, hidden *.inprogress files and temporary folders. Files a manifest
lists are never touched. Refuses while a run holds OUTPUT's lock (--break-lock: the run is known dead).
Every run does this at its start. Exit status 0, or 2 when OUTPUT is in use.
"""


def add_cleanup_parser(sub: Any) -> None:
    """The ``cleanup`` subcommand (called from pipelines/cli.py)."""
    p = sub.add_parser(
        "cleanup", help="remove what an interrupted run left in an output", epilog=CLEANUP_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False,
    )
    p.add_argument("output", metavar="OUTPUT", help="output folder or URI")
    p.add_argument("--break-lock", action="store_true", help="remove the lock of a run known to be dead")
    p.set_defaults(func=lazy_command("pipelines.cleanup", "_cmd_cleanup"))


VERIFY_EXAMPLES = """\
examples:
  cloudaudit verify out
  cloudaudit verify s3://lake/cloudaudit
  cloudaudit verify out/cold/_manifests/20240501T130502Z-1a2b3c.jsonl

Re-reads every file listed in OUTPUT/cold/_manifests/*.jsonl (or in the one manifest given) and checks
its size, SHA-256 and record count; given an output folder, also reports files under cold/events and
cold/raw that no manifest lists. Exit status 0 when everything matches, 1 when anything is missing,
altered, extra or miscounted, 2 when OUTPUT has no manifest.
"""


def add_verify_parser(sub: Any) -> None:
    """The ``verify`` subcommand (called from pipelines/cli.py)."""
    p = sub.add_parser(
        "verify", help="check cold storage against its manifests", epilog=VERIFY_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False,
    )
    p.add_argument("target", metavar="OUTPUT_OR_MANIFEST", help="output folder/URI, or one manifest file")
    p.set_defaults(func=lazy_command("pipelines.manifest", "_cmd_verify"))


REPLAY_EXAMPLES = """\
examples:
  cloudaudit replay out/deadletters/ --output out
  cloudaudit replay 'out/deadletters/deadletters-20240501T130502Z-*.jsonl' --output replayed
  cloudaudit replay gs://lake/cloudaudit/deadletters/ --output gs://lake/cloudaudit

Reads dead-letter files (JSON lines as every stage writes them; directories mean every file under them)
and sends each letter through the pipeline again: record letters (read, parse, map, validate, enrich)
through the normalizer, then deduplication, cold storage and SIEM output; sink letters (canonical event
JSON) to the SIEM outputs only, except parquet_rejected ones, which go to cold storage too. What fails
again is a new dead letter with attempts + 1. Options this command does not know are Beam pipeline
options. Exit status as for 'run'.
"""


def add_replay_parser(sub: Any) -> None:
    """The ``replay`` subcommand (called from pipelines/cli.py)."""
    from enrichers.cli import add_run_arguments as add_enrichment_arguments
    from pipelines.settings import DEFAULT_BATCH_SIZE, DEFAULT_DEDUP_SHARDS, DEFAULT_OUTPUT
    from pipelines.sinks import add_sink_arguments

    p = sub.add_parser(
        "replay", help="send dead letters through the pipeline again", epilog=REPLAY_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False,
    )
    p.add_argument("deadletters", nargs="+", metavar="DEADLETTERS",
                   help="dead-letter file, directory, glob or URI; several may be given")
    p.add_argument("--output", "-o", default=DEFAULT_OUTPUT, metavar="DIR",
                   help=f"output folder or URI (default: ./{DEFAULT_OUTPUT})")
    p.add_argument("--dedup-shards", type=int, default=DEFAULT_DEDUP_SHARDS, metavar="N",
                   help=f"groups per provider/date/hour partition (default: {DEFAULT_DEDUP_SHARDS})")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N",
                   help=f"records per batch element (default: {DEFAULT_BATCH_SIZE}); Parquet row groups "
                   "collect batches up to 10,000 rows")
    p.add_argument("--no-raw", action="store_true", help="do not keep the original records")
    p.add_argument("--reread-from", action="append", default=[], metavar="PREFIX",
                   help="input root that read letters of unreadable files may be re-read from; repeat for "
                   "more (without it such letters are refused and counted as replay/reread_refused)")
    add_sink_arguments(p)  # --sink KIND:URL?options, as for 'run' (engineer F's pipelines/sinks)
    add_enrichment_arguments(p)  # the enrichment options of 'run', so replayed events get the same context
    p.add_argument("--verbose", "-v", action="store_true", help="Beam's log and full tracebacks")
    p.set_defaults(func=lazy_command("pipelines.replay", "_cmd_replay"))


def add_run_safety_arguments(parser: Any) -> None:
    """``run``'s options for the exit status, the output files' mode and which files a directory input
    reads (called from pipelines/cli.py)."""
    parser.add_argument(
        "--include", action="append", default=[], metavar="GLOB",
        help="file names a directory input reads; repeat for more (default: log-like names: *.json, "
        "*.json.gz, *.jsonl, *.gz, *.log, PT1H.json, ...; other files are skipped and counted)",
    )
    parser.add_argument(
        "--max-deadletter-ratio", type=float, default=DEFAULT_MAX_DEADLETTER_RATIO, metavar="R",
        help="exit status 1 when dead letters are more than this share of the records read, or of the "
        f"events a sink was given (default: {DEFAULT_MAX_DEADLETTER_RATIO})",
    )
    parser.add_argument(
        "--group-readable", action="store_true",
        help="create output files 0640 and folders 0750 instead of 0600/0700 (dead letters and the raw "
        "archive hold original log records)",
    )


def add_security_lake_arguments(parser: Any) -> None:
    """``cloudaudit run --security-lake ROOT [--security-lake-prefix NAME]``."""
    parser.add_argument("--security-lake", metavar="ROOT", default=None,
                        help="also write an OCSF 1.8 copy in Amazon Security Lake's custom-source layout "
                        "under ROOT (a folder or s3://BUCKET/PREFIX): ext/<source>/region=/accountId=/eventDay=/ "
                        "(batch, or per window pane with --streaming)")
    parser.add_argument("--security-lake-prefix", metavar="NAME", default=DEFAULT_PREFIX,
                        help=f"custom source names are NAME-<ocsf-class> (default: {DEFAULT_PREFIX})")
