"""Errors the command line reports as one line."""

from __future__ import annotations

from connectors.usage import UsageError, no_extra

__all__ = ["UsageError", "last_line", "no_extra"]


def last_line(exc: BaseException) -> str:
    """Beam wraps a worker's error in a long message holding the whole traceback; its last line names
    the error itself (with the exception's type when that line does not), shortened to 400 characters."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[-1] if lines else type(exc).__name__
    if ":" not in text:
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= 400 else text[:397] + "..."


class Submitted(Exception):
    """The pipeline was handed to a runner that runs it on without this process (a Flex Template launch,
    ``--no_wait_until_finish``): there is no summary to write here; the job's counters are in the
    runner's monitoring. The message names the job."""


def detached(options: object, result: object) -> bool:
    """True when ``result`` is a job that runs on without this process waiting for it."""
    from apache_beam.options.pipeline_options import StandardOptions

    if options.view_as(StandardOptions).no_wait_until_finish:  # type: ignore[attr-defined]
        return True
    return getattr(result, "has_job", True) is False  # Dataflow: a template was written, no job yet


def job_text(result: object) -> str:
    job_id = getattr(result, "job_id", None)
    if callable(job_id) and getattr(result, "has_job", False):
        return f"submitted job {job_id()}; follow it in the runner's console"
    return "job handed to the runner (no job id here: a template launch or a dry run); follow it in the runner's console"
