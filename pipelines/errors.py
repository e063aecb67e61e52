"""Errors the command line reports as one line."""

from __future__ import annotations


class UsageError(Exception):
    """A problem with the arguments or the input: reported as ``cloudaudit: error: ...``, exit status 2."""
