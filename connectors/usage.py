"""Errors in what the operator asked for: shared by every layer (connectors, enrichers, pipelines), so that
no lower layer imports from ``pipelines``."""

from __future__ import annotations

from collections.abc import Sequence


class UsageError(Exception):
    """A problem with the arguments or the input: reported as ``cloudaudit: error: ...``, exit status 2."""


def no_extra(extra: Sequence[str]) -> None:
    """Commands that take no Beam options: leftover arguments are a usage error, not silently ignored."""
    if extra:
        raise UsageError(f"unrecognized arguments: {' '.join(extra)}")
