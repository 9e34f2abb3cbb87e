"""Probes tested on held-out groups (suites, templates), scored by ROC AUC over items.

A probe that detects a prompt injection only generalises if it works on suites and
attack templates it never saw (Abdelnabi et al. 2024, "Get my drift?"). The folds here
hold out one *combination* of groups at a time: fold ``(s, t)`` tests on the rows of
suite ``s`` and template ``t`` and trains on rows that share neither, so no suite or
template of a test row is ever seen in training. Scores are the probe's linear
decision values; :func:`auc_by_layer` pools every row's held-out score and gives the
ROC AUC with a bootstrap interval over items (an item's rows resampled together).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from probing._core.defaults import CI, N_BOOT, RANDOM_STATE
from probing._core.errors import ProbingError
from probing.probes._inputs import check_probe

__all__ = ["AUC_COLUMNS", "auc_by_layer", "heldout_folds", "heldout_scores", "item_flipped_labels",
           "linear_direction"]

AUC_COLUMNS = ("layer", "metric", "estimate", "ci_low", "ci_high", "n_items", "n_boot")


def heldout_folds(*groups):
    """Leave-one-combination-out folds: test on one cell, train on rows sharing no group.

    Parameters
    ----------
    *groups : array_like of shape (n_rows,)
        One or more groupings (e.g. suite, template).

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        ``(train, test)`` row indices, one fold per non-empty combination; every row is
        tested exactly once, and a training row shares no group value with its fold's
        test rows in any grouping.

    Examples
    --------
    >>> suite = ["a", "a", "b", "b"]; template = ["x", "y", "x", "y"]
    >>> [(tr.tolist(), te.tolist()) for tr, te in heldout_folds(suite, template)]
    [([3], [0]), ([2], [1]), ([1], [2]), ([0], [3])]
    """
    if not groups:
        raise ProbingError("heldout_folds: give at least one grouping")
    arrays = [np.asarray(g, dtype=object) for g in groups]
    if len({len(a) for a in arrays}) != 1:
        raise ProbingError(f"heldout_folds: groupings differ in length {[len(a) for a in arrays]}")
    folds = []
    for cell in itertools.product(*(pd.unique(a) for a in arrays)):
        test = np.flatnonzero(np.logical_and.reduce([a == v for a, v in zip(arrays, cell, strict=True)]))
        train = np.flatnonzero(np.logical_and.reduce([a != v for a, v in zip(arrays, cell, strict=True)]))
        if len(test):
            folds.append((train, test))
    return folds


def _layers_of(activations):
    X = np.asarray(activations, dtype=float)
    if X.ndim != 3:
        raise ProbingError(f"heldout_scores: activations must be (n_rows, n_layers, n_units); "
                           f"got shape {X.shape}")
    return X


def heldout_scores(activations, labels, folds, *, probe="logistic"):
    """Each row's decision score from the probe of the fold that held it out, per layer.

    Parameters
    ----------
    activations : array_like of shape (n_rows, n_layers, n_units)
    labels : array_like of shape (n_rows,)
        0 or 1; NaN for rows never trained on (they are still scored).
    folds : list of (train, test)
        From :func:`heldout_folds`.
    probe : str or classifier, default "logistic"
        Needs ``decision_function``.

    Returns
    -------
    numpy.ndarray of shape (n_rows, n_layers)
        NaN for rows in no test set.

    Examples
    --------
    >>> rng = np.random.default_rng(0); y = np.tile([0.0, 1.0], 20)
    >>> X = rng.normal(size=(40, 1, 3)); X[:, 0, 0] += 3 * y
    >>> folds = heldout_folds(np.repeat(["a", "b"], 20))
    >>> s = heldout_scores(X, y, folds)
    >>> bool(s[y == 1].mean() > s[y == 0].mean())
    True
    """
    X = _layers_of(activations)
    y = np.asarray(labels, dtype=float)
    if y.shape != (X.shape[0],) or not np.isin(y[~np.isnan(y)], (0.0, 1.0)).all():
        raise ProbingError(f"heldout_scores: labels must be 0, 1 or NaN, one per row ({X.shape[0]})")
    estimator, _ = check_probe(probe, "heldout_scores")
    scores = np.full(X.shape[:2], np.nan)
    for train, test in folds:
        train = train[~np.isnan(y[train])]
        if len(np.unique(y[train])) < 2:
            raise ProbingError("heldout_scores: a fold's training rows hold one class only; "
                               "every fold needs both labels")
        for layer in range(X.shape[1]):
            fitted = estimator.__class__(**estimator.get_params()).fit(X[train, layer], y[train])
            scores[test, layer] = fitted.decision_function(X[test, layer])
    return scores


def linear_direction(X, labels, *, probe="logistic"):
    """Unit vector of a fitted linear probe's weights, in the units' own (raw) space.

    The package's probes standardize inside ``fit``; the weight on raw unit ``j`` is the
    standardized weight divided by that unit's scale.

    Examples
    --------
    >>> rng = np.random.default_rng(0); y = np.tile([0, 1], 30)
    >>> X = rng.normal(size=(60, 4)); X[:, 2] += 2 * y
    >>> int(np.argmax(np.abs(linear_direction(X, y))))
    2
    """
    estimator, _ = check_probe(probe, "linear_direction")
    fitted = estimator.fit(np.asarray(X, dtype=float), np.asarray(labels))
    w = np.ravel(fitted.model_.coef_) / fitted.scaler_.scale_
    return w / np.linalg.norm(w)


def item_flipped_labels(labels, items, *, random_state=RANDOM_STATE):
    """Control-task labels: within each item, 0 and 1 swapped by a fair coin.

    Paired designs (an injected and a clean version of each item) keep their balance,
    but no direction separates the classes across items.

    Examples
    --------
    >>> item_flipped_labels([0, 1, 0, 1], ["a", "a", "b", "b"], random_state=0).tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    y = np.asarray(labels, dtype=float)
    codes, uniques = pd.factorize(np.asarray(items, dtype=object))
    flip = np.random.default_rng(random_state).random(len(uniques)) < 0.5
    return np.where(flip[codes] & ~np.isnan(y), 1.0 - y, y)


def auc_by_layer(scores, labels, items, *, layers=None, n_boot=N_BOOT, ci=CI,
                 random_state=RANDOM_STATE):
    """ROC AUC of scores per layer with a percentile bootstrap interval over items.

    Parameters
    ----------
    scores : array_like of shape (n_rows, n_layers)
    labels : array_like of shape (n_rows,)
        1 (positive), 0 (negative) or NaN (left out).
    items : array_like of shape (n_rows,)
        Rows of an item are resampled together.
    layers : sequence of int, optional
        The layer number of each column (default 0, 1, ...).
    n_boot, ci, random_state
        Defaults from ``probing._core.defaults``.

    Returns
    -------
    pandas.DataFrame
        ``AUC_COLUMNS``: one row per layer, ``metric`` ``auc``; ties count one half.

    Examples
    --------
    >>> auc_by_layer([[0.1], [0.9], [0.2], [0.8]], [0, 1, 0, 1], [1, 1, 2, 2], n_boot=10)["estimate"].tolist()
    [1.0]
    """
    S = np.asarray(scores, dtype=float)
    S = S[:, None] if S.ndim == 1 else S
    y = np.asarray(labels, dtype=float)
    keep = ~np.isnan(y) & ~np.isnan(S).any(axis=1)
    S, y = S[keep], y[keep]
    codes, uniques = pd.factorize(np.asarray(items, dtype=object)[keep])
    if not ((y == 1).any() and (y == 0).any()):
        raise ProbingError("auc_by_layer: need positive (1) and negative (0) rows with scores")
    layers = list(range(S.shape[1])) if layers is None else list(layers)
    if len(layers) != S.shape[1]:
        raise ProbingError(f"auc_by_layer: {len(layers)} layer numbers for {S.shape[1]} columns")
    rng = np.random.default_rng(random_state)
    draws = rng.integers(0, len(uniques), size=(n_boot, len(uniques)))
    counts = np.zeros((n_boot, len(uniques)))
    np.add.at(counts, (np.arange(n_boot)[:, None], draws), 1.0)
    w = counts[:, codes]  # (n_boot, n_rows): how often each row is drawn
    pos, neg = y == 1, y == 0
    alpha = (1 - ci) / 2
    rows = []
    for layer in range(S.shape[1]):
        s = S[:, layer]
        wins = (s[pos][:, None] > s[neg][None, :]) + 0.5 * (s[pos][:, None] == s[neg][None, :])
        value = wins.mean()
        boot = np.einsum("bi,ij,bj->b", w[:, pos], wins, w[:, neg])
        denom = w[:, pos].sum(axis=1) * w[:, neg].sum(axis=1)
        boot = boot[denom > 0] / denom[denom > 0]
        low, high = np.quantile(boot, [alpha, 1 - alpha]) if len(boot) else (np.nan, np.nan)
        rows.append((layers[layer], "auc", float(value), float(low), float(high), len(uniques), n_boot))
    return pd.DataFrame(rows, columns=list(AUC_COLUMNS))
