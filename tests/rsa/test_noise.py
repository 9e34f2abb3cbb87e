"""estimate_noise_cov against rsatoolbox's cov_from_residuals."""

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.rsa import estimate_noise_cov

METHODS = ["shrinkage_diag", "shrinkage_eye", "diag", "full"]


@pytest.mark.parametrize("method", METHODS, ids=METHODS)
def test_equals_rsatoolbox(rng, method):
    noise = pytest.importorskip("rsatoolbox.data.noise")
    residuals = rng.normal(size=(25, 8)) @ rng.normal(size=(8, 8))
    theirs = noise.cov_from_residuals(residuals.copy(), method=method)
    np.testing.assert_allclose(estimate_noise_cov(residuals, covariance=method), theirs,
                               rtol=1e-10, atol=1e-12)


def test_layer_stack_is_per_layer(rng):
    residuals = rng.normal(size=(3, 20, 4))
    stack = estimate_noise_cov(residuals)
    for k in range(3):
        np.testing.assert_array_equal(stack[k], estimate_noise_cov(residuals[k]))


def test_residuals_not_mutated(rng):
    residuals = rng.normal(size=(10, 3))
    before = residuals.copy()
    estimate_noise_cov(residuals)
    np.testing.assert_array_equal(residuals, before)


def test_unknown_method(rng):
    with pytest.raises(ProbingError, match=r"covariance must be one of \['shrinkage_diag'"):
        estimate_noise_cov(rng.normal(size=(5, 2)), covariance="oas")


def test_too_few_observations():
    with pytest.raises(ProbingError, match=r"n_obs >= 2; got shape \(1, 3\)"):
        estimate_noise_cov(np.ones((1, 3)))


def test_bad_dof(rng):
    with pytest.raises(ProbingError, match="dof must be >= 1, got 0"):
        estimate_noise_cov(rng.normal(size=(5, 2)), dof=0)
