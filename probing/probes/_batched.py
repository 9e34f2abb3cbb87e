"""Linear probes on standardized units, fitted for every layer at once.

Logistic: the objective is scikit-learn's ``LogisticRegression(C=C)`` (binary, L2 penalty, the
intercept unpenalised) on ``StandardScaler`` output, the probe of
:class:`probing.probes.estimators.LogisticProbe`, solved to convergence by Newton steps
instead of one lbfgs run per layer: held-out probing with inner layer selection fits the
same rows at 31 layers thousands of times, and each scikit-learn call costs more in
overhead than in arithmetic. With fewer rows than units the optimum lies in the span of
the training rows (the penalty is rotation invariant, the loss sees only projections on
that span), so the Newton steps run in the ``min(n_rows, n_units)`` coordinates of that
span (from the rows' Gram matrix), all layers batched. ``tests/probes/test_logistic.py`` checks the decision values
against scikit-learn fitted directly. Ridge classifier: scikit-learn's
``RidgeClassifier(alpha)`` on standardized units (targets +1/-1, intercept), the probe of
:class:`probing.probes.estimators.RidgeClassifierProbe`, in closed form per layer.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LayerFit", "fit_logistic_layers", "fit_ridge_classifier_layers"]


class LayerFit:
    """Fitted per-layer probes: standardization and weights, ``(n_layers, n_units)``."""

    def __init__(self, mean, scale, coef, intercept):
        self.mean, self.scale, self.coef, self.intercept = mean, scale, coef, intercept

    def decision_function(self, X):
        """Linear scores of ``X`` (n_rows, n_layers, n_units): ``(n_rows, n_layers)``."""
        Z = (np.asarray(X, dtype=float) - self.mean) / self.scale
        return np.einsum("nlp,lp->nl", Z, self.coef) + self.intercept


def _standardized(X):
    """Training rows standardized per layer and unit, as ``(n_layers, n_rows, n_units)``."""
    X = np.asarray(X, dtype=float)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0.0] = 1.0  # as StandardScaler: a constant unit is left unscaled
    return mean, scale, np.transpose((X - mean) / scale, (1, 0, 2))


def _objective(F, s, theta, C):
    eta = np.matmul(F, theta[:, :-1, None])[..., 0] + theta[:, -1:]
    return C * np.logaddexp(0.0, -s * eta).sum(axis=1) + 0.5 * (theta[:, :-1] ** 2).sum(axis=1)


def _newton(F, y, C, tol, max_iter):
    """Minimise C * sum log-loss + |c|^2 / 2 over (c, b) per layer; F is (L, n, r)."""
    n_layers, n_rows, rank = F.shape
    A = np.concatenate([F, np.ones((n_layers, n_rows, 1))], axis=2)
    penalty = np.ones(rank + 1)
    penalty[-1] = 0.0
    s = 2.0 * y - 1.0
    theta = np.zeros((n_layers, rank + 1))
    value = _objective(F, s, theta, C)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-np.matmul(A, theta[..., None])[..., 0]))
        grad = C * np.matmul(np.swapaxes(A, 1, 2), (p - y)[..., None])[..., 0] + penalty * theta
        hess = C * np.matmul(np.swapaxes(A, 1, 2), A * (p * (1.0 - p))[..., None]) + np.diag(penalty)
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        decrement = np.einsum("lr,lr->l", grad, step)
        if decrement.max() < tol:
            break
        t = np.ones(n_layers)
        for _ in range(50):  # backtracking (Armijo), per layer
            trial = _objective(F, s, theta - t[:, None] * step, C)
            bad = trial > value - 1e-4 * t * decrement
            if not bad.any():
                break
            t = np.where(bad, t / 2.0, t)
        theta = theta - t[:, None] * step
        value = _objective(F, s, theta, C)
    return theta


def fit_logistic_layers(X, y, *, C=1.0, tol=1e-12, max_iter=100):
    """Fit one L2 logistic probe per layer on standardized units, all layers at once.

    Parameters
    ----------
    X : array_like of shape (n_rows, n_layers, n_units)
    y : array_like of shape (n_rows,)
        0 or 1, both present.
    C : float
        Inverse penalty strength, as scikit-learn's ``C``.
    tol, max_iter
        Newton decrement at which to stop, and the cap on Newton steps.

    Returns
    -------
    LayerFit

    Examples
    --------
    >>> rng = np.random.default_rng(0); y = np.tile([0.0, 1.0], 20)
    >>> X = rng.normal(size=(40, 2, 5)); X[:, 1, 0] += 2 * y
    >>> fit = fit_logistic_layers(X, y)
    >>> int(np.argmax(np.abs(fit.coef[1])))
    0
    """
    y = np.asarray(y, dtype=float)
    mean, scale, Z = _standardized(X)
    if Z.shape[1] >= Z.shape[2]:
        theta = _newton(Z, y, C, tol, max_iter)
        return LayerFit(mean, scale, theta[:, :-1], theta[:, -1])
    # Fewer rows than units: coordinates on the rows' span, from the Gram matrix
    # K = Z Z' = Q diag(lam) Q', so that F = Q sqrt(lam) and w = Z' Q lam^(-1/2) c.
    lam, Q = np.linalg.eigh(np.matmul(Z, np.swapaxes(Z, 1, 2)))
    keep = lam > lam.max(axis=1, keepdims=True) * 1e-10  # directions the rows do not span
    root = np.sqrt(np.where(keep, lam, 0.0))
    theta = _newton(Q * root[:, None, :], y, C, tol, max_iter)
    inverse = np.where(keep, 1.0 / np.where(keep, root, 1.0), 0.0)
    dual = np.matmul(Q, (theta[:, :-1] * inverse)[..., None])[..., 0]  # (L, n)
    coef = np.matmul(np.swapaxes(Z, 1, 2), dual[..., None])[..., 0]
    return LayerFit(mean, scale, coef, theta[:, -1])


def fit_ridge_classifier_layers(X, y, *, alpha=1.0):
    """Fit one ridge classifier (targets +1/-1, intercept) per layer on standardized units.

    Parameters
    ----------
    X, y
        As :func:`fit_logistic_layers`.
    alpha : float
        Ridge penalty, as scikit-learn's ``alpha``.

    Returns
    -------
    LayerFit
        The intercept is the mean target (the standardized units are centred).

    Examples
    --------
    >>> y = np.repeat([0.0, 1.0], 15)
    >>> X = np.random.default_rng(1).normal(size=(30, 3, 4)); X[:, 2, 3] -= 2 * y
    >>> w = fit_ridge_classifier_layers(X, y).coef
    >>> int(np.argmax(np.abs(w[2]))), bool(w[2, 3] < 0)
    (3, True)
    """
    target = 2.0 * np.asarray(y, dtype=float) - 1.0
    mean, scale, Z = _standardized(X)
    centred = target - target.mean()  # the standardized units are centred already
    if Z.shape[1] >= Z.shape[2]:
        gram = np.matmul(np.swapaxes(Z, 1, 2), Z) + alpha * np.eye(Z.shape[2])
        coef = np.linalg.solve(gram, np.matmul(np.swapaxes(Z, 1, 2), centred[:, None]))[..., 0]
    else:  # w = Z' (Z Z' + alpha I)^-1 t, the same solution through the rows' Gram matrix
        gram = np.matmul(Z, np.swapaxes(Z, 1, 2)) + alpha * np.eye(Z.shape[1])
        dual = np.linalg.solve(gram, np.broadcast_to(centred[:, None], (Z.shape[0], Z.shape[1], 1)))
        coef = np.matmul(np.swapaxes(Z, 1, 2), dual)[..., 0]
    return LayerFit(mean, scale, coef, np.full(Z.shape[0], target.mean()))
