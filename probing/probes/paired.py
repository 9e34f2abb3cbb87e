"""Bootstrap CIs over groups and paired tests between two sets of out-of-fold predictions.

Both resample or flip whole groups (items, or word types), never single rows, because
rows of a group are not independent: two members of a minimal pair, or two tokens of a
word, share most of their representation.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from probing._core.defaults import CI, N_BOOT, N_PERM, RANDOM_STATE
from probing._core.errors import ProbingError
from probing.stats import bootstrap_ci, permutation_pvalue

__all__ = ["PAIRED_COLUMNS", "group_bootstrap", "paired_test"]

#: Columns of :func:`paired_test`.
PAIRED_COLUMNS = ("a", "b", "metric", "estimate", "ci_low", "ci_high", "stat", "p_val",
                  "n_groups", "n_perm")
# Sign vectors are enumerated exactly (identity included) when there are at most this many.
_MAX_EXACT = 2**16


def _group_sums(frame, codes):
    """Per-group sums of each column of ``frame`` (rows are grouped by ``codes``)."""
    n_groups = codes.max() + 1
    return {name: np.bincount(codes, weights=np.asarray(col, dtype=float), minlength=n_groups)
            for name, col in frame.items()}


def _metric_of(sums, metric):
    """Pooled metric from per-group sums indexed by resampled groups (last axis)."""
    def statistic(picked, axis=-1):
        picked = np.asarray(picked).astype(np.intp)
        total = {name: values[picked].sum(axis=axis) for name, values in sums.items()}
        if metric == "accuracy":
            return total["correct"] / total["n"]
        sst = total["y2"] - total["y"] ** 2 / total["n"]
        return 1.0 - total["sse"] / sst
    return statistic


def _sums_of(predictions, codes):
    y_true = predictions["y_true"].to_numpy()
    if "correct" in predictions:
        frame = {"correct": predictions["correct"], "n": np.ones(len(predictions))}
        return "accuracy", _group_sums(frame, codes)
    y_true = y_true.astype(float)
    frame = {"sse": predictions["sq_error"], "y": y_true, "y2": y_true**2,
             "n": np.ones(len(predictions))}
    return "r2", _group_sums(frame, codes)


def group_bootstrap(predictions, *, n_boot=N_BOOT, ci=CI, random_state=RANDOM_STATE):
    """Pooled out-of-fold score of one set of predictions, with a CI over groups.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Rows of :func:`~probing.probes.predict_layers` for one layer, probe, task and
        seed: ``group, y_true`` and ``correct`` (classification) or ``sq_error``.
    n_boot : int, default ``N_BOOT`` = 2,000
        Default from ``probing._core.defaults`` (stable 95% percentile end points).
        Bootstrap resamples of whole groups.
    ci : float, default 0.95
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).

    Returns
    -------
    probing.stats.BootstrapCI
        Estimate (pooled accuracy, or R^2 against the pooled mean) and percentile CI.

    Examples
    --------
    >>> import pandas as pd
    >>> pred = pd.DataFrame({"group": [0, 0, 1, 1, 2, 2], "y_true": [1, 0, 1, 1, 0, 0],
    ...                      "correct": [1, 1, 0, 1, 1, 1]})
    >>> round(group_bootstrap(pred, n_boot=200).estimate, 3)
    0.833
    """
    codes = pd.factorize(predictions["group"])[0]
    metric, sums = _sums_of(predictions, codes)
    return bootstrap_ci(np.arange(codes.max() + 1), statistic=_metric_of(sums, metric),
                        n_boot=n_boot, ci=ci, random_state=random_state)


def paired_test(predictions_a, predictions_b, *, n_perm=N_PERM, n_boot=N_BOOT, ci=CI,
                random_state=RANDOM_STATE):
    """Difference between two probes, layers or models scored on the same rows and folds.

    The difference is ``a - b`` in pooled accuracy (or R^2). Its CI is a bootstrap over
    groups; its p-value comes from flipping the sign of each group's summed difference
    (a paired permutation test; groups are the exchangeable units). With at most
    ``log2(n_perm)`` groups every sign vector is enumerated; otherwise ``n_perm``
    random ones are drawn. Sign vectors that tie with the observed sum count one half
    (mid-p): group differences of 0/1 outcomes are small integers, and counting ties in
    full made the test conservative (false-positive rate 0.000 with 8 groups; 0.039
    with mid-p, 0.052 with 12 groups; docs/statistics.md). Never 0; 1 when no group
    differs at all.

    Parameters
    ----------
    predictions_a, predictions_b : pandas.DataFrame
        Rows of :func:`~probing.probes.predict_layers` for one layer (and probe, task,
        seed) each, over the same ``row`` values with the same ``fold`` per row.
    n_perm : int, default ``N_PERM`` = 10,000
        Default from ``probing._core.defaults`` (p down to 1e-4, so a corrected layer sweep can reach 0.05).
        Random sign flips (two-sided test).
    n_boot : int, default ``N_BOOT`` = 2,000
        Default from ``probing._core.defaults`` (stable 95% percentile end points).
    ci : float, default 0.95
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).

    Returns
    -------
    pandas.DataFrame
        One row: ``a, b`` (what was compared), ``metric`` (``accuracy`` or ``r2``),
        ``estimate`` (a - b), ``ci_low, ci_high``, ``stat`` (summed per-row difference),
        ``p_val``, ``n_groups``, ``n_perm``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rows = np.arange(40)
    >>> a = pd.DataFrame({"layer": 1, "row": rows, "fold": rows % 4, "group": rows // 2,
    ...                   "y_true": 1, "correct": 1})
    >>> b = a.assign(layer=0, correct=(rows % 3 == 0).astype(int))
    >>> res = paired_test(a, b, n_perm=999)
    >>> round(float(res.estimate[0]), 3), bool(res.p_val[0] < 0.01)
    (0.65, True)
    """
    a, b = _align(predictions_a, predictions_b)
    codes = pd.factorize(a["group"])[0]
    metric, sums_a = _sums_of(a, codes)
    _, sums_b = _sums_of(b, codes)
    key = "correct" if metric == "accuracy" else "sse"
    sign = 1.0 if metric == "accuracy" else -1.0  # lower error is better
    diff = sign * (sums_a[key] - sums_b[key])
    boot = bootstrap_ci(np.arange(codes.max() + 1), statistic=_diff_statistic(sums_a, sums_b,
                        metric), n_boot=n_boot, ci=ci, random_state=random_state)
    null, exact = _sign_flips(diff, n_perm, random_state)
    p_val = permutation_pvalue(diff.sum(), null, alternative="two-sided", exact=exact,
                               ties="mid")
    if not np.any(diff):
        p_val = 1.0  # no group differs: every sign vector ties, and there is nothing to test
    return pd.DataFrame([{
        "a": _describe(a), "b": _describe(b), "metric": metric, "estimate": boot.estimate,
        "ci_low": boot.ci_low, "ci_high": boot.ci_high, "stat": float(diff.sum()),
        "p_val": p_val, "n_groups": int(codes.max() + 1), "n_perm": len(null),
    }], columns=list(PAIRED_COLUMNS))


def _diff_statistic(sums_a, sums_b, metric):
    stat_a, stat_b = _metric_of(sums_a, metric), _metric_of(sums_b, metric)
    return lambda picked, axis=-1: stat_a(picked, axis) - stat_b(picked, axis)


def _sign_flips(diff, n_perm, random_state):
    """Null of ``sum(s * diff)`` over sign vectors ``s``; exact when few groups."""
    if 2 ** diff.size <= min(n_perm, _MAX_EXACT):
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=diff.size)))
        return signs @ diff, True
    rng = np.random.default_rng(random_state)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(int(n_perm), diff.size))
    return signs @ diff, False


def _align(a, b):
    for name, frame in (("predictions_a", a), ("predictions_b", b)):
        missing = {"row", "fold", "group", "y_true"} - set(frame)
        if missing or not ({"correct", "sq_error"} & set(frame)):
            raise ProbingError(f"paired_test: {name} must be rows of predict_layers (row, "
                               f"fold, group, y_true, correct or sq_error); missing "
                               f"{sorted(missing) or ['correct/sq_error']}")
        if frame["row"].duplicated().any():
            raise ProbingError(f"paired_test: {name} repeats rows; select one layer, probe, "
                               f"task and seed first")
    a, b = a.sort_values("row"), b.sort_values("row")
    if not np.array_equal(a["row"].to_numpy(), b["row"].to_numpy()):
        raise ProbingError("paired_test: predictions_a and predictions_b must cover the same rows")
    if not np.array_equal(a["fold"].to_numpy(), b["fold"].to_numpy()):
        raise ProbingError("paired_test: predictions_a and predictions_b must use the same "
                           "folds (build them once with build_folds and pass cv=folds)")
    if ("correct" in a) != ("correct" in b):
        raise ProbingError("paired_test: cannot compare a classifier with a regressor")
    return a.reset_index(drop=True), b.reset_index(drop=True)


def _describe(frame):
    parts = [f"{name}={frame[name].iloc[0]}" for name in ("model", "layer", "probe", "task", "seed")
             if name in frame and frame[name].nunique(dropna=False) == 1
             and not pd.isna(frame[name].iloc[0])]
    return ", ".join(parts)
