"""Beam pipeline options, and checking inputs and output before anything runs.

Argument and input problems raise ``UsageError`` with one readable sentence; the command line prints it
as one line and exits 2. Nothing here starts a pipeline.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from typing import Any

from apache_beam.io.filesystem import CompressionTypes, FileMetadata
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipelines.errors import UsageError
from pipelines.local.runner import (  # noqa: F401 - the local runner's part, re-exported
    beam_option_names,
    parallelize_locally,
    runner_text,
    skip_adc_lookup,
    unknown_beam_args,
    worker_environment,
)
from pipelines.settings import DEFAULT_RUNNER


class CloudauditOptions(PipelineOptions):
    """The run's own parameters as Beam pipeline options (``--config``, ``--input``, ``--output``,
    ``--source``, ``--sink``, ``--window``, ...: ``pipelines.config.PARAMETERS``), for the Dataflow Flex
    Template and any launcher that speaks Beam options: ``pipelines.template`` turns them into a
    ``cloudaudit run``. Beam's own options (``--runner``, ``--project``, ``--region``,
    ``--temp_location``, ``--sdk_container_image``, ``--streaming``) work as in any Beam job."""

    @classmethod
    def _add_argparse_args(cls, parser: Any) -> None:
        from pipelines.config import PARAMETERS

        for p in PARAMETERS:
            if p.kind == "list":
                parser.add_argument(f"--{p.name}", action="append", default=None, help=p.help)
            else:
                parser.add_argument(f"--{p.name}", default=None, help=p.help)


def pipeline_options(beam_args: Sequence[str]) -> PipelineOptions:
    """Beam options from the pass-through arguments, with the local batch runner unless one is named.

    Unknown options are an error here rather than Beam's quiet "discarding unparseable args"; so are the
    run's own parameters in their Beam spelling (``--enrich_config``): ``cloudaudit run`` has its own
    options for them, and ``pipelines.template`` translates.
    """
    unknown = unknown_beam_args(beam_args, exclude=(CloudauditOptions,))
    if unknown:
        raise UsageError(f"unrecognized arguments: {' '.join(unknown)}")
    options = PipelineOptions(list(beam_args))
    standard = options.view_as(StandardOptions)
    if not standard.runner:
        standard.runner = DEFAULT_RUNNER
    return options


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
        skip_adc_lookup()


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
