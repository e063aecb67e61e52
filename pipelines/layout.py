"""Where a run writes: every output path in one place, for local paths and Beam filesystem URIs alike.

```
OUT/siem/events-<run>-00000-of-00002.jsonl                      canonical event JSON, one a line
OUT/cold/events/provider=aws/date=2024-05-01/hour=13/part-<run>-s000.parquet
OUT/cold/raw/provider=aws/date=2024-05-01/hour=13/part-<run>-s000.jsonl.gz
OUT/deadletters/deadletters-<run>-00000-of-00001.jsonl          DeadLetter.to_json(), one a line
OUT/_summary.json                                               the last run's summary
OUT/_tmp-<run>/                                                 spill files, removed when the run ends
```

Every file name carries the run id, so runs into the same ``OUT`` append instead of overwriting each
other, and a retried bundle of the same run rewrites the same names instead of adding copies.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from apache_beam.io.filesystems import FileSystems

# A partition key as a plain tuple, as it travels through the GroupByKey (a tuple of str and int has a
# deterministic coder; a NamedTuple would be pickled).
Key = tuple[str, str, str, int]


class PartitionKey(NamedTuple):
    """The grouping key: one Hive partition (provider, date, hour) and a dedup shard inside it.

    The same event id always has the same time and provider, so it always gets the same key: that is
    what makes deduplication per key correct.
    """

    provider: str
    date: str  # YYYY-MM-DD, UTC
    hour: str  # HH, UTC
    shard: int


def new_run_id(now: datetime | None = None) -> str:
    """Sortable and unique: ``20240501T130502Z-1a2b3c``."""
    t = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{t:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class Layout:
    root: str
    run_id: str
    # Streaming: ``-w<window start>-p<pane>``, so that each pane's files have their own names (the same
    # writer writes batch partitions and streaming panes).
    pane: str = ""

    @property
    def stem(self) -> str:
        """What names this run's (or this pane's) files: the run id, and the pane in streaming."""
        return f"{self.run_id}{self.pane}"

    def _join(self, *parts: str) -> str:
        return FileSystems.join(self.root, *parts)

    @property
    def siem_prefix(self) -> str:
        return self._join("siem", f"events-{self.run_id}")

    @property
    def deadletters_prefix(self) -> str:
        return self._join("deadletters", f"deadletters-{self.run_id}")

    @property
    def summary_path(self) -> str:
        return self._join("_summary.json")

    @property
    def spill_dir(self) -> str:
        return self._join(f"_tmp-{self.run_id}")

    def partition_dir(self, kind: str, key: PartitionKey) -> str:
        """``kind`` is ``events`` (Parquet) or ``raw`` (the archived original records)."""
        return self._join("cold", kind, f"provider={key.provider}", f"date={key.date}", f"hour={key.hour}")

    def parquet_path(self, key: PartitionKey) -> str:
        return FileSystems.join(self.partition_dir("events", key), f"part-{self.stem}-s{key.shard:03d}.parquet")

    def raw_path(self, key: PartitionKey) -> str:
        return FileSystems.join(self.partition_dir("raw", key), f"part-{self.stem}-s{key.shard:03d}.jsonl.gz")
