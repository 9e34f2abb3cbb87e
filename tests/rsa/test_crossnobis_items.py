"""Crossnobis: fold weights of the item bootstrap, residuals='folds' in the sweep, the
warning for a noise covariance estimated from the same patterns."""

import warnings

import numpy as np
import pytest

from probing.rsa import compute_rdm, estimate_noise_cov, rsa_layers
from probing.rsa.compute import stack_rdms


def _design(rng, n_items=6, n_units=8):
    ids, items = np.tile(list("abcd"), n_items), np.repeat(np.arange(n_items), 4)
    centres = rng.normal(size=(4, n_units))
    X = centres[np.tile(np.arange(4), n_items)] + rng.normal(size=(4 * n_items, n_units))
    return X, ids, items


def test_fold_weights_weight_the_average_over_folds(rng):
    # Reference: the per-fold terms, read off with weights (1, 0, ...) one fold at a time.
    X, ids, items = _design(rng, n_items=3)
    terms = [stack_rdms(X, distance="crossnobis", stimulus_ids=ids, folds=items,
                        fold_weights=np.eye(3)[k], dtype="float64").values[0] for k in range(3)]
    weighted = stack_rdms(X, distance="crossnobis", stimulus_ids=ids, folds=items,
                          fold_weights=[2.0, 1.0, 3.0], dtype="float64").values[0]
    np.testing.assert_allclose(weighted, (2 * terms[0] + terms[1] + 3 * terms[2]) / 6)
    plain = compute_rdm(X, distance="crossnobis", stimulus_ids=ids, folds=items,
                        dtype="float64").values[0]
    np.testing.assert_allclose(plain, np.mean(terms, axis=0))


def test_rsa_layers_takes_residuals_folds(rng):
    X, ids, items = _design(rng)
    acts = np.stack([X, X + 0.1 * rng.normal(size=X.shape)], axis=1)
    model = {"m": compute_rdm(rng.normal(size=(4, 3)), stimulus_ids=list("abcd"))}
    table = rsa_layers(acts, model, stimulus_ids=ids, distance="crossnobis", folds=items,
                       residuals="folds", n_perm=10, n_boot=20, bootstrap="items", groups=items,
                       dtype="float64")
    direct = compute_rdm(acts, distance="crossnobis", stimulus_ids=ids, folds=items,
                         residuals="folds", dtype="float64")
    from probing.rsa import compare_rdms
    expected = compare_rdms(direct, model["m"].reorder(direct.stimulus_ids))[:, 0]
    np.testing.assert_allclose(table["estimate"], expected)
    assert table["ci_low"].notna().all()


def test_noise_from_the_same_patterns_warns(rng):
    X, ids, items = _design(rng)
    means = np.stack([X[ids == s].mean(axis=0) for s in "abcd"])
    same = estimate_noise_cov(X - means[np.searchsorted(list("abcd"), ids)])
    with pytest.warns(UserWarning, match="same patterns"):
        compute_rdm(X, distance="crossnobis", stimulus_ids=ids, folds=items, noise=same)
    other = estimate_noise_cov(rng.normal(size=(50, X.shape[1])))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compute_rdm(X, distance="crossnobis", stimulus_ids=ids, folds=items, noise=other)
