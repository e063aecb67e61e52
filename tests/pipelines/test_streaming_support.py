"""Helpers for the streaming tests (no tests here): a local file queue as a StreamSource, and readers of
a run's output."""

from __future__ import annotations

import gzip
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import orjson

from connectors.sources import Delivery


class FileQueue:
    """A queue in a folder: each file is one message. ``poll`` hands out files not in flight; ``ack``
    deletes them (like SQS DeleteMessage). A file polled and never acked stays, and is delivered again
    by the next ``FileQueue`` on the same folder (a restarted consumer)."""

    def __init__(self, folder: str, ack: bool = True, fail_after_polls: int | None = None) -> None:
        self.folder = folder
        self.do_ack = ack
        self.fail_after_polls = fail_after_polls
        self.polls = 0
        self.opened = self.closed = False
        self.acked: list[str] = []
        self._in_flight: set[str] = set()

    def open(self) -> None:
        self.opened = True

    def poll(self, max_items: int, wait_seconds: float) -> Sequence[Delivery]:
        self.polls += 1
        if self.fail_after_polls is not None and self.polls > self.fail_after_polls:
            raise RuntimeError("simulated crash of the consumer")
        out = []
        for name in sorted(os.listdir(self.folder)):
            if name in self._in_flight or name.startswith("."):
                continue
            path = os.path.join(self.folder, name)
            with open(path, "rb") as f:
                data = f.read()
            self._in_flight.add(name)
            out.append(Delivery(location=f"queue://{Path(self.folder).name}/{name}", data=data, ack_id=name))
            if len(out) >= max_items:
                break
        return out

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            self.acked.append(d.ack_id)
            if self.do_ack:
                os.remove(os.path.join(self.folder, d.ack_id))

    def close(self) -> None:
        self.closed = True


def siem_ids(out: Path) -> Counter[str]:
    ids: Counter[str] = Counter()
    for p in sorted((out / "siem").glob("*.jsonl")):
        for line in p.read_bytes().splitlines():
            if line.strip():
                ids[orjson.loads(line)["id"]] += 1
    return ids


def parquet_ids(out: Path) -> Counter[str]:
    import pyarrow.parquet as pq

    ids: Counter[str] = Counter()
    for p in sorted((out / "cold" / "events").rglob("*.parquet")):
        ids.update(pq.read_table(p, columns=["id"]).column("id").to_pylist())
    return ids


def raw_count(out: Path) -> int:
    return sum(
        len(gzip.decompress(p.read_bytes()).splitlines()) for p in (out / "cold" / "raw").rglob("*.gz")
    )


def deadletters(out: Path) -> list[dict]:
    found = []
    for p in sorted((out / "deadletters").glob("*.jsonl")):
        found.extend(orjson.loads(line) for line in p.read_bytes().splitlines() if line.strip())
    return found
