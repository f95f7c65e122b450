"""Shared fixtures: the ../shared corpus (skip when absent), seeded RNG, synthetic signals."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("LISTENKIT_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"


@pytest.fixture
def corpus() -> Path:
    """Path of ../shared/corpus; skips the test when it is not there (users do not have it)."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not available")
    return CORPUS


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator, the same for every run."""
    return np.random.default_rng(20261122)


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory, monkeypatch):
    """Keep user data (history, voice profiles) of tests out of the real home folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("LISTENKIT_DATA_DIR", str(home / "listenkit"))
