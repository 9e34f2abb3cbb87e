"""Family-wise inference over many cells of item-level effects: the max-|t| sign-flip test.

A patching sweep tests hundreds of cells (layer x position x head) on the same items. A
per-cell 95% interval then misses somewhere on almost every sweep, and per-cell p-values
below 0.05 appear by chance. :func:`max_t_test` gives, for every cell at once:

- the per-cell (marginal) t statistic of the mean effect, with items as clusters: the
  statistic of :func:`~probing.stats.item_intervals`' t interval;
- a family-wise adjusted p-value (Westfall & Young 1993, the single-step max-T): the share
  of sign flips of the items whose largest |t| over *all* cells reaches the cell's |t|.
  Items, not pairs, are flipped: under the null each item's effects are symmetric about
  0 in every cell jointly, so the flips keep the correlation between cells (neighbouring
  layers share most of their signal) and the test needs no independence between them;
- simultaneous intervals: the estimate +- ``q`` standard errors, with ``q`` the ``ci``
  quantile of the largest |t| over cells under sign flips of the items' residuals (the
  wild cluster bootstrap with Rademacher weights) instead of the per-cell t quantile.
  Together they cover every cell's true effect with probability ``ci``.

With at most ``log2(n_perm)`` items every sign vector is enumerated and the adjusted
p-value is exact (a multiple of ``2**-n_items``); otherwise ``n_perm`` random sign vectors
give ``(b + 1) / (n_perm + 1)``. ``benchmarks/calibration.py`` (case ``sweep``) measures
the family-wise error rate and the simultaneous coverage at 8, 12 and 20 items.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats

from probing._core.defaults import CI, N_PERM, RANDOM_STATE
from probing._core.errors import ProbingError

__all__ = ["MaxTResult", "item_t_tests", "max_t_test"]

# Flips per chunk are capped so that a chunk of statistics holds at most this many values.
_MAX_CHUNK_VALUES = 2**22


@dataclasses.dataclass(frozen=True)
class MaxTResult:
    """Per-cell results of :func:`max_t_test`; every array has shape ``(n_cells,)``.

    Attributes
    ----------
    estimate, std_err, stat, df, p_val : numpy.ndarray
        ``sum(num) / sum(den)``, its cluster-robust standard error, ``estimate / std_err``,
        ``n_items - 1`` and the per-cell two-sided t-test p-value (not corrected).
    p_corr : numpy.ndarray
        The family-wise (max-|t|) adjusted p-value.
    ci_low, ci_high : numpy.ndarray
        Simultaneous interval at level ``ci`` over every cell.
    n_items : numpy.ndarray of int
        Items with a value in the cell (``den != 0``).
    quantile : float
        The max-|t| quantile the intervals use.
    n_perm : int
        Sign vectors behind ``p_corr`` and ``quantile``.
    exact : bool
        Every sign vector was enumerated.
    """

    estimate: np.ndarray
    std_err: np.ndarray
    stat: np.ndarray
    df: np.ndarray
    p_val: np.ndarray
    p_corr: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_items: np.ndarray
    quantile: float
    n_perm: int
    exact: bool


def _ratio_se(num, den, signs, n_items):
    """Ratio and its cluster-robust (CR1) standard error per cell under each sign vector.

    With weights ``w`` in {-1, 1}, the flipped numerator sums to ``w @ num`` and the
    squared residuals ``(w_i num_i - r den_i)^2`` sum to ``sum num^2 - 2 r w @ (num den) +
    r^2 sum den^2``: three matrix products, however many cells and flips.
    """
    total = den.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (signs @ num) / total
        squares = ((num**2).sum(0) - 2 * ratio * (signs @ (num * den))
                   + ratio**2 * (den**2).sum(0))
        std_err = np.sqrt(n_items / (n_items - 1) * np.clip(squares, 0, None)) / np.abs(total)
    return ratio, np.where(n_items >= 2, std_err, np.nan)


def _t_stats(num, den, signs, n_items):
    """t statistics per cell under each sign vector: ``(n_signs, n_cells)``; NaN without spread."""
    ratio, std_err = _ratio_se(num, den, signs, n_items)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std_err > 0, ratio / std_err, np.nan)


def _signs(n_items, n_perm, rng):
    if 2**n_items <= n_perm:
        codes = np.arange(2**n_items)[:, None] >> np.arange(n_items)[None, :]
        return (1 - 2 * (codes & 1)).astype(float), True
    return rng.choice([-1.0, 1.0], size=(n_perm, n_items)), False


def _max_abs(num, den, signs, n_items):
    step = max(1, _MAX_CHUNK_VALUES // max(1, num.shape[1]))
    out = np.empty(len(signs))
    for start in range(0, len(signs), step):
        t = np.abs(_t_stats(num, den, signs[start:start + step], n_items))
        # A cell undefined under a flip (no spread) cannot be the largest.
        out[start:start + step] = np.max(np.where(np.isnan(t), -np.inf, t), axis=1)
    return out


def _check(num, den, ci, n_perm):
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if num.ndim != 2 or num.shape != den.shape or num.shape[1] == 0:
        raise ProbingError(f"max_t_test: num and den must be (n_items, n_cells) of one shape "
                           f"with at least one cell; got {num.shape} and {den.shape}")
    if not (np.isfinite(num).all() and np.isfinite(den).all()):
        raise ProbingError("max_t_test: num and den must be finite (0 where an item lacks a cell)")
    if not 0 < ci < 1:
        raise ProbingError(f"max_t_test: ci must lie in (0, 1), got {ci!r}")
    if isinstance(n_perm, bool) or int(n_perm) != n_perm or n_perm < 1:
        raise ProbingError(f"max_t_test: n_perm must be a positive integer, got {n_perm!r}")
    return num, den


def max_t_test(num, den, *, ci=CI, n_perm=N_PERM, random_state=RANDOM_STATE):
    """Max-|t| family-wise p-values and simultaneous intervals of ``sum(num) / sum(den)``.

    Parameters
    ----------
    num, den : array_like of shape (n_items, n_cells)
        Per-item sums of each cell's values and their number of pairs (for a mean), as
        for :func:`~probing.stats.item_intervals`; 0 where an item has no pair in a cell.
        Items are the units that are flipped together.
    ci : float, default 0.95
        Simultaneous level of the intervals.
    n_perm : int, default 10,000
        Random sign vectors; every one of the ``2**n_items`` is used when that is fewer.
    random_state : int, numpy.random.Generator or None, default 0

    Returns
    -------
    MaxTResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> effects = rng.normal(size=(12, 30))          # 12 items, 30 cells, no effect
    >>> effects[:, 0] += 2.0                          # but in cell 0
    >>> result = max_t_test(effects, np.ones_like(effects))
    >>> result.exact, bool(result.p_corr[0] < 0.01), bool((result.p_corr[1:] > 0.05).all())
    (True, True, True)
    >>> bool(result.quantile > stats.t.ppf(0.975, 11))   # wider than per-cell intervals
    True
    """
    num, den = _check(num, den, ci, n_perm)
    cells = item_t_tests(num, den, ci=ci)
    rng = np.random.default_rng(random_state)
    signs, exact = _signs(num.shape[0], int(n_perm), rng)
    null_max = _max_abs(num, den, signs, cells.n_items)
    # A relative tolerance so that the identity flip (and flips equal to it up to rounding)
    # counts as reaching the observed value.
    # (sorted maxima: memory linear in cells + flips, however large the sweep)
    ordered = np.sort(null_max)
    count = len(ordered) - np.searchsorted(ordered, np.abs(cells.stat) * (1 - 1e-9), "left")
    p_corr = count / len(signs) if exact else (count + 1) / (len(signs) + 1)
    p_corr = np.where(np.isnan(cells.stat), np.nan, p_corr)
    residual = num - np.where(np.isfinite(cells.estimate), cells.estimate, 0.0) * den
    quantile = float(np.quantile(_max_abs(residual, den, signs, cells.n_items), ci,
                                 method="higher"))
    half = quantile * cells.std_err
    return dataclasses.replace(cells, p_corr=p_corr, ci_low=cells.estimate - half,
                               ci_high=cells.estimate + half, quantile=quantile,
                               n_perm=len(signs), exact=exact)


def item_t_tests(num, den, *, ci=CI):
    """Per-cell t tests and t intervals of ``sum(num) / sum(den)``, items as clusters.

    The marginal counterpart of :func:`max_t_test` (``p_corr`` NaN, ``quantile`` NaN,
    ``n_perm`` 0): each cell's ``n_items`` counts the items with a value in it, and its t
    reference has ``n_items - 1`` degrees of freedom. With every item in every cell the
    interval is :func:`~probing.stats.item_intervals`' t interval.

    Examples
    --------
    >>> values = np.array([[1.0, 0.0], [2.0, 1.0], [4.0, 0.0]])   # 3 items, 2 cells
    >>> cells = item_t_tests(values, np.ones_like(values))
    >>> ref = stats.ttest_1samp(values, 0.0)
    >>> bool(np.allclose(cells.stat, ref.statistic) and np.allclose(cells.p_val, ref.pvalue))
    True
    """
    num, den = _check(num, den, ci, 1)
    n_items = (den != 0).sum(0)
    if n_items.max() < 2:
        raise ProbingError(f"item_t_tests: need at least 2 items with a value in some cell, "
                           f"got {int(n_items.max())}")
    estimate, std_err = (a[0] for a in _ratio_se(num, den, np.ones((1, num.shape[0])), n_items))
    df = (n_items - 1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(std_err > 0, estimate / std_err, np.nan)
        p_val = np.where(n_items >= 2, 2 * stats.t.sf(np.abs(stat), np.maximum(df, 1)), np.nan)
        half = stats.t.ppf((1 + ci) / 2, np.maximum(df, 1)) * std_err
    nan = np.full(stat.shape, np.nan)
    return MaxTResult(estimate, std_err, stat, df, p_val, nan, estimate - half,
                      estimate + half, n_items, float("nan"), 0, False)
