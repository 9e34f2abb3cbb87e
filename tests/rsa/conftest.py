"""Synthetic patterns shared by the RSA tests."""

import numpy as np
import pytest


@pytest.fixture
def patterns(rng):
    """12 stimuli x 30 units with a common offset (as language-model states have)."""
    return rng.normal(size=(12, 30)) + 3.0


@pytest.fixture
def labels():
    return [f"c{i:02d}" for i in range(12)]


def rsatoolbox_dataset(X, **descriptors):
    rsatoolbox = pytest.importorskip("rsatoolbox")
    return rsatoolbox.data.Dataset(np.asarray(X), obs_descriptors=descriptors)
