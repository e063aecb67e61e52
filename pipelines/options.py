"""Beam pipeline options, and checking inputs and output before anything runs.

Argument and input problems raise ``UsageError`` with one readable sentence; the command line prints it
as one line and exits 2. Nothing here starts a pipeline.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from apache_beam.io.filesystem import CompressionTypes, FileMetadata
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    StandardOptions,
    _BeamArgumentParser,  # the parser Beam itself uses to tell its options apart
)

from pipelines.errors import UsageError
from pipelines.settings import DEFAULT_RUNNER, PARALLEL_MIN_BYTES


def pipeline_options(beam_args: Sequence[str]) -> PipelineOptions:
    """Beam options from the pass-through arguments, with the local batch runner unless one is named.

    Unknown options are an error here rather than Beam's quiet "discarding unparseable args".
    """
    unknown = unknown_beam_args(beam_args)
    if unknown:
        raise UsageError(f"unrecognized arguments: {' '.join(unknown)}")
    options = PipelineOptions(list(beam_args))
    standard = options.view_as(StandardOptions)
    if not standard.runner:
        standard.runner = DEFAULT_RUNNER
    return options


def parallelize_locally(options: PipelineOptions, beam_args: Sequence[str], files: int, input_bytes: int) -> None:
    """On the local runner, unless the arguments say how to run it, a large input (several files, at
    least ``PARALLEL_MIN_BYTES``) runs on one worker process per CPU: the hot stages carry batches, so
    the work parallelizes, and a process pool takes a second or two to start, which only pays on big
    runs."""
    if options.view_as(StandardOptions).runner != DEFAULT_RUNNER:
        return
    if any(a.startswith(("--direct_num_workers", "--direct_running_mode")) for a in beam_args):
        return
    workers = min(_cpus(), files) if input_bytes >= PARALLEL_MIN_BYTES else 1
    if workers > 1:
        direct = options.view_as(DirectOptions)
        direct.direct_num_workers = workers
        direct.direct_running_mode = "multi_processing"


def runner_text(options: PipelineOptions) -> str:
    runner = str(options.view_as(StandardOptions).runner)
    direct = options.view_as(DirectOptions)
    if runner == DEFAULT_RUNNER and direct.direct_running_mode == "multi_processing":
        return f"{runner} with {direct.direct_num_workers} worker processes"
    return runner


def worker_environment(options: PipelineOptions) -> None:
    """Worker processes of the local runner start as ``python -m ...`` with this process's environment:
    make sure they import this checkout's packages even when it is not installed."""
    if options.view_as(DirectOptions).direct_running_mode != "multi_processing":
        return
    root = str(Path(__file__).resolve().parent.parent)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([root, *paths])


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def unknown_beam_args(beam_args: Sequence[str]) -> list[str]:
    _, unknown = _beam_parser().parse_known_args(list(beam_args))
    return [a for a in unknown if a.startswith("-")]


def beam_option_names() -> list[str]:
    """Every option Beam knows (``--runner``, ``--temp_location``, ...): candidates for "did you mean"."""
    return [name for action in _beam_parser()._actions for name in action.option_strings]


def _beam_parser() -> _BeamArgumentParser:
    parser = _BeamArgumentParser(allow_abbrev=False, add_help=False)
    for cls in {str(c): c for c in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)
    return parser


def expand_input(pattern: str) -> str:
    """A directory means every file under it, recursively (``dir/**``); anything else is a path, a glob
    or a Beam filesystem URI as it is."""
    if pattern.endswith(("/", "\\")):
        return pattern + "**"
    if "://" not in pattern and not any(c in pattern for c in "*?[") and os.path.isdir(pattern):
        return os.path.join(pattern, "**")
    return pattern


def match_inputs(patterns: Sequence[str]) -> list[list[FileMetadata]]:
    """The files each pattern matches, in order. A pattern that matches nothing is a usage error."""
    if not patterns:
        raise UsageError("no --input given")
    out = []
    for pattern in patterns:
        try:
            (result,) = FileSystems.match([pattern])
        except Exception as exc:  # BeamIOError wraps the filesystem's own error per pattern
            cause = getattr(exc, "exception_details", {}).get(pattern, exc)
            raise UsageError(f"cannot list input {pattern!r}: {_one_line(cause)}") from None
        files = [m for m in result.metadata_list if not _is_directory(m.path)]
        if not files:
            if any(c in pattern for c in "*?["):
                raise UsageError(f"input {pattern!r} matches no files")
            raise UsageError(f"input {pattern!r}: no such file")
        out.append(files)
    return out


def _is_directory(path: str) -> bool:
    if "://" in path:
        return path.endswith("/")
    return os.path.isdir(path)


def use_filesystems(options: PipelineOptions) -> None:
    """Give Beam's filesystems the run's options before the driver touches an object store.

    ``FileSystems`` gets its options only when a ``Pipeline`` is made; without them S3 and Azure refuse
    to start (``Must provide one of client or options``). Clients then use each cloud's default chain:
    boto3's (``AWS_ENDPOINT_URL`` points it at a local stand-in), ``AZURE_STORAGE_CONNECTION_STRING`` when
    set (the emulator/local-dev override) else DefaultAzureCredential, Google's ADC. With
    ``STORAGE_EMULATOR_HOST`` set, the GCS client talks to the emulator anonymously whatever credentials
    it is given, so Beam's own ADC lookup (which retries for about 20 s when there are none) is skipped.
    """
    FileSystems.set_options(options)
    from pipelines.objectstores import share_s3_clients

    share_s3_clients()  # one boto3 client per process instead of one per file operation
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        try:
            from apache_beam.internal.gcp import auth

            with auth._Credentials._credentials_lock:
                if not auth._Credentials._credentials_init:
                    auth._Credentials._credentials = None
                    auth._Credentials._credentials_init = True
        except (ImportError, AttributeError):  # another Beam version: the lookup is only slower
            pass


def check_output(root: str) -> None:
    """Create the output folder and prove it is writable, before any work is done."""
    probe = FileSystems.join(root, f".cloudaudit-probe-{uuid.uuid4().hex[:8]}")
    try:
        if "://" not in root:
            os.makedirs(root, exist_ok=True)
        with FileSystems.create(probe, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            f.write(b"probe\n")  # not empty: Beam writes S3 objects by multipart upload, which needs a part
        FileSystems.delete([probe])
    except Exception as exc:
        raise UsageError(f"cannot write to output {root!r}: {_one_line(exc)}") from None


def _one_line(exc: BaseException | object) -> str:
    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first if len(first) <= 300 else first[:297] + "..."
