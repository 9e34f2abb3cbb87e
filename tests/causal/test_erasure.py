"""LEACE in numpy against the concept-erasure package, its guarantee, and the random control."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from probing._core.errors import ProbingError
from probing.causal import LeaceEraser, RandomEraser

torch = pytest.importorskip("torch")
concept_erasure = pytest.importorskip("concept_erasure")


def _data(rng, n=400, d=8, n_classes=2, strength=2.0):
    labels = rng.integers(0, n_classes, n)
    mix = rng.normal(size=(d, d))
    X = rng.normal(size=(n, d)) @ mix + strength * np.eye(n_classes, d)[labels] @ mix
    return X, labels


@pytest.mark.parametrize("n_classes", [2, 3], ids=["binary", "three-class"])
@pytest.mark.parametrize(("shrinkage", "constrain"), [(False, False), (True, False),
                                                      (False, True), (True, True)],
                         ids=["closed-form", "shrinkage", "trace", "package-defaults"])
def test_equals_the_concept_erasure_package(rng, n_classes, shrinkage, constrain):
    X, labels = _data(rng, n_classes=n_classes)
    Z = np.eye(n_classes)[labels]
    ours = LeaceEraser(shrinkage=shrinkage, constrain_cov_trace=constrain).fit(X, labels)
    fitter = concept_erasure.LeaceFitter.fit(torch.from_numpy(X), torch.from_numpy(Z),
                                             shrinkage=shrinkage,
                                             constrain_cov_trace=constrain)
    theirs = fitter.eraser(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(ours.transform(X), theirs, atol=1e-8, rtol=1e-8)


def test_a_numeric_concept_column_equals_the_package(rng):
    X, labels = _data(rng)
    z = labels[:, None].astype(float)
    ours = LeaceEraser().fit(X, z).transform(X)
    theirs = concept_erasure.LeaceEraser.fit(torch.from_numpy(X), torch.from_numpy(z),
                                             shrinkage=False, constrain_cov_trace=False)
    np.testing.assert_allclose(ours, theirs(torch.from_numpy(X)).numpy(), atol=1e-8)


def test_no_linear_classifier_recovers_the_erased_concept(rng):
    # The guarantee: class means coincide, the cross-covariance is 0, probes hit chance.
    X, labels = _data(rng, n=600, n_classes=3, strength=3.0)
    erased = LeaceEraser().fit_transform(X, labels)
    Z = np.eye(3)[labels]
    cross = (erased - erased.mean(0)).T @ (Z - Z.mean(0))
    np.testing.assert_allclose(cross, 0, atol=1e-8)
    probe = LogisticRegression(max_iter=500)
    assert cross_val_score(probe, X, labels, cv=3).mean() > 0.9
    assert cross_val_score(probe, erased, labels, cv=3).mean() < 0.45
    control = RandomEraser(rank=2, random_state=0).fit_transform(X)
    assert cross_val_score(probe, control, labels, cv=3).mean() > 0.7


def test_leace_moves_the_data_less_than_the_orthogonal_projection(rng):
    # Least squares: among erasers of the concept, LEACE changes X the least.
    X, labels = _data(rng, n=600)
    leace = LeaceEraser(svd_tol=1e-6).fit(X, labels)
    Xc = X - X.mean(0)
    direction = Xc.T @ (labels - labels.mean())
    direction /= np.linalg.norm(direction)
    orth = X - np.outer(Xc @ direction, direction)
    change_leace = np.mean(np.sum((leace.transform(X) - X) ** 2, axis=1))
    change_orth = np.mean(np.sum((orth - X) ** 2, axis=1))
    assert leace.rank_ == 1 and change_leace < change_orth


def test_random_eraser_removes_a_uniform_subspace_of_the_given_rank(rng):
    X = rng.normal(size=(100, 6))
    eraser = RandomEraser(rank=3, random_state=1).fit(X)
    out = eraser.transform(X)
    np.testing.assert_allclose((out - eraser.mean_) @ eraser.proj_left_, 0, atol=1e-12)
    np.testing.assert_allclose(eraser.proj_left_.T @ eraser.proj_left_, np.eye(3), atol=1e-12)
    assert np.linalg.matrix_rank(out - out.mean(0)) == 3
    np.testing.assert_array_equal(out, RandomEraser(rank=3, random_state=1).fit_transform(X))


def test_row_order_does_not_change_the_eraser_and_inputs_are_kept(rng):
    X, labels = _data(rng)
    copy = X.copy()
    order = rng.permutation(len(X))
    one = LeaceEraser().fit(X, labels).transform(X)
    two = LeaceEraser().fit(X[order], labels[order]).transform(X)
    np.testing.assert_allclose(one, two, atol=1e-10)
    np.testing.assert_array_equal(X, copy)


def test_bad_parameters_are_named(rng):
    X, labels = _data(rng, n=20, d=3)
    with pytest.raises(ProbingError, match="svd_tol must be positive"):
        LeaceEraser(svd_tol=0).fit(X, labels)
    with pytest.raises(ProbingError, match=r"rank must be a whole number in \[1, 3\]"):
        RandomEraser(rank=4).fit(X)


@parametrize_with_checks([LeaceEraser(), RandomEraser(rank=1, random_state=0)])
def test_sklearn_contract(estimator, check):
    check(estimator)
