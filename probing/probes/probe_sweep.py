"""Layer sweeps: one probe per layer and fold, out-of-fold predictions, tidy scores.

:func:`predict_layers` is the primitive (per-row out-of-fold predictions, the input of
bootstrap CIs and paired tests); :func:`probe_layers` scores them per fold next to the
majority-class and chance baselines; :func:`summarize_layers` pools the folds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from probing._core.defaults import CI, N_BOOT, RANDOM_STATE
from probing._core.vocabulary import table_columns
from probing.probes._design import fit_predict_layers, prepare
from probing.probes._metrics import fold_rows
from probing.probes.paired import group_bootstrap

__all__ = ["SCORE_COLUMNS", "SUMMARY_COLUMNS", "predict_layers", "probe_layers",
           "summarize_layers"]

#: Columns of :func:`probe_layers` (and :func:`~probing.probes.control_task_layers`).
SCORE_COLUMNS = ("layer", "fold", "probe", "task", "seed", "metric", "estimate", "majority",
                 "chance", "n_train", "n_test")
#: Columns of :func:`summarize_layers`.
SUMMARY_COLUMNS = tuple(table_columns("probe_summary"))
_INDEX_EXTRAS = ("stimulus_id", "word_index", "word")


def predict_layers(activations, labels, *, groups="auto", cv=5, probe="logistic", layers=None,
                   stimuli=None, random_state=RANDOM_STATE, n_jobs=None):
    """Out-of-fold predictions of one probe per layer, one row per layer and tested row.

    Parameters
    ----------
    activations : Activations or numpy.ndarray of shape (n_rows, n_layers, n_units)
    labels : array_like of shape (n_rows,)
        Classes (str or int) for a classifier probe, floats for a regressor.
    groups, cv, stimuli, random_state
        As in :func:`~probing.probes.build_folds`; pass ``cv=folds`` to reuse folds.
    probe : {"logistic", "ridge_classifier", "ridge", "mlp"} or estimator, default "logistic"
        Cloned and refitted on each training fold of each layer.
    layers : sequence of int, optional
        For ``Activations``: which layers (default all). For an array: the layer number
        of each slice along axis 1 (default ``0 .. n_layers - 1``).
    n_jobs : int, optional
        Layers fitted in parallel (joblib).

    Returns
    -------
    pandas.DataFrame
        ``layer, probe, task, seed, fold, row`` (+ ``stimulus_id`` and, word-level,
        ``word_index, word`` for ``Activations``), ``group, y_true, y_pred`` and
        ``correct`` (0/1, classification) or ``sq_error`` (regression). ``task`` is
        ``"task"`` and ``seed`` is missing (control tasks fill both).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.tile([0, 1], 30); X = rng.normal(size=(60, 2, 4)); X[:, 1, 0] += 3 * y
    >>> pred = predict_layers(X, y, groups=None, cv=3)
    >>> pred.groupby("layer")["correct"].mean().round(2).tolist()
    [0.45, 0.87]
    """
    design = prepare(activations, labels, groups=groups, cv=cv, probe=probe, layers=layers,
                     stimuli=stimuli, random_state=random_state, where="predict_layers")
    preds = fit_predict_layers(design, design.labels, n_jobs=n_jobs)
    return prediction_table(design, design.labels, preds)


def prediction_table(design, labels, preds, *, task="task", seed=pd.NA):
    """Tidy rows of ``preds`` (``(n_layers, n_rows)``) for the rows some fold tests."""
    fold = design.fold_of_row()
    tested = np.flatnonzero(fold >= 0)
    extras = [c for c in _INDEX_EXTRAS if c in design.source.index]
    base = design.source.index.loc[tested, ["row", *extras]].reset_index(drop=True)
    base.insert(0, "fold", fold[tested])
    base["group"] = tested if design.groups is None else design.groups[tested]
    base["y_true"] = labels[tested]
    frames = []
    for k, layer in enumerate(design.source.layers):
        frame = base.copy()
        frame["y_pred"] = preds[k, tested]
        if design.classification:
            frame["correct"] = (frame["y_pred"] == frame["y_true"]).astype(int)
        else:
            frame["sq_error"] = (frame["y_pred"] - frame["y_true"]) ** 2
        frame.insert(0, "layer", layer)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table.insert(1, "probe", design.probe_name)
    table.insert(2, "task", task)
    table.insert(3, "seed", pd.array([seed] * len(table), dtype="Int64"))
    return table


def probe_layers(activations, labels, *, groups="auto", cv=5, probe="logistic", layers=None,
                 stimuli=None, random_state=RANDOM_STATE, n_jobs=None):
    """Cross-validated probe scores per layer and fold, with baselines.

    Parameters are those of :func:`predict_layers`. The folds are computed once and
    reused for every layer. Scores equal ``cross_val_score`` with the same folds.

    Returns
    -------
    pandas.DataFrame
        One row per layer, fold and metric; columns ``SCORE_COLUMNS``: ``layer, fold,
        probe, task, seed, metric, value, majority, chance, n_train, n_test``. Metrics:
        ``accuracy, balanced_accuracy, f1_macro`` (classifiers) or ``r2`` (regressors).
        ``majority`` scores predicting the training fold's most frequent class
        (regression: its mean); ``chance`` is the expected score of guessing with the
        training fold's class frequencies (regression: the mean again).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.tile([0, 1], 30); X = rng.normal(size=(60, 2, 4)); X[:, 1, 0] += 3 * y
    >>> table = probe_layers(X, y, groups=None, cv=3)
    >>> acc = table[table.metric == "accuracy"].groupby("layer")[["estimate", "chance"]].mean()
    >>> acc.round(2).to_dict("list")
    {'estimate': [0.45, 0.87], 'chance': [0.5, 0.5]}
    """
    design = prepare(activations, labels, groups=groups, cv=cv, probe=probe, layers=layers,
                     stimuli=stimuli, random_state=random_state, where="probe_layers")
    preds = fit_predict_layers(design, design.labels, n_jobs=n_jobs)
    return score_table(design, design.labels, preds)


def score_table(design, labels, preds, *, task="task", seed=pd.NA):
    """Per-fold scores of ``preds`` (``(n_layers, n_rows)``) as ``SCORE_COLUMNS``."""
    rows = []
    for k, layer in enumerate(design.source.layers):
        for row in fold_rows(labels, preds[k], design.folds, design.classification):
            rows.append({"layer": layer, "probe": design.probe_name, "task": task, **row})
    table = pd.DataFrame(rows)
    table["seed"] = pd.array([seed] * len(table), dtype="Int64")
    return table[list(SCORE_COLUMNS)]


def summarize_layers(predictions, *, n_boot=N_BOOT, ci=CI, random_state=RANDOM_STATE):
    """Pool out-of-fold predictions over folds, with a bootstrap CI over groups.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Output of :func:`predict_layers` (several probes, tasks or seeds may be stacked).
    n_boot : int, default ``N_BOOT`` = 2,000
        Default from ``probing._core.defaults`` (stable 95% percentile end points).
        Resamples of whole groups (items or word types), so the CI respects them.
    ci : float, default 0.95
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).

    Returns
    -------
    pandas.DataFrame
        ``layer, probe, task, seed, metric, value, ci_low, ci_high, n_groups, chance,
        below_chance``: pooled out-of-fold ``accuracy`` (classification) or ``r2``
        (regression, against the pooled mean), one row per layer, probe, task and seed.
        ``chance`` is the accuracy of guessing with the class frequencies (the sum of
        their squares; 0 for ``r2``); ``below_chance`` marks an interval entirely below
        it: a broken design or anti-learning under cross-validation, not "no
        information" (a warning names those rows).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.tile([0, 1], 30); X = rng.normal(size=(60, 2, 4)); X[:, 1, 0] += 3 * y
    >>> summary = summarize_layers(predict_layers(X, y, groups=None, cv=3), n_boot=500)
    >>> bool((summary.ci_low < summary.estimate).all() and (summary.estimate < summary.ci_high).all())
    True
    """
    keys = ["layer", "probe", "task", "seed"]
    rows = []
    for key, frame in predictions.groupby(keys, sort=True, dropna=False):
        boot = group_bootstrap(frame, n_boot=n_boot, ci=ci, random_state=random_state)
        classification = "correct" in frame
        shares = frame["y_true"].value_counts(normalize=True).to_numpy()
        chance = float(np.sum(shares**2)) if classification else 0.0
        rows.append({**dict(zip(keys, key, strict=True)),
                     "metric": "accuracy" if classification else "r2",
                     "estimate": boot.estimate, "ci_low": boot.ci_low, "ci_high": boot.ci_high,
                     "n_groups": frame["group"].nunique(), "chance": chance,
                     "below_chance": bool(boot.ci_high < chance)})
    table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    table["seed"] = table["seed"].astype("Int64")
    if table["below_chance"].any():
        below = table.loc[table["below_chance"], ["layer", "probe", "task"]]
        warnings.warn(f"summarize_layers: {len(below)} score(s) lie reliably below chance "
                      f"(interval under it), e.g. layer {below.iloc[0]['layer']} of "
                      f"{below.iloc[0]['probe']}: a broken design or anti-learning under "
                      f"cross-validation, not 'no information'", UserWarning, stacklevel=2)
    return table
