"""A large ``{"Records": [...]}`` document is parsed record by record (bounded memory) and gives what the
whole-document path gives; integers beyond 64 bits are kept exactly."""

from __future__ import annotations

import gzip
import subprocess
import sys

import orjson
import pytest

import connectors.normalize as normalize
from connectors.normalize import Normalizer
from schemas.deadletter import DeadLetter
from schemas.event import Event
from tests.pipelines.test_sources import trail_file

BIG = 123456789012345678901234567890


def _events(results: list) -> list[dict]:
    return [orjson.loads(r.model_dump_json(exclude={"when": {"ingested"}})) for r in results if isinstance(r, Event)]


def _run(data: bytes) -> list:
    return list(Normalizer().blob(data, "s3://b/k.json.gz"))


def test_streamed_records_equal_the_whole_document_path(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = trail_file(40)
    whole = _run(gzip.compress(doc))
    monkeypatch.setattr(normalize, "STREAM_FROM_BYTES", 1024)  # this document is now "large"
    streamed = _run(gzip.compress(doc))
    assert len(whole) == len(streamed) == 40
    assert _events(streamed) == _events(whole)
    assert {e["source"]["location"] for e in _events(streamed)} == {f"s3://b/k.json.gz#{i}" for i in range(40)}


def test_a_truncated_large_document_keeps_what_came_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(normalize, "STREAM_FROM_BYTES", 1024)
    doc = trail_file(600)  # several of the parser's buffers: records before the damage come out
    results = _run(doc[: len(doc) * 2 // 3])
    events = [r for r in results if isinstance(r, Event)]
    (letter,) = [r for r in results if isinstance(r, DeadLetter)]
    assert 100 < len(events) < 400
    assert letter.code == "invalid_json" and f"after {len(events)} records" in letter.reason


@pytest.mark.parametrize("large", [False, True])
def test_integers_beyond_64_bits_are_kept_exactly(monkeypatch: pytest.MonkeyPatch, large: bool) -> None:
    if large:  # the integer is in the first STREAM_FROM_BYTES: the exact (Python) ijson backend
        monkeypatch.setattr(normalize, "STREAM_FROM_BYTES", 1024)
    doc = orjson.loads(trail_file(3))
    doc["Records"][0]["requestParameters"] = {"limit": "__BIG__", "small": 7, "ratio": 0.5}
    text = orjson.dumps(doc).replace(b'"__BIG__"', str(BIG).encode())
    assert len(text) > 1024
    (event, _, _) = _run(text)
    assert isinstance(event, Event)
    assert str(BIG) in (event.what.request or "") and str(BIG) in (event.raw or "")
    assert orjson.loads(event.what.request or "{}")["small"] == 7


def test_a_big_integer_first_seen_deep_in_a_large_document_is_a_dead_letter_not_a_float(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(normalize, "STREAM_FROM_BYTES", 256)
    doc = orjson.loads(trail_file(3))
    doc["Records"][1]["requestParameters"] = {"limit": "__BIG__"}
    first, letter = _run(orjson.dumps(doc).replace(b'"__BIG__"', str(BIG).encode()))
    assert isinstance(first, Event) and isinstance(letter, DeadLetter)
    assert letter.code == "integer_overflow" and "after 1 records" in letter.reason


def test_a_large_file_stays_within_bounded_memory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """About 60 MB of Records in one gzip file: peak RSS of the normalizing process stays far below the
    file's size (the whole-document path needs several times it). The 1 GB run is in ``make chaos``."""
    path = tmp_path / "big.json.gz"
    script = (
        "import sys\n"
        "from connectors.normalize import Normalizer\n"
        "n = 0\n"
        "with open(sys.argv[1], 'rb') as f:\n"
        "    for r in Normalizer().stream(f, 'big'):\n"
        "        n += 1\n"
        # VmHWM is this process's own peak: ru_maxrss would include the forking pytest process's, which
        # Linux carries across exec.
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
        "print(n, int(hwm) // 1024)\n"
    )
    size = write_big_trail(path, records=30_000)
    p = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    n, peak_mib = map(int, p.stdout.split())
    assert n == 30_000
    assert size > 50 << 20 and peak_mib < 400, (size, peak_mib)


def write_big_trail(path, records: int) -> int:  # type: ignore[no-untyped-def]
    """A gzip CloudTrail file of ``records`` written for this test (each ~2 KB); returns its plain size."""
    template = orjson.loads(trail_file(1))["Records"][0]
    template["requestParameters"] = {"padding": "x" * 1500}
    size = 0
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(b'{"Records": [')
        for i in range(records):
            template["eventID"] = f"00000000-0000-4000-8000-{i:012d}"
            chunk = (b"," if i else b"") + orjson.dumps(template)
            f.write(chunk)
            size += len(chunk)
        f.write(b"]}")
    return size
