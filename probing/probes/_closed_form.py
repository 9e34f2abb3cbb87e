"""Closed-form cross-validated scores of ridge probes for many label permutations at once.

A ridge probe with an intercept on standardized ``X`` predicts, for a test fold,
``H @ (Y_train - mean) + mean`` with the hat map
``H = Xte (Xtr' Xtr + alpha I)^-1 Xtr'`` (``Xtr, Xte`` standardized and centred with
the training fold's statistics). ``H`` depends on ``X`` alone, and since the centred
``Xtr'`` annihilates constants, ``H @ mean = 0``: the predictions of every permutation
are ``H @ Y_perm + mean(Y_perm)``, one matrix product for a whole chunk of permutations.
``H`` is solved once per layer and fold, in the primal (units) or the dual (rows) form,
whichever system is smaller, and applied in factored form when that is cheaper
(:class:`HatMap`).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from sklearn.preprocessing import StandardScaler

# Bound on the float64 values one chunk of permuted predictions may hold (~128 MB).
_CHUNK_VALUES = 2**24


def hat_factors(X_train, X_test, alpha):
    """``(left, right)`` with ``left @ right`` the ``(n_test, n_train)`` hat map.

    Primal (units <= rows): ``left = Xte (Xtr' Xtr + alpha I)^-1``, ``right = Xtr'``,
    of inner size ``n_units``. Dual: ``left = Xte Xtr' (Xtr Xtr' + alpha I)^-1``,
    ``right = I`` (None), of inner size ``n_train``.
    """
    scaler = StandardScaler().fit(X_train)
    A, B = scaler.transform(X_train), scaler.transform(X_test)
    # Ridge(fit_intercept=True) centres the (already standardized) columns once more; the
    # offset is ~1e-17, but matching it keeps the equality with a refit at rounding level.
    offset = A.mean(axis=0)
    A -= offset
    B -= offset
    n_train, n_units = A.shape
    if n_units <= n_train:
        gram = A.T @ A
        gram.flat[:: n_units + 1] += alpha
        return cho_solve(cho_factor(gram, check_finite=False), B.T, check_finite=False).T, A.T
    kernel = A @ A.T
    kernel.flat[:: n_train + 1] += alpha
    return cho_solve(cho_factor(kernel, check_finite=False), A @ B.T, check_finite=False).T, None


def _product(left, right):
    return left if right is None else left @ right


def hat_map(X_train, X_test, alpha):
    """``(n_test, n_train)`` map from centred training targets to test predictions."""
    return _product(*hat_factors(X_train, X_test, alpha))


class HatMap:
    """The hat map, applied to many target columns in the cheaper order.

    ``left @ (right @ Z)`` costs ``n_units * (n_train + n_test)`` per column of ``Z``,
    ``H @ Z`` with ``H`` formed once costs ``n_test * n_train``: with many classes and
    permutations (one column each) the factored order wins when ``n_units`` is small
    next to the fold sizes (UD POS: 576 units, 7,700 training and 1,900 test rows: 2.6x
    fewer multiply-adds).
    """

    def __init__(self, X_train, X_test, alpha):
        left, right = hat_factors(X_train, X_test, alpha)
        n_test, inner = left.shape
        n_train = inner if right is None else right.shape[1]
        factored = right is not None and inner * (n_train + n_test) < n_test * n_train
        self._left, self._right = (left, right) if factored else (_product(left, right), None)

    def __matmul__(self, Z):
        return self._left @ Z if self._right is None else self._left @ (self._right @ Z)

    def __len__(self):
        return self._left.shape[0]


def permuted_scores(X, targets, *, alpha):
    """Mean-over-folds accuracy (or R^2) for each permutation, ``(n_perm,)``.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_units)
    targets : PermutedTargets
        The permuted labels, split by fold (shared by every layer).
    alpha : float
    """
    scores = np.zeros(targets.n_perm)
    for (train, test), chunks in zip(targets.folds, targets.fold_chunks(), strict=True):
        H = HatMap(X[train], X[test], alpha)
        for start, fit_on, y_test in chunks():
            scores[start:start + y_test.shape[1]] += targets.score(H, fit_on, y_test)
    return scores / len(targets.folds)


class PermutedTargets:
    """Permuted labels split by fold, coded for the least-squares fit.

    Row ``p`` of ``perms`` relabels row ``i`` with ``targets[perms[p, i]]``. The coded
    training targets (an indicator for two classes, one-hot for more, the values for
    regression) are built once and reused for every layer when they fit in memory,
    else rebuilt per layer in chunks.
    """

    def __init__(self, targets, perms, folds, *, classification, n_classes):
        self.folds, self.n_perm = folds, len(perms)
        self.classification, self.n_classes = classification, n_classes
        self._labels = targets[perms]  # (n_perm, n_rows)
        self._width = n_classes if classification and n_classes > 2 else 1
        n_train = max(len(train) for train, _ in folds)
        self._chunk = max(1, _CHUNK_VALUES // (n_train * self._width))
        cached = self.n_perm * self._width * len(self._labels[0]) <= _CHUNK_VALUES
        self._cache = [list(self._chunks(f)) for f in folds] if cached else None

    def fold_chunks(self):
        """Per fold, a callable yielding ``(start, coded training targets, test labels)``."""
        if self._cache is not None:
            return [lambda chunks=chunks: iter(chunks) for chunks in self._cache]
        return [lambda fold=fold: self._chunks(fold) for fold in self.folds]

    def _chunks(self, fold):
        train, test = fold
        for start in range(0, self.n_perm, self._chunk):
            labels = self._labels[start:start + self._chunk]
            yield start, self._code(labels[:, train].T), np.ascontiguousarray(labels[:, test].T)

    def _code(self, y_train):
        """``(n_train, n_perm * width)`` targets and their training means."""
        if not self.classification:
            values = y_train.astype(np.float64)
        elif self.n_classes == 2:
            values = (y_train == 1).astype(np.float64)
        else:
            n_train, n_perm = y_train.shape
            values = np.zeros((n_train, n_perm, self.n_classes))
            values[np.arange(n_train)[:, None], np.arange(n_perm)[None, :], y_train] = 1.0
            values = values.reshape(n_train, -1)
        return values, values.mean(axis=0)

    def score(self, H, fit_on, y_test):
        """Fold score per permutation of the chunk."""
        if not self.classification:
            return _r2(H, fit_on, y_test)
        return _accuracy(H, fit_on, y_test, self.n_classes)


def _accuracy(H, fit_on, y_test, n_classes):
    """Accuracy per permutation of the one-vs-rest least-squares classifier."""
    z, means = fit_on
    decision = H @ z + means
    if n_classes == 2:
        # One column suffices: with +-1 coding the class-1 score is 2 * (H z + mean z) - 1,
        # so "class 1 if score > 0" is "H z + mean z > 0.5" for the 0/1 indicator z.
        return np.mean((decision > 0.5) == (y_test == 1), axis=0)
    decision = decision.reshape(len(H), -1, n_classes)
    # A class absent from a training fold has no column in a refitted model.
    decision[:, means.reshape(-1, n_classes) == 0] = -np.inf
    return np.mean(decision.argmax(axis=2) == y_test, axis=0)


def _r2(H, fit_on, y_test):
    """R^2 per permutation of ridge regression (as ``sklearn.metrics.r2_score``)."""
    y_train, means = fit_on
    predicted = H @ y_train + means
    sse = np.sum((y_test - predicted) ** 2, axis=0)
    sst = np.sum((y_test - y_test.mean(axis=0)) ** 2, axis=0)
    # r2_score's convention for a constant test fold: 1 if predicted exactly, else 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sst > 0, 1.0 - sse / sst, np.where(sse == 0, 1.0, 0.0))
