"""Batched per-layer probes against scikit-learn fitted directly on the same rows."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.preprocessing import StandardScaler

from probing.probes._batched import fit_logistic_layers, fit_ridge_classifier_layers
from probing.probes.estimators import LogisticProbe, RidgeClassifierProbe


def _data(n_rows, n_units, seed=0):
    rng = np.random.default_rng(seed)
    y = np.tile([0.0, 1.0], n_rows // 2)
    X = rng.normal(size=(n_rows, 3, n_units)) * rng.uniform(0.5, 3.0, size=n_units)
    X[:, 1, 0] += 1.5 * y
    X[:, 2, :3] += 0.3 * y[:, None]
    X[:, 0, 4] = 7.0  # a constant unit: StandardScaler leaves it unscaled
    return X, y


@pytest.mark.parametrize(("n_rows", "n_units"), [(30, 60), (80, 6)])  # fewer and more rows than units
@pytest.mark.parametrize("C", [0.1, 1.0])
def test_logistic_equals_sklearn_on_standardized_units(n_rows, n_units, C):
    X, y = _data(n_rows, n_units)
    test = _data(20, n_units, seed=1)[0]
    fit = fit_logistic_layers(X, y, C=C)
    for layer in range(3):
        scaler = StandardScaler().fit(X[:, layer])
        reference = LogisticRegression(C=C, tol=1e-12, max_iter=100_000)
        reference.fit(scaler.transform(X[:, layer]), y)
        expected = reference.decision_function(scaler.transform(test[:, layer]))
        np.testing.assert_allclose(fit.decision_function(test)[:, layer], expected, atol=1e-5)
        # the package's own estimator stops lbfgs at tol 1e-4: near it, within a few 1e-2
        probe = LogisticProbe(C=C, max_iter=10_000).fit(X[:, layer], y)
        np.testing.assert_allclose(fit.decision_function(test)[:, layer],
                                   probe.decision_function(test[:, layer]), atol=5e-2)


@pytest.mark.parametrize(("n_rows", "n_units"), [(30, 60), (80, 6)])
def test_ridge_classifier_equals_sklearn_on_standardized_units(n_rows, n_units):
    X, y = _data(n_rows, n_units)
    test = _data(20, n_units, seed=1)[0]
    fit = fit_ridge_classifier_layers(X, y, alpha=2.0)
    for layer in range(3):
        scaler = StandardScaler().fit(X[:, layer])
        reference = RidgeClassifier(alpha=2.0).fit(scaler.transform(X[:, layer]), y)
        expected = reference.decision_function(scaler.transform(test[:, layer]))
        np.testing.assert_allclose(fit.decision_function(test)[:, layer], expected, atol=1e-8)
        probe = RidgeClassifierProbe(alpha=2.0).fit(X[:, layer], y)
        np.testing.assert_allclose(fit.decision_function(test)[:, layer],
                                   probe.decision_function(test[:, layer]), atol=1e-8)


def test_separable_rows_converge_to_the_penalised_optimum():
    X, y = _data(20, 200)
    X[:, 1, 0] += 50.0 * y  # perfectly separable: only the penalty keeps the weights finite
    fit = fit_logistic_layers(X, y, C=1.0)
    assert np.isfinite(fit.coef).all()
    scaler = StandardScaler().fit(X[:, 1])
    reference = LogisticRegression(C=1.0, tol=1e-12, max_iter=100_000).fit(scaler.transform(X[:, 1]), y)
    np.testing.assert_allclose(fit.coef[1], reference.coef_[0], atol=1e-5)
