"""Per-fold scores of out-of-fold predictions, with majority-class and chance baselines."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, r2_score

#: Metrics reported for each kind of probe, in table order.
CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "f1_macro")
REGRESSION_METRICS = ("r2",)


def score(metric, y_true, y_pred):
    """One metric as scikit-learn's scorer of the same name computes it."""
    if metric == "accuracy":
        return accuracy_score(y_true, y_pred)
    if metric == "balanced_accuracy":
        # A rare class (UD's SYM, X) predicted in a fold whose test rows lack it makes
        # scikit-learn warn on every such fold; the score is defined over the classes
        # present, which is what balanced accuracy of a fold means here.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
            return balanced_accuracy_score(y_true, y_pred)
    if metric == "f1_macro":
        return f1_score(y_true, y_pred, average="macro", zero_division=0.0)
    return r2_score(y_true, y_pred)


def fold_rows(y, pred, folds, classification):
    """Dicts ``fold, metric, value, majority, chance, n_train, n_test`` per fold and metric."""
    metrics = CLASSIFICATION_METRICS if classification else REGRESSION_METRICS
    rows = []
    for i, (train, test) in enumerate(folds):
        baseline = (_class_baselines if classification else _mean_baselines)(y[train], y[test])
        for metric in metrics:
            majority, chance = baseline[metric]
            rows.append({"fold": i, "metric": metric, "estimate": score(metric, y[test], pred[test]),
                         "majority": majority, "chance": chance,
                         "n_train": len(train), "n_test": len(test)})
    return rows


def _class_baselines(y_train, y_test):
    """(majority, chance) per metric, in closed form (no warnings for absent classes).

    ``majority`` predicts the training fold's most frequent class for every test row.
    ``chance`` is the expected score of guessing each row's class at random with the
    training fold's class frequencies; for macro-F1 it is the ratio of expectations
    ``2 p q / (p + q)`` per class (exact in the limit of many test rows).
    """
    classes, train_counts = np.unique(y_train, return_counts=True)
    test_classes, test_counts = np.unique(y_test, return_counts=True)
    every = np.union1d(classes, test_classes)
    p = np.zeros(every.size)
    p[np.searchsorted(every, classes)] = train_counts / train_counts.sum()
    q = np.zeros(every.size)
    q[np.searchsorted(every, test_classes)] = test_counts / test_counts.sum()
    top = np.argmax(p)  # np.unique sorts, so ties go to the smallest class, as in sklearn
    in_test = q > 0
    n_top = q[top]
    majority = {
        "accuracy": n_top,
        "balanced_accuracy": float(in_test[top]) / in_test.sum(),
        # One predicted class: only it can have a non-zero F1, over every class seen.
        "f1_macro": 2 * n_top / (1 + n_top) / (in_test | (np.arange(every.size) == top)).sum(),
    }
    seen = (p > 0) | in_test
    f1 = np.divide(2 * p * q, p + q, out=np.zeros_like(p), where=(p + q) > 0)
    chance = {
        "accuracy": float(p @ q),
        "balanced_accuracy": float(p[in_test].mean()),
        "f1_macro": float(f1[seen].mean()),
    }
    return {m: (float(majority[m]), chance[m]) for m in CLASSIFICATION_METRICS}


def _mean_baselines(y_train, y_test):
    """R^2 of predicting the training mean; it is both the majority and the chance score."""
    r2 = r2_score(y_test, np.full(len(y_test), y_train.mean())) if len(y_test) > 1 else np.nan
    return {"r2": (float(r2), float(r2))}


def mean_baselines(y, folds, classification, metric):
    """(majority, chance) of ``metric`` averaged over folds."""
    pick = _class_baselines if classification else _mean_baselines
    values = np.array([pick(y[train], y[test])[metric] for train, test in folds])
    return float(values[:, 0].mean()), float(values[:, 1].mean())
