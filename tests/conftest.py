from __future__ import annotations

import os
from pathlib import Path

import pytest

# The local cloud stand-ins (moto server, Azurite, GCS and Pub/Sub emulators) as fixtures.
pytest_plugins = ["tests.emulators"]

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("CLOUDAUDIT_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """../shared/corpus beside the checkout (or $CLOUDAUDIT_CORPUS); tests that need it skip without it."""
    if not CORPUS.is_dir():
        pytest.skip(f"sample corpus not found at {CORPUS} (set CLOUDAUDIT_CORPUS to its path)")
    return CORPUS
