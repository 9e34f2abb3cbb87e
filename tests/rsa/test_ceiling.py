"""Noise ceilings against rsatoolbox's boot_noise_ceiling."""

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.rsa import noise_ceiling
from probing.rsa.rdm_comparison import RSATOOLBOX_METHODS

METHODS = ["spearman", "pearson", "cosine", "rho_a", "whitened_cosine", "whitened_pearson"]


@pytest.mark.parametrize("method", METHODS, ids=METHODS)
def test_equals_rsatoolbox(rng, method):
    rsatoolbox = pytest.importorskip("rsatoolbox")
    subjects = rng.normal(size=45) + rng.normal(size=(5, 45)) + 3.0
    lower, upper = rsatoolbox.inference.boot_noise_ceiling(
        rsatoolbox.rdm.RDMs(subjects), method=RSATOOLBOX_METHODS[method])
    ours = noise_ceiling(subjects, comparison=method)
    assert ours.lower == pytest.approx(lower, abs=1e-10)
    assert ours.upper == pytest.approx(upper, abs=1e-10)


def test_bounds_bracket_a_true_model(rng):
    truth = rng.normal(size=66)
    subjects = truth + rng.normal(scale=0.8, size=(8, 66))
    nc = noise_ceiling(subjects, comparison="pearson")
    true_model_fit = np.mean([np.corrcoef(truth, s)[0, 1] for s in subjects])
    assert nc.lower < nc.upper
    assert true_model_fit < nc.upper and nc.n_subjects == 8


def test_needs_two_subjects(rng):
    with pytest.raises(ProbingError, match="need at least 2 subject RDMs, got 1"):
        noise_ceiling(rng.normal(size=(1, 6)))


def test_bad_method(rng):
    with pytest.raises(ProbingError, match="noise_ceiling: comparison must be one of"):
        noise_ceiling(rng.normal(size=(3, 6)), comparison="corr")
