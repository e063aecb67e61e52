"""Every record of the shared sample corpus normalizes, and is recognised as the cloud it came from.

The corpus (../shared/corpus, see its PROVENANCE.md) holds real-shaped events from public rule
repositories, some partial or hand-written. Each record must end as an event of its own provider or a
recognised non-event; a dead letter here means a mapping gap, and the assertion message lists them.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from connectors.errors import NonEvent
from connectors.normalize import Normalizer
from schemas.deadletter import DeadLetter
from schemas.event import Event

# Records that cannot be events, with the reason code they must carry. These are hand-written rule-test
# events that carry no eventTime at all, or a placeholder ("redacted", "...") where it should be.
_AWS_NO_TIME = (33, 34, 35, 36, 73, 87, 317, 318, 376, 377, 378, 379, 380, 430, 436)
KNOWN_DEAD: dict[str, str] = {
    **{f"aws/panther_cloudtrail_test_events.jsonl#{i}": "missing_time" for i in _AWS_NO_TIME},
    "aws/panther_cloudtrail_test_events.jsonl#312": "bad_time",
    "aws/panther_cloudtrail_test_events.jsonl#438": "bad_time",
    # GCP rule-test fragments: no methodName (some mis-nest it inside metadata), no time at all, a
    # placeholder receiveTimestamp, or a bare {"methodName": ...} that is not a LogEntry.
    **{f"gcp/panther_gcp_auditlog_test_events.jsonl#{i}": "missing_operation" for i in (4, 9, 30, 65, 66, 101)},
    **{f"gcp/panther_gcp_auditlog_test_events.jsonl#{i}": "missing_time" for i in (40, 44, 47, 116)},
    "gcp/panther_gcp_auditlog_test_events.jsonl#28": "bad_time",
    **{f"gcp/panther_gcp_auditlog_test_events.jsonl#{i}": "unknown_shape" for i in (38, 39, 43)},
}


# Identity-plane logs that travel with a cloud's audit logs (Workspace activities shared into Cloud
# Logging) belong to their own connector, and count as that cloud's corpus.
SAME_PIPES: dict[str, tuple[str, ...]] = {"gcp": ("google_workspace",)}


def corpus_files(corpus: Path, provider: str) -> list[Path]:
    return sorted(p for p in (corpus / provider).rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl"))


@pytest.mark.parametrize("provider", ["aws", "gcp", "azure"])
def test_corpus_normalizes_to_its_own_provider(corpus_dir: Path, provider: str) -> None:
    norm = Normalizer()
    counts: Counter[str] = Counter()
    problems = []
    for path in corpus_files(corpus_dir, provider):
        for r in norm.blob(path.read_bytes(), path.relative_to(corpus_dir).as_posix()):
            if isinstance(r, Event):
                counts["event"] += 1
                if r.where.provider != provider and r.where.provider not in SAME_PIPES.get(provider, ()):
                    problems.append(f"{r.source.location}: mapped as {r.where.provider}")
            elif isinstance(r, NonEvent):
                counts[f"non_event:{r.kind}"] += 1
            else:
                assert isinstance(r, DeadLetter)
                counts[f"dead:{r.code}"] += 1
                if KNOWN_DEAD.get(r.location) != r.code:
                    problems.append(f"{r.location}: {r.stage}/{r.code}: {r.reason}")
    assert counts["event"] > 0, f"no {provider} events at all: {dict(counts)}"
    assert not problems, f"{len(problems)} corpus records not mapped ({dict(counts)}):\n" + "\n".join(problems[:40])
