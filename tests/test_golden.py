"""One test per golden fixture, for every connector (see tests/golden.py)."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from tests.golden import dump, expected_path, fixtures, run_fixture

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("fixture", fixtures(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_golden(fixture: Path) -> None:
    got = run_fixture(fixture)
    exp_path = expected_path(fixture)
    if UPDATE or not exp_path.exists():
        if not UPDATE:
            pytest.fail(f"{exp_path.name} is missing: run UPDATE_GOLDEN=1 pytest tests/test_golden.py and review it")
        exp_path.write_bytes(dump(got))
    expected = orjson.loads(exp_path.read_bytes())
    assert got == expected, f"{fixture.name} differs from {exp_path.name} (UPDATE_GOLDEN=1 rewrites; review the diff)"
