"""The local runner's defaults, and the two places where Beam's private names are needed (see the package
docstring)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    StandardOptions,
    _BeamArgumentParser,  # the parser Beam itself uses to tell its options apart
)

from pipelines.settings import DEFAULT_RUNNER, PARALLEL_MIN_BYTES


def unknown_beam_args(beam_args: Sequence[str], exclude: Sequence[type[PipelineOptions]] = ()) -> list[str]:
    """The arguments no registered ``PipelineOptions`` subclass (but those in ``exclude``) knows; Beam
    itself only warns about them."""
    _, unknown = _beam_parser(exclude).parse_known_args(list(beam_args))
    return [a for a in unknown if a.startswith("-")]


def beam_option_names() -> list[str]:
    """Every option Beam knows (``--runner``, ``--temp_location``, ...): candidates for "did you mean"."""
    return [name for action in _beam_parser()._actions for name in action.option_strings]


def _beam_parser(exclude: Sequence[type[PipelineOptions]] = ()) -> _BeamArgumentParser:
    parser = _BeamArgumentParser(allow_abbrev=False, add_help=False)
    for cls in {str(c): c for c in _all_option_classes() if c not in exclude}.values():
        cls._add_argparse_args(parser)
    return parser


def _all_option_classes() -> list[type[PipelineOptions]]:
    out, todo = [], list(PipelineOptions.__subclasses__())
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    return out


def skip_adc_lookup() -> None:
    """With ``STORAGE_EMULATOR_HOST`` set, the GCS client talks to the emulator anonymously whatever
    credentials it is given, so Beam's own ADC lookup (which retries for about 20 s when there are none)
    is skipped."""
    try:
        from apache_beam.internal.gcp import auth

        with auth._Credentials._credentials_lock:
            if not auth._Credentials._credentials_init:
                auth._Credentials._credentials = None
                auth._Credentials._credentials_init = True
    except (ImportError, AttributeError):  # another Beam version: the lookup is only slower
        pass


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
    root = str(Path(__file__).resolve().parent.parent.parent)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([root, *paths])


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
