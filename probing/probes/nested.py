"""Held-out probe scores at a layer chosen without the held-out groups (nested selection).

Reporting the best of many layers on the test data is optimistic: the maximum of 31
noisy AUCs is biased upwards. Here each outer fold of :func:`heldout_folds` (one
suite x template cell tested, the rows sharing neither trained on) chooses its layer by
an inner leave-one-combination-out cross-validation over its *training* rows only, and
scores its test rows with the probe of that layer. The held-out suite and template never
enter the choice.

Probe fits are cached by their training rows: the inner training set of outer fold
``(s, t)`` holding out ``(s', t')`` is the rows of neither ``{s, s'}`` nor ``{t, t'}``,
the same set as three other outer folds' inner folds, so each distinct set is fitted once.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from probing._core.errors import ProbingError
from probing.probes._batched import fit_logistic_layers, fit_ridge_classifier_layers
from probing.probes._inputs import check_probe
from probing.probes.estimators import LogisticProbe, RidgeClassifierProbe
from probing.probes.heldout import heldout_folds

__all__ = ["NestedScores", "nested_heldout_scores"]


@dataclasses.dataclass(frozen=True)
class NestedScores:
    """What :func:`nested_heldout_scores` returns.

    Attributes
    ----------
    scores : numpy.ndarray of shape (n_rows,)
        Each row's held-out decision value at its fold's chosen layer.
    by_layer : numpy.ndarray of shape (n_rows, n_layers)
        Each row's held-out decision value at every layer (the same outer fits), for the
        per-layer curve.
    choices : pandas.DataFrame
        One row per outer fold: ``fold``, one column per grouping (``group_0``, ... unless
        named), ``layer`` (the chosen layer's number), ``metric`` (``inner_auc``),
        ``estimate`` (its inner cross-validated AUC over the fold's labelled training rows).
    """

    scores: np.ndarray
    by_layer: np.ndarray
    choices: pd.DataFrame


class _FitCache:
    """Decision values of every row, per layer, from a probe fitted on given rows."""

    def __init__(self, X, y, estimator):
        self.X, self.y, self.estimator, self._fits = X, y, estimator, {}

    def scores(self, train):
        train = np.sort(train[~np.isnan(self.y[train])])
        key = train.tobytes()
        if key not in self._fits:
            if len(np.unique(self.y[train])) < 2:
                raise ProbingError("nested_heldout_scores: a fold's training rows hold one class "
                                   "only; every fold needs both labels")
            self._fits[key] = self._fit(train)
        return self._fits[key]

    def _fit(self, train):
        # The package's two linear classifiers: every layer at once, the same optimum.
        if type(self.estimator) is LogisticProbe:
            fit = fit_logistic_layers(self.X[train], self.y[train], C=self.estimator.C)
            return fit.decision_function(self.X)
        if type(self.estimator) is RidgeClassifierProbe:
            fit = fit_ridge_classifier_layers(self.X[train], self.y[train], alpha=self.estimator.alpha)
            return fit.decision_function(self.X)
        out = np.empty(self.X.shape[:2])
        for layer in range(self.X.shape[1]):
            fitted = self.estimator.__class__(**self.estimator.get_params())
            fitted.fit(self.X[train, layer], self.y[train])
            out[:, layer] = fitted.decision_function(self.X[:, layer])
        return out

    @property
    def n_fits(self):
        return len(self._fits)


def _inner_auc(cache, train, groups):
    """Per-layer AUC of the inner held-out scores over the labelled training rows."""
    inner = heldout_folds(*(g[train] for g in groups))
    scores = np.full((len(train), cache.X.shape[1]), np.nan)
    for inner_train, inner_test in inner:
        if not len(inner_train):
            raise ProbingError("nested_heldout_scores: every grouping needs at least 2 values "
                               "in each fold's training rows (3 in all) to choose a layer")
        scores[inner_test] = cache.scores(train[inner_train])[train[inner_test]]
    y = cache.y[train]
    keep = ~np.isnan(y)
    return np.array([roc_auc_score(y[keep], scores[keep, j]) for j in range(scores.shape[1])])


def nested_heldout_scores(activations, labels, groups, *, probe="logistic", layers=None,
                          names=None):
    """Held-out scores, each fold's layer chosen by inner cross-validation on its training rows.

    Parameters
    ----------
    activations : array_like of shape (n_rows, n_layers, n_units)
    labels : array_like of shape (n_rows,)
        0 or 1; NaN for rows never trained on (they are still scored).
    groups : sequence of array_like of shape (n_rows,)
        The groupings held out together (e.g. ``[suite, template]``); outer and inner
        folds are :func:`heldout_folds` of them.
    probe : str or classifier, default "logistic"
        Needs ``decision_function``. ``"logistic"`` is scikit-learn's
        ``LogisticRegression`` (L2, C=1, lbfgs) on standardized units.
    layers : sequence of int, optional
        The layer number of each slice (default 0, 1, ...).
    names : sequence of str, optional
        Column names of the groupings in ``choices``.

    Returns
    -------
    NestedScores
        ``scores`` (at the chosen layers), ``by_layer`` and ``choices`` (the chosen layer
        of each outer fold, the highest inner AUC, ties to the lowest layer).

    Examples
    --------
    >>> rng = np.random.default_rng(0); y = np.tile([0.0, 1.0], 36)
    >>> suite = np.repeat(["a", "b", "c"], 24); template = np.tile(np.repeat(["x", "y", "z"], 8), 3)
    >>> X = rng.normal(size=(72, 3, 4)); X[:, 2, 0] += 3 * y
    >>> out = nested_heldout_scores(X, y, [suite, template])
    >>> sorted(set(out.choices["layer"]))
    [2]
    """
    X = np.asarray(activations, dtype=float)
    if X.ndim != 3:
        raise ProbingError(f"nested_heldout_scores: activations must be (n_rows, n_layers, "
                           f"n_units); got shape {X.shape}")
    y = np.asarray(labels, dtype=float)
    if y.shape != (X.shape[0],) or not np.isin(y[~np.isnan(y)], (0.0, 1.0)).all():
        raise ProbingError(f"nested_heldout_scores: labels must be 0, 1 or NaN, one per row "
                           f"({X.shape[0]})")
    groups = [np.asarray(g, dtype=object) for g in groups]
    names = [f"group_{k}" for k in range(len(groups))] if names is None else list(names)
    layers = list(range(X.shape[1])) if layers is None else [int(k) for k in layers]
    if len(layers) != X.shape[1] or len(names) != len(groups):
        raise ProbingError(f"nested_heldout_scores: {len(layers)} layer numbers for "
                           f"{X.shape[1]} slices, {len(names)} names for {len(groups)} groupings")
    estimator, _ = check_probe(probe, "nested_heldout_scores")
    cache = _FitCache(X, y, estimator)
    scores, by_layer = np.full(X.shape[0], np.nan), np.full(X.shape[:2], np.nan)
    rows = []
    for fold, (train, test) in enumerate(heldout_folds(*groups)):
        inner = _inner_auc(cache, train, groups)
        chosen = int(np.argmax(inner))
        outer = cache.scores(train)
        by_layer[test] = outer[test]
        scores[test] = outer[test, chosen]
        cell = {name: g[test[0]] for name, g in zip(names, groups, strict=True)}
        rows.append({"fold": fold, **cell, "layer": layers[chosen], "metric": "inner_auc",
                     "estimate": float(inner[chosen])})
    return NestedScores(scores, by_layer, pd.DataFrame(rows))
