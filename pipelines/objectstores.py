"""Making Beam's object-store filesystems fit for a run with many files: one boto3 client per process.

Beam 2.77's S3 filesystem builds a new ``boto3`` Session and client for every file operation (each
``open``, ``create``, ``match``, ``delete``). Building one loads botocore's JSON service models, about
0.3 s of CPU; a run that writes and reads back a few hundred spill, Parquet and text files spent a
minute doing only that (measured: 66 s of a 70 s test run against moto were JSON decoding). boto3's
low-level clients are thread-safe, so they are cached here per process, by the arguments Beam passes
and the ``AWS_*`` environment (which decides endpoint and credentials); refreshable credentials (IAM
roles, web identity) refresh inside the client as usual.

This swaps the ``boto3`` name inside Beam's S3 client module for a thin stand-in whose
``session.Session().client(...)`` returns the cached client; everything else is boto3's own.
"""

from __future__ import annotations

import os
import threading
from typing import Any

_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Any] = {}


class _CachingSession:
    def __init__(self, boto3: Any) -> None:
        self._boto3 = boto3

    def client(self, service_name: str, **kwargs: Any) -> Any:
        env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
        key = (os.getpid(), service_name, tuple(sorted((k, repr(v)) for k, v in kwargs.items())), env)
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._boto3.session.Session().client(service_name, **kwargs)
            return client


class _SessionModule:
    def __init__(self, boto3: Any) -> None:
        self._boto3 = boto3

    def Session(self) -> _CachingSession:  # boto3's name
        return _CachingSession(self._boto3)


class _Boto3StandIn:
    """What Beam's S3 client module sees as ``boto3``."""

    def __init__(self, boto3: Any) -> None:
        self.session = _SessionModule(boto3)
        self._boto3 = boto3

    def __getattr__(self, name: str) -> Any:
        return getattr(self._boto3, name)


def share_s3_clients() -> None:
    """Install the cache (idempotent; a no-op without boto3 or with another Beam layout)."""
    try:
        import boto3
        from apache_beam.io.aws.clients.s3 import boto3_client
    except ImportError:
        return
    if getattr(boto3_client, "boto3", None) is boto3:
        boto3_client.boto3 = _Boto3StandIn(boto3)
