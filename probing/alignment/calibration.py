"""Put a measure on the human rating scale, fitted and scored with cross-validation.

A calibration maps a model measure (LP, SLOR, ...) to the ratings' own scale, so scores
from different measures, paradigms and models can be read in rating units. It is fitted
on the training folds only and scored on the held-out sentences: an in-sample fit would
flatter every measure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold

from probing._core.defaults import CI, N_BOOT, RANDOM_STATE
from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing.stats import bootstrap_ci

__all__ = ["CALIBRATIONS", "calibrate_predictions", "score_calibration"]

CALIBRATIONS = ("linear", "isotonic")


def _regressor(method):
    if method == "linear":
        return LinearRegression()
    return IsotonicRegression(out_of_bounds="clip")


@renamed(method="calibration")
def calibrate_predictions(table, *, ratings, calibration="linear", cv=5, random_state=RANDOM_STATE):
    """Out-of-fold predicted ratings from each measure.

    Parameters
    ----------
    table : pandas.DataFrame
        ``stimulus_id, measure, value``.
    ratings : pandas.DataFrame
        ``stimulus_id, rating``.
    calibration : {"linear", "isotonic"}, default "linear"
        Ordinary least squares, or a monotone (isotonic) map.
    cv : int, default 5
        Number of shuffled folds over sentences.
    random_state : int or None, default 0
        Seed of the fold assignment.

    Returns
    -------
    pandas.DataFrame
        ``stimulus_id, measure, fold, value, rating, prediction``, one row per sentence
        and measure; ``prediction`` comes from a map fitted without that sentence's fold.

    Examples
    --------
    >>> human = pd.DataFrame({"stimulus_id": range(20), "rating": np.linspace(1, 4, 20)})
    >>> table = pd.DataFrame({"stimulus_id": range(20), "measure": "LP",
    ...                       "estimate": np.linspace(-40, -10, 20)})
    >>> out = calibrate_predictions(table, ratings=human)
    >>> bool(np.allclose(out["prediction"], out["rating"]))
    True
    """
    if calibration not in CALIBRATIONS:
        raise ProbingError(f"calibrate_predictions: calibration {calibration!r}; allowed {list(CALIBRATIONS)}")
    merged = table.merge(ratings[["stimulus_id", "rating"]], on="stimulus_id",
                         validate="many_to_one")
    parts = []
    for measure, group in merged.groupby("measure", sort=False):
        group = group.reset_index(drop=True)
        if len(group) < cv:
            raise ProbingError(f"calibrate_predictions: {measure} has {len(group)} sentences, "
                               f"fewer than cv={cv} folds")
        x = group[["estimate"]].to_numpy(float)
        y = group["rating"].to_numpy(float)
        prediction, fold = np.empty(len(y)), np.empty(len(y), dtype=np.int64)
        splits = KFold(n_splits=cv, shuffle=True, random_state=random_state).split(x)
        for k, (train, test) in enumerate(splits):
            model = _regressor(calibration).fit(x[train].ravel() if calibration == "isotonic" else
                                           x[train], y[train])
            prediction[test] = model.predict(x[test].ravel() if calibration == "isotonic" else x[test])
            fold[test] = k
        parts.append(group[["stimulus_id", "measure", "estimate", "rating"]].assign(
            fold=fold, prediction=prediction))
    columns = ["stimulus_id", "measure", "fold", "estimate", "rating", "prediction"]
    return pd.concat(parts, ignore_index=True)[columns]


def _r2(y, prediction, axis=-1):
    resid = ((y - prediction) ** 2).sum(axis=axis)
    total = ((y - y.mean(axis=axis, keepdims=True)) ** 2).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1 - resid / total


def score_calibration(predictions, *, n_boot=N_BOOT, ci=CI, random_state=RANDOM_STATE):
    """Held-out R² and RMSE of each measure's calibration, with bootstrap intervals.

    Parameters
    ----------
    predictions : pandas.DataFrame
        From :func:`calibrate_predictions`.
    n_boot, ci, random_state
        As in :func:`probing.stats.bootstrap_ci` (resampling sentences).

    Returns
    -------
    pandas.DataFrame
        ``measure, metric, value, ci_low, ci_high, n`` with ``metric`` ``calibrated_r2``
        (out-of-fold R², 1 - SSE/SST on all sentences) and ``calibrated_rmse`` (rating
        units).
    """
    rows = []
    for measure, group in predictions.groupby("measure", sort=False):
        y, p = group["rating"].to_numpy(float), group["prediction"].to_numpy(float)
        index = np.arange(len(y), dtype=float)
        metrics = {"calibrated_r2": lambda i, axis=-1, y=y, p=p: _r2(y[i.astype(int)],
                                                                     p[i.astype(int)]),
                   "calibrated_rmse": lambda i, axis=-1, y=y, p=p: np.sqrt(
                       ((y[i.astype(int)] - p[i.astype(int)]) ** 2).mean(axis=-1))}
        for name, func in metrics.items():
            boot = bootstrap_ci(index, statistic=func, n_boot=n_boot, ci=ci,
                                random_state=random_state)
            value = float(func(index.astype(int).astype(float)))
            rows.append((measure, name, value, boot.ci_low, boot.ci_high, len(y)))
    return pd.DataFrame(rows, columns=["measure", "metric", "estimate", "ci_low", "ci_high", "n"])
