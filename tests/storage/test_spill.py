"""Spill files hold data only (no pickle) in a folder private to the run."""

from __future__ import annotations

import os
import stat

import pytest

from pipelines.spill import pack_events, read_segment, unpack_events, write_spill


def test_round_trip_keeps_bytes_and_none_raw(tmp_path):
    events = [
        ("id-1", b'{"id":"id-1"}', '{"x": "\\u00e9 \U0001f600"}'),
        ("id-2", b'{"id":"id-2"}', None),
        ("id-3", b"{}", ""),
    ]
    assert unpack_events(pack_events(events)) == events
    spill = str(tmp_path / "spill")
    pointers = write_spill(spill, {("aws", "2024-05-01", "13", 0): events[:2], ("gcp", "2024-05-01", "13", 1): events[2:]})
    assert [read_segment(seg) for _, seg in pointers] == [events[:2], events[2:]]
    assert stat.S_IMODE(os.stat(spill).st_mode) == 0o700


def test_no_pickle_in_spill_files(tmp_path):
    spill = str(tmp_path / "s")
    (_, seg), = write_spill(spill, {("aws", "2024-05-01", "13", 0): [("a", b"{}", "r")]})
    import pyarrow as pa

    with open(seg.path, "rb") as f:
        blob = pa.decompress(f.read(), decompressed_size=seg.size, codec="lz4", asbytes=True)
    assert not blob.startswith(b"\x80")  # a pickle protocol 2+ header
    import pipelines.spill

    with open(pipelines.spill.__file__, "rb") as f:
        assert b"import pickle" not in f.read()


def test_truncated_segment_is_an_error():
    blob = pack_events([("a", b"{}", "raw")])
    with pytest.raises(ValueError, match="truncated"):
        unpack_events(blob[:-2])
