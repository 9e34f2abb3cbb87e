"""Correlations of model measures with human ratings, and tests between them.

Intervals resample sentences (pairs of measure and rating) with replacement through
:func:`probing.stats.bootstrap_ci`. Two measures scored on the same sentences share the
human ratings, so their correlations with the ratings are dependent; Williams' t
(Williams, 1959; Steiger, 1980, eq. 14, the test Steiger recommends) compares them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from probing._core.defaults import CI, N_BOOT, RANDOM_STATE
from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing.stats import bootstrap_ci

__all__ = ["CORRELATION_COLUMNS", "METHODS", "compare_correlations", "correlate", "williams_test"]

METHODS = ("pearson", "spearman")
CORRELATION_COLUMNS = ["measure", "metric", "estimate", "ci_low", "ci_high", "n"]


def _pair(x, y, what):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ProbingError(f"{what}: needs two 1-D arrays of one length; got {x.shape}, {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ProbingError(f"{what}: values must be finite (no NaN or inf)")
    if len(x) < 4:
        raise ProbingError(f"{what}: needs at least 4 sentences; got {len(x)}")
    return x, y


def _rank(values):
    return sps.rankdata(values, axis=-1)


def _pearson_rows(x, y):
    """Pearson r along the last axis (rows of resamples)."""
    x = x - x.mean(axis=-1, keepdims=True)
    y = y - y.mean(axis=-1, keepdims=True)
    denom = np.sqrt((x * x).sum(axis=-1) * (y * y).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (x * y).sum(axis=-1) / denom


def _correlation(x, y, method):
    if method == "spearman":
        return _pearson_rows(_rank(x), _rank(y))
    return _pearson_rows(x, y)


@renamed(methods="metrics")
def correlate(table, *, ratings, metrics=METHODS, n_boot=N_BOOT, ci=CI,
              random_state=RANDOM_STATE):
    """Correlation of each measure with the human ratings, with bootstrap intervals.

    Parameters
    ----------
    table : pandas.DataFrame
        Long table ``stimulus_id, measure, value`` (from
        :func:`~probing.alignment.build_acceptability`).
    ratings : pandas.DataFrame
        ``stimulus_id, rating`` (mean human rating per sentence).
    metrics : sequence of {"pearson", "spearman"}
        The correlations to compute (the table's ``metric`` column).
    n_boot : int, default ``N_BOOT`` = 2,000
        Default from ``probing._core.defaults`` (stable 95% percentile end points).
    ci : float, default 0.95
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).

    Returns
    -------
    pandas.DataFrame
        ``measure, metric, value, ci_low, ci_high, n``: one row per measure and metric;
        ``estimate`` is the correlation on all sentences; the interval is the percentile
        bootstrap over sentences (same resamples for every measure under one seed).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> human = pd.DataFrame({"stimulus_id": range(50), "rating": rng.normal(size=50)})
    >>> table = pd.DataFrame({"stimulus_id": range(50), "measure": "LP",
    ...                       "estimate": human["rating"] + rng.normal(size=50)})
    >>> out = correlate(table, ratings=human, n_boot=500, random_state=0)
    >>> out[["measure", "metric", "n"]].values.tolist()
    [['LP', 'pearson', 50], ['LP', 'spearman', 50]]
    >>> bool((out["ci_low"] < out["estimate"]).all() and (out["estimate"] < out["ci_high"]).all())
    True
    """
    bad = [m for m in metrics if m not in METHODS]
    if bad:
        raise ProbingError(f"correlate: metrics {bad} unknown; allowed {list(METHODS)}")
    merged = table.merge(ratings[["stimulus_id", "rating"]], on="stimulus_id", how="inner",
                         validate="many_to_one")
    rows = []
    for measure, group in merged.groupby("measure", sort=False):
        x, y = _pair(group["estimate"], group["rating"], f"correlate ({measure})")
        for method in metrics:
            def statistic(index, axis=-1, x=x, y=y, method=method):
                index = np.asarray(index, dtype=np.int64)
                return _correlation(x[index], y[index], method)

            seed = np.random.default_rng(random_state) if not isinstance(
                random_state, np.random.Generator) else random_state
            boot = bootstrap_ci(np.arange(len(x), dtype=float), statistic=statistic,
                                n_boot=n_boot, ci=ci, random_state=seed)
            value = float(_correlation(x, y, method))
            rows.append((measure, method, value, boot.ci_low, boot.ci_high, len(x)))
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS)


def williams_test(r12, r13, r23, n):
    """Williams' t for ``r12 - r13``: two correlations that share variable 1.

    Parameters
    ----------
    r12, r13 : float
        Correlations of variable 1 (human ratings) with variables 2 and 3 (two measures).
    r23 : float
        Correlation of the two measures with each other.
    n : int
        Number of sentences (> 3).

    Returns
    -------
    tuple of float
        ``(t, p_val)``: the statistic (``n - 3`` degrees of freedom) and its two-sided p.

    Examples
    --------
    >>> t, p = williams_test(0.5, 0.3, 0.6, 100)
    >>> round(t, 3), round(p, 4)
    (2.53, 0.013)
    """
    if n <= 3:
        raise ProbingError(f"williams_test: n must be > 3; got {n}")
    det = 1 - r12**2 - r13**2 - r23**2 + 2 * r12 * r13 * r23
    mean = (r12 + r13) / 2
    t = (r12 - r13) * np.sqrt((n - 1) * (1 + r23) / (
        2 * (n - 1) / (n - 3) * det + mean**2 * (1 - r23) ** 3))
    return float(t), float(2 * sps.t.sf(abs(t), n - 3))


@renamed(method="comparison")
def compare_correlations(first, second, ratings, *, comparison="pearson"):
    """Test whether two measures correlate differently with the same ratings.

    Parameters
    ----------
    first, second, ratings : array_like of shape (n,)
        Two measures and the human ratings, on the same sentences in the same order.
    comparison : {"pearson", "spearman"}
        Spearman applies Williams' t to the rank correlations (an approximation).

    Returns
    -------
    pandas.DataFrame
        One row: ``metric`` (the correlation), ``r_first, r_second, r_between, value`` (``r_first -
        r_second``), ``stat`` (Williams' t), ``df``, ``p_val``, ``n``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> human = rng.normal(size=200)
    >>> good, poor = human + rng.normal(size=200), human + 3 * rng.normal(size=200)
    >>> row = compare_correlations(good, poor, human).iloc[0]
    >>> bool(row["estimate"] > 0 and row["p_val"] < 0.01)
    True
    """
    if comparison not in METHODS:
        raise ProbingError(f"compare_correlations: comparison {comparison!r}; allowed {list(METHODS)}")
    a, y = _pair(first, ratings, "compare_correlations")
    b, _ = _pair(second, ratings, "compare_correlations")
    r12, r13, r23 = (float(_correlation(u, v, comparison)) for u, v in ((y, a), (y, b), (a, b)))
    t, p = williams_test(r12, r13, r23, len(y))
    return pd.DataFrame([{"metric": comparison, "r_first": r12, "r_second": r13, "r_between": r23,
                          "estimate": r12 - r13, "stat": t, "df": len(y) - 3, "p_val": p,
                          "n": len(y)}])
