"""A batch run's guard: what happens before, after and instead of the pipeline's run.

Before: the output's lock is taken (one run at a time, see ``pipelines.cleanup``), what interrupted runs
left behind is removed, the process umask makes every output file 0600 (0640 with ``--group-readable``:
dead letters and the raw archive hold original log records) and log lines are redacted.

Instead: SIGTERM and SIGINT raise ``Interrupted`` in the main thread, which stops the pipeline. The run's
files are then abandoned atomically: nothing of the run is committed (its manifest was not written), so
its uncommitted files and temporary folders are removed, a summary saying so is written, and the command
exits non-zero (130 for SIGINT, 143 for SIGTERM).

After: the summary gets what was cleaned and the dead-letter threshold, and is written twice: the last
run's ``_summary.json`` and one per run beside its manifest.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from pipelines import progress
from pipelines.cleanup import Lock, cleanup, committed
from pipelines.layout import Layout
from pipelines.redact import install_log_redaction, redact
from pipelines.summary import Summary, write_run_summary

FILE_MODE_UMASK = 0o077  # files 0600, folders 0700
GROUP_READABLE_UMASK = 0o027  # files 0640, folders 0750


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (a KeyboardInterrupt, so every Ctrl-C handler sees it too)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_received: list[int] = []


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Interrupted`` in the main thread while inside (nothing elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        _received.append(signum)  # the runner may wrap the exception: the guard looks here too
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def guarded(
    root: str,
    run_id: str,
    execute: Callable[[], Summary],
    config: Any = None,
    inputs: list[str] | None = None,
    total_files: int = 0,
    total_bytes: int = 0,
) -> Summary:
    """Run ``execute`` (which runs the pipeline and returns its summary) inside the guard; see above.
    ``config`` may carry ``group_readable`` and ``max_deadletter_ratio`` (a RunConfig)."""
    group_readable = bool(getattr(config, "group_readable", False))
    ratio = getattr(config, "max_deadletter_ratio", None)
    old_umask = os.umask(GROUP_READABLE_UMASK if group_readable else FILE_MODE_UMASK)
    install_log_redaction()
    lock = Lock(root, run_id)
    _received.clear()
    try:
        with signals_raise():  # from the lock to the last summary: a signal always ends the same way
            lock.acquire()
            try:
                cleaned = lock.taken_over + cleanup(root)
                with progress.display(Layout(root, run_id).spill_dir, total_files, total_bytes):
                    summary = execute()
                summary.cleaned = cleaned + summary.cleaned
                summary.max_deadletter_ratio = ratio
                write_run_summary(root, run_id, summary)
            except BaseException as exc:
                if _received and not isinstance(exc, Interrupted):  # Beam re-raised it as its own error
                    stopped = Interrupted(_received[0])
                    _abandon(root, run_id, stopped, inputs or [])
                    raise stopped from exc
                _abandon(root, run_id, exc, inputs or [])
                raise
        return summary
    finally:
        lock.release()
        os.umask(old_umask)


def _abandon(root: str, run_id: str, exc: BaseException, inputs: list[str]) -> None:
    """A run that failed or was stopped: remove its files unless its manifest (the commit) is there."""
    with contextlib.suppress(BaseException):
        runs, _ = committed(root)
        removed = [] if run_id in runs else cleanup(root, only_run=run_id)
        if isinstance(exc, Interrupted):
            summary = Summary(run_id=run_id, output=root, inputs=inputs, interrupted=exc.name, cleaned=removed)
            summary.problems.append(redact(f"stopped by {exc.name} before it finished; removed {len(removed)} "
                                           "uncommitted files and folders of this run; run it again"))
            write_run_summary(root, run_id, summary)
