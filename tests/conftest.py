"""Shared fixtures: seeded random generators and paths to the bundled data."""

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
PARADIGMS = REPO / "paradigms"


@pytest.fixture
def rng():
    """A seeded generator so every test is reproducible."""
    return np.random.default_rng(0)


@pytest.fixture
def data_dir():
    return DATA


@pytest.fixture
def paradigms_dir():
    return PARADIGMS
