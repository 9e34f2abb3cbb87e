"""Two proportions: paired (McNemar) and independent (Newcombe interval, score test).

Both wrap ``statsmodels``: :func:`mcnemar_test` compares two judgements of the same
items; :func:`compare_proportions` compares accuracies on two different item sets.
"""

from __future__ import annotations

import warnings

import numpy as np
from statsmodels.stats import proportion as sm_proportion
from statsmodels.stats.contingency_tables import mcnemar

from probing._core.errors import ProbingError

__all__ = ["EXACT_BELOW", "compare_proportions", "mcnemar_test"]

#: McNemar is exact (binomial on the discordant pairs) when they number fewer than this;
#: the chi-square approximation with continuity correction is good from about 25 on.
EXACT_BELOW = 25


def mcnemar_test(a, b):
    """McNemar's test that two 0/1 judgements of the same items are right equally often.

    Parameters
    ----------
    a, b : array-like of shape (n_items,)
        1 where each method is right, 0 where wrong (same items, same order).

    Returns
    -------
    dict
        ``stat`` (chi-square with continuity correction, or the smaller discordant count
        when exact), ``p_val``, ``exact`` (bool), ``n_a_only`` (a right, b wrong),
        ``n_b_only``, ``n``.

    Examples
    --------
    >>> out = mcnemar_test([1, 1, 1, 0, 1], [0, 0, 1, 0, 1])
    >>> out["exact"], out["n_a_only"], out["n_b_only"], round(out["p_val"], 3)
    (True, 2, 0, 0.5)
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ProbingError(f"mcnemar_test: a and b must be 1-D of one length, got {a.shape}, {b.shape}")
    if not (np.isin(a, (0, 1)).all() and np.isin(b, (0, 1)).all()):
        raise ProbingError("mcnemar_test: a and b must hold only 0 and 1")
    table = np.array([[np.sum((a == 1) & (b == 1)), np.sum((a == 1) & (b == 0))],
                      [np.sum((a == 0) & (b == 1)), np.sum((a == 0) & (b == 0))]])
    n_a_only, n_b_only = int(table[0, 1]), int(table[1, 0])
    if n_a_only + n_b_only == 0:  # no discordant pair: no evidence either way
        return {"stat": 0.0, "p_val": 1.0, "exact": True, "n_a_only": 0, "n_b_only": 0,
                "n": len(a)}
    exact = n_a_only + n_b_only < EXACT_BELOW
    result = mcnemar(table, exact=exact, correction=True)
    return {"stat": float(result.statistic), "p_val": float(result.pvalue), "exact": exact,
            "n_a_only": n_a_only, "n_b_only": n_b_only, "n": len(a)}


def compare_proportions(k1, n1, k2, n2, *, ci=0.95):
    """Difference of two independent proportions, its Newcombe interval and a score test.

    Parameters
    ----------
    k1, n1 : int
        Successes and trials of the first set.
    k2, n2 : int
        Of the second.
    ci : float, default 0.95

    Returns
    -------
    dict
        ``estimate`` (``k1/n1 - k2/n2``), ``ci_low``, ``ci_high`` (Newcombe's hybrid score
        interval from the two Wilson intervals, ``method="newcomb"``), ``stat`` (the
        pooled score z, ``method="score"`` without the ``n/(n-1)`` factor) and
        two-sided ``p_val``.

    Examples
    --------
    >>> out = compare_proportions(90, 100, 75, 100)
    >>> round(out["estimate"], 2), round(out["ci_low"], 3), round(out["ci_high"], 3)
    (0.15, 0.045, 0.253)
    """
    for name, value in (("n1", n1), ("n2", n2)):
        if value < 1:
            raise ProbingError(f"compare_proportions: {name} must be >= 1, got {value}")
    if not (0 <= k1 <= n1 and 0 <= k2 <= n2):
        raise ProbingError(f"compare_proportions: need 0 <= k <= n, got {k1}/{n1}, {k2}/{n2}")
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # statsmodels also computes ratios that divide by zero at 0% or 100% accuracy
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = sm_proportion.confint_proportions_2indep(k1, n1, k2, n2, method="newcomb",
                                               compare="diff", alpha=1 - ci)
        test = sm_proportion.test_proportions_2indep(k1, n1, k2, n2, value=0, method="score",
                                       compare="diff", alternative="two-sided",
                                       correction=False)
    stat = float(test.statistic)
    p_val = float(test.pvalue) if np.isfinite(stat) else 1.0  # both 0 or both 1: no difference
    return {"estimate": k1 / n1 - k2 / n2, "ci_low": float(low), "ci_high": float(high),
            "stat": stat if np.isfinite(stat) else 0.0, "p_val": p_val}
