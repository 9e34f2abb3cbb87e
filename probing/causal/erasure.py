"""Concept erasure: LEACE (Belrose et al. 2023) in numpy, random erasure of equal rank.

Why our own: the ``concept-erasure`` package implements LEACE in torch, which analyses
may not import; this is the same closed form in numpy, checked against the package's
``LeaceFitter`` in the tests. LEACE is the least-squares-smallest affine edit
``r(x) = x - W^+ P W (x - mean)`` after which no linear classifier predicts the concept
better than a constant (the cross-covariance of ``r(X)`` and the concept is 0): ``W``
whitens ``X``, ``P`` projects onto the column space of ``W Sigma_xz``.

:class:`LeaceEraser` and :class:`RandomEraser` are scikit-learn transformers; both store
the edit as ``x - (x - mean_) @ proj_right_.T @ proj_left_.T`` with ``d x r`` factors,
so that :class:`RandomEraser` (the orthogonal projection out of a uniformly random
subspace, the control) can be given the rank the LEACE edit had.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from probing._core.errors import ProbingError

__all__ = ["LeaceEraser", "RandomEraser"]


def _concept_matrix(y):
    """Class labels -> one-hot ``(n, n_classes)``; a 2-D numeric ``y`` is used as is."""
    y = np.asarray(y)
    if y.ndim == 2:
        return y.astype(float)
    check_classification_targets(y)
    classes, codes = np.unique(y, return_inverse=True)
    return np.eye(classes.size)[codes]


def _shrunk(scatter, n):
    """Optimal linear shrinkage of ``scatter / n`` toward a scaled identity.

    The distribution-free estimator of Bai et al. (arXiv:1308.2608), the one the
    ``concept-erasure`` package applies by default: ``a S + b tr(S)/p I``.
    """
    p = scatter.shape[0]
    S = scatter / n
    target = np.eye(p) * np.trace(S) / p
    target_sq, S_sq = np.sum(target**2), np.sum(S**2)
    cross = np.trace(S @ target)
    eps = np.finfo(float).eps
    alpha = 1 - (np.trace(S) ** 2 * target_sq / n + eps) / (S_sq * target_sq - cross**2 + eps)
    beta = (1 - alpha) * (cross + eps) / (target_sq + eps)
    return alpha * S + beta * target


def _whitening(sigma):
    """Whitening ``W = sigma^(-1/2)`` and its inverse, on the numerically non-zero part."""
    values, vectors = np.linalg.eigh(sigma)
    keep = values > values[-1] * sigma.shape[0] * np.finfo(float).eps
    values = np.clip(values, 0.0, None)
    inv_root = np.where(keep, 1 / np.sqrt(np.where(keep, values, 1.0)), 0.0)
    root = np.where(keep, np.sqrt(values), 0.0)
    return (vectors * inv_root) @ vectors.T, (vectors * root) @ vectors.T


def _trace_mix(left, right, u, sigma):
    """Low-rank factors of ``I - (a P + (1 - a) Q)`` with ``a`` keeping tr(cov) from rising.

    ``P = I - left @ right`` is LEACE, ``Q = I - u u^T`` the orthogonal projection. ``a``
    solves ``tr(M Sigma M^T) = tr(Sigma)`` for ``M = a P + (1 - a) Q`` (a quadratic in
    ``a``); the smaller root when it is positive, else the larger, clipped to [0, 1].
    """
    eye = np.eye(sigma.shape[0])
    P, Q = eye - left @ right, eye - u @ u.T
    old = np.trace(sigma)
    x, y, z = np.trace(P @ sigma @ P.T), 2 * np.trace(P @ sigma @ Q.T), np.trace(Q @ sigma @ Q.T)
    if x <= old:
        return left, right
    root = np.sqrt(4 * old * (x - y + z) - 4 * x * z + y**2)
    low, high = (z - y / 2 - root / 2) / (x - y + z), (z - y / 2 + root / 2) / (x - y + z)
    a = float(np.clip(low if low > 0 else high, 0.0, 1.0))
    return np.hstack([a * left, (1 - a) * u]), np.vstack([right, u.T])


class _LowRankEdit(TransformerMixin, BaseEstimator):
    """``transform`` shared by the erasers: a rank-r affine edit of each row."""

    def transform(self, X):
        """Erase from ``X``: ``x - (x - mean_) @ proj_right_.T @ proj_left_.T``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X - ((X - self.mean_) @ self.proj_right_.T) @ self.proj_left_.T


class LeaceEraser(_LowRankEdit):
    """LEACE: erase a concept linearly with the least change to the representation.

    Parameters
    ----------
    affine : bool, default True
        Centre on the training mean (the erased data keep their mean).
    shrinkage : bool, default False
        Estimate ``cov(X)`` with optimal linear shrinkage (the ``concept-erasure``
        package's default); False uses the sample covariance, the paper's closed form.
    constrain_cov_trace : bool, default False
        Mix the edit with the orthogonal projection so that the total variance does not
        grow (the package's default; it helps when an edit is applied at many layers,
        but the cross-covariance is then no longer exactly 0).
    svd_tol : float, default 0.01
        Singular values of the whitened cross-covariance below it are not erased.

    Attributes
    ----------
    mean_ : numpy.ndarray of shape (n_features,)
    proj_left_, proj_right_ : numpy.ndarray of shape (n_features, rank), (rank, n_features)
    rank_ : int
        Number of erased directions (``proj_left_.shape[1]`` without the trace mix).
    n_features_in_ : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.tile([0, 1], 100)
    >>> X = rng.normal(size=(200, 5)) + np.outer(y, [3, 0, 0, 0, 1])
    >>> erased = LeaceEraser().fit_transform(X, y)
    >>> bool(np.allclose(erased[y == 0].mean(0), erased[y == 1].mean(0)))
    True
    """

    def __init__(self, *, affine=True, shrinkage=False, constrain_cov_trace=False,
                 svd_tol=0.01):
        self.affine = affine
        self.shrinkage = shrinkage
        self.constrain_cov_trace = constrain_cov_trace
        self.svd_tol = svd_tol

    def fit(self, X, y):
        """Fit the eraser of concept ``y`` (class labels, or a 2-D numeric matrix).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
        y : array_like of shape (n_samples,) or (n_samples, n_concept)

        Returns
        -------
        self
        """
        if not self.svd_tol > 0:
            raise ProbingError(f"LeaceEraser: svd_tol must be positive, got {self.svd_tol!r}")
        X, y = validate_data(self, X, y, multi_output=True, dtype=np.float64,
                             ensure_min_samples=2)
        Z = _concept_matrix(y)
        n = X.shape[0]
        self.mean_ = X.mean(axis=0) if self.affine else np.zeros(X.shape[1])
        Xc, Zc = X - X.mean(axis=0), Z - Z.mean(axis=0)
        scatter = Xc.T @ Xc
        sigma = _shrunk(scatter, n) if self.shrinkage else scatter / (n - 1)
        W, W_inv = _whitening((sigma + sigma.T) / 2)
        u, s, _ = np.linalg.svd(W @ (Xc.T @ Zc / (n - 1)), full_matrices=False)
        u = u[:, s > self.svd_tol]
        self.rank_ = u.shape[1]
        left, right = W_inv @ u, u.T @ W
        if self.constrain_cov_trace:
            left, right = _trace_mix(left, right, u, sigma)
        self.proj_left_, self.proj_right_ = left, right
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


class RandomEraser(_LowRankEdit):
    """Project out a uniformly random subspace of a given rank: the control for LEACE.

    Parameters
    ----------
    rank : int, default 1
        Dimension of the erased subspace (that of the LEACE edit, ``LeaceEraser.rank_``).
    affine : bool, default True
        Project around the training mean, as LEACE does.
    random_state : int, numpy.random.RandomState or None, default None

    Attributes
    ----------
    mean_ : numpy.ndarray of shape (n_features,)
    proj_left_ : numpy.ndarray of shape (n_features, rank)
        Orthonormal basis of the erased subspace.
    proj_right_ : numpy.ndarray of shape (rank, n_features)
        ``proj_left_.T``.
    n_features_in_ : int

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(50, 4))
    >>> eraser = RandomEraser(rank=2, random_state=0).fit(X)
    >>> bool(np.allclose((eraser.transform(X) - eraser.mean_) @ eraser.proj_left_, 0))
    True
    """

    def __init__(self, rank=1, *, affine=True, random_state=None):
        self.rank = rank
        self.affine = affine
        self.random_state = random_state

    def fit(self, X, y=None):
        """Draw the subspace (Haar) and learn the mean of ``X``; ``y`` is ignored.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
        y : None

        Returns
        -------
        self
        """
        X = validate_data(self, X, dtype=np.float64)
        if isinstance(self.rank, bool) or int(self.rank) != self.rank or not (
                1 <= self.rank <= X.shape[1]):
            raise ProbingError(f"RandomEraser: rank must be a whole number in [1, "
                               f"{X.shape[1]}], got {self.rank!r}")
        rng = check_random_state(self.random_state)
        q, r = np.linalg.qr(rng.standard_normal((X.shape[1], int(self.rank))))
        self.proj_left_ = q * np.sign(np.diag(r))
        self.proj_right_ = self.proj_left_.T
        self.mean_ = X.mean(axis=0) if self.affine else np.zeros(X.shape[1])
        return self
