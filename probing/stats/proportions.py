"""Confidence intervals of a binomial proportion (``statsmodels`` ``proportion_confint``).

A percentile bootstrap of 0/1 outcomes undercovers at small ``n`` and extreme
proportions (coverage 0.853 at n 20, p 0.9) and collapses to ``[1, 1]`` when every
outcome is a success; Wilson's score interval keeps close to the nominal coverage
there and Clopper-Pearson's exact interval never falls below it (docs/statistics.md
has the exact coverages).
"""

from __future__ import annotations

import numbers

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from probing._core.defaults import CI
from probing._core.deprecation import renamed
from probing._core.errors import ProbingError

__all__ = ["PROPORTION_METHODS", "clustered_proportion_ci", "proportion_ci"]

#: Accepted ``method`` names, mapped to statsmodels' names.
PROPORTION_METHODS = {"wilson": "wilson", "clopper_pearson": "beta"}


@renamed(method="interval")
def proportion_ci(successes, n, *, ci=CI, interval="wilson"):
    """Confidence interval of a proportion ``successes / n``.

    Parameters
    ----------
    successes : float
        Number of successes, ``0 <= successes <= n`` (a half-credit tie may make it a
        half-integer; the interval is then that of the fractional proportion).
    n : int
        Number of independent trials; 0 gives NaN.
    ci : float, default 0.95
        Confidence level.
    interval : {"wilson", "clopper_pearson"}, default "wilson"
        Wilson's score interval (near-nominal coverage) or the exact Clopper-Pearson
        interval (coverage never below ``ci``; wider).

    Returns
    -------
    tuple of float
        ``(ci_low, ci_high)``.

    Examples
    --------
    >>> [round(v, 3) for v in proportion_ci(8, 8)]
    [0.676, 1.0]
    >>> [round(v, 3) for v in proportion_ci(1, 1)]
    [0.207, 1.0]
    """
    if interval not in PROPORTION_METHODS:
        raise ProbingError(f"proportion_ci: interval must be one of {list(PROPORTION_METHODS)}, "
                           f"got {interval!r}")
    if not 0 < ci < 1:
        raise ProbingError(f"proportion_ci: ci must lie in (0, 1), got {ci!r}")
    for name, value in (("successes", successes), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(
                value):
            raise ProbingError(f"proportion_ci: {name} must be a finite number, got {value!r}")
    if n < 0 or not 0 <= successes <= n:
        raise ProbingError(f"proportion_ci: need 0 <= successes <= n, got {successes}, {n}")
    if n == 0:
        return float("nan"), float("nan")
    low, high = proportion_confint(successes, n, alpha=1 - ci, method=PROPORTION_METHODS[interval])
    return float(low), float(high)


def clustered_proportion_ci(scores, clusters, *, ci=CI, interval="wilson"):
    """Interval of a proportion whose trials come in clusters (pairs sharing an item).

    The interval of :func:`proportion_ci` on the effective number of trials (Kish's
    design effect): ``n_eff = p (1 - p) / V``, with ``V`` the cluster-robust variance of
    the pooled proportion (items as the units, the ``n / (n - 1)`` small-sample factor
    of :func:`probing.stats.item_intervals`), at most ``n``. With every score 0 or every
    score 1 there is no variance to estimate and ``n_eff`` is the number of clusters,
    as if each item were one trial. Pairs of one item share its preference, so counting
    them as independent trials made the interval too narrow.

    Parameters
    ----------
    scores : array_like of shape (n,)
        Per-trial scores in ``[0, 1]`` (1 correct, 0 wrong, 0.5 a tie scored half).
    clusters : array_like of shape (n,)
        Cluster (item) of each trial.
    ci, interval
        As in :func:`proportion_ci`.

    Returns
    -------
    tuple of float
        ``(ci_low, ci_high)`` of the pooled proportion.

    Examples
    --------
    >>> scores = [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]   # three items of four pairs
    >>> [round(v, 3) for v in clustered_proportion_ci(scores, np.repeat([0, 1, 2], 4))]
    [0.159, 0.955]
    >>> [round(v, 3) for v in proportion_ci(8, 12)]        # as if 12 independent pairs
    [0.391, 0.862]
    """
    scores = np.asarray(scores, dtype=float)
    codes = np.unique(np.asarray(clusters, dtype=object).astype(str), return_inverse=True)[1]
    if scores.shape != codes.shape or scores.ndim != 1:
        raise ProbingError(f"clustered_proportion_ci: scores and clusters must be 1-D of one "
                           f"length, got {scores.shape} and {codes.shape}")
    n, n_clusters = scores.size, int(codes.max()) + 1 if scores.size else 0
    if n == 0:
        return float("nan"), float("nan")
    p = scores.mean()
    residual = np.bincount(codes, weights=scores - p)
    variance = (n_clusters / max(n_clusters - 1, 1)) * np.sum(residual**2) / n**2
    n_eff = float(n_clusters) if variance == 0 else min(float(n), p * (1 - p) / variance)
    n_eff = max(n_eff, 1.0)
    return proportion_ci(p * n_eff, n_eff, ci=ci, interval=interval)
