"""Intervals over items: a t interval on item-level ratios, and the few-items warning.

Causal and alignment effects (patching, mediation, ablation) are ratios of sums over
items: a mean effect is the summed effect over the number of valid pairs, a restored
fraction the restored difference over the clean-corrupted difference. With the 8 to 24
pairs real studies have, a percentile item bootstrap of such a ratio undercovers (0.902
at 12 pairs, 0.877 at 8 items x 3 pairs; docs/statistics.md): it is too narrow by about
``sqrt((n - 1) / n)`` and uses normal instead of t quantiles. :func:`item_intervals`
gives, for many cells at once, the linearised (delta-method) standard error of the
ratio with items as clusters and a t quantile on ``n_items - 1`` degrees of freedom.
With one pair per item and a mean, that is exactly the one-sample t interval on the
items (scipy's ``ttest_1samp(...).confidence_interval``); with several pairs per item it
is the cluster-robust interval of the mean that statsmodels' OLS with
``cov_type="cluster"`` gives.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from probing._core.defaults import CI, ITEM_INTERVAL, MIN_ITEMS
from probing._core.errors import ProbingError

__all__ = ["ITEM_INTERVALS", "FewItemsWarning", "check_n_items", "item_intervals"]

#: Accepted ``interval`` values of :func:`item_intervals`.
ITEM_INTERVALS = ("t", "percentile")
# Cells per chunk are capped so that a chunk of resampled statistics holds at most this
# many values; the result does not depend on the chunking.
_MAX_CHUNK_VALUES = 2**22


class FewItemsWarning(UserWarning):
    """An interval or test rests on fewer items than :data:`MIN_ITEMS`."""


def check_n_items(n_items, what, *, minimum=MIN_ITEMS):
    """Warn when ``what`` rests on fewer than ``minimum`` items; return ``n_items``.

    Every table whose inference rests on items reports ``n_items``; below about 20 items
    the intervals depend on their small-sample corrections and the normal-theory ones
    are unreliable, so the reader is told once per table.

    Examples
    --------
    >>> check_n_items(30, "patching_effects")
    30
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = check_n_items(6, "fit_mixed_model")
    >>> str(caught[0].message)
    'fit_mixed_model: 6 items (< 20): intervals and tests rest on few items; see docs/statistics.md'
    """
    n_items = int(n_items)
    if n_items < minimum:
        warnings.warn(f"{what}: {n_items} items (< {minimum}): intervals and tests rest on few "
                      f"items; see docs/statistics.md", FewItemsWarning, stacklevel=3)
    return n_items


def _ratio(num, den):
    total_num, total_den = num.sum(0), den.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total_den != 0, total_num / np.where(total_den != 0, total_den, 1),
                        np.nan), total_den


def _t_interval(num, den, ci):
    estimate, total_den = _ratio(num, den)
    n = num.shape[0]
    if n < 2:
        return estimate, np.full_like(estimate, np.nan), np.full_like(estimate, np.nan)
    # Each item's contribution to the ratio's error: its numerator minus the ratio times
    # its denominator (the linearisation of sum(num) / sum(den)); the n / (n - 1) factor
    # is the small-sample correction of the cluster-robust variance (CR1).
    residual = num - np.where(np.isfinite(estimate), estimate, 0.0) * den
    with np.errstate(divide="ignore", invalid="ignore"):
        std_err = np.sqrt(n / (n - 1) * np.sum(residual**2, axis=0)) / np.abs(total_den)
    half = stats.t.ppf((1 + ci) / 2, n - 1) * std_err
    return estimate, estimate - half, estimate + half


def _percentiles(boot, q):
    """Percentiles per column, leaving out NaN (resamples with a zero denominator)."""
    out = np.full((len(q), boot.shape[1]), np.nan)
    finite = np.isfinite(boot).all(axis=0)
    if finite.any():  # np.percentile is vectorised; np.nanpercentile loops over columns
        out[:, finite] = np.percentile(boot[:, finite], q, axis=0)
    partial = ~finite & np.isfinite(boot).any(axis=0)
    if partial.any():
        out[:, partial] = np.nanpercentile(boot[:, partial], q, axis=0)
    return out


def _percentile_interval(num, den, counts, ci):
    estimate, _ = _ratio(num, den)
    n_cells = num.shape[1]
    low, high = np.full(n_cells, np.nan), np.full(n_cells, np.nan)
    if num.shape[0] < 2:
        return estimate, low, high
    step = max(1, _MAX_CHUNK_VALUES // max(1, counts.shape[0]))
    q = [100 * (1 - ci) / 2, 100 * (1 + ci) / 2]
    for start in range(0, n_cells, step):
        cells = slice(start, start + step)
        top, bottom = counts @ num[:, cells], counts @ den[:, cells]
        with np.errstate(divide="ignore", invalid="ignore"):
            boot = np.where(bottom != 0, top / np.where(bottom != 0, bottom, 1), np.nan)
        low[cells], high[cells] = _percentiles(boot, q)
    return estimate, low, high


def item_intervals(num, den, counts=None, ci=CI, *, interval=ITEM_INTERVAL, what="item_intervals"):
    """Estimate and interval of ``sum(num) / sum(den)`` over items, for many cells at once.

    Parameters
    ----------
    num, den : array_like of shape (n_items, n_cells)
        Per-item sums of each cell's numerator and denominator (for a mean: the item's
        summed values and its number of valid pairs).
    counts : array_like of shape (n_boot, n_items), optional
        How often each item is drawn in each resample; used by ``interval="percentile"``
        only (the same draws for every cell, so intervals are paired across cells).
    ci : float, default 0.95
    interval : {"t", "percentile"}, default ``ITEM_INTERVAL`` = "t"
        ``t``: the linearised cluster-robust standard error with a t quantile on
        ``n_items - 1`` degrees of freedom (the one-sample t interval on item means when
        each item has one pair); coverage 0.95 at 8 to 60 items in
        ``benchmarks/calibration.py``. ``percentile``: the percentile item bootstrap on
        ``counts``, which undercovers with few items (0.877-0.902 at 8-12).

    what : str, default "item_intervals"
        The analysis named in the ``FewItemsWarning`` given below 20 items.

    Returns
    -------
    estimate, ci_low, ci_high : numpy.ndarray of shape (n_cells,)
        NaN where the denominator sums to 0, and bounds NaN with fewer than two items.

    Examples
    --------
    >>> values = np.array([[1.0], [2.0], [4.0]])        # three items, one pair each
    >>> est, low, high = item_intervals(values, np.ones((3, 1)))
    >>> from scipy import stats
    >>> ref = stats.ttest_1samp(values[:, 0], 0.0).confidence_interval(0.95)
    >>> bool(np.isclose(low[0], ref.low) and np.isclose(high[0], ref.high))
    True
    """
    if interval not in ITEM_INTERVALS:
        raise ProbingError(f"item_intervals: interval must be one of {list(ITEM_INTERVALS)}, "
                           f"got {interval!r}")
    if not 0 < ci < 1:
        raise ProbingError(f"item_intervals: ci must lie in (0, 1), got {ci!r}")
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if num.ndim != 2 or num.shape != den.shape:
        raise ProbingError(f"item_intervals: num and den must be (n_items, n_cells) of one "
                           f"shape; got {num.shape} and {den.shape}")
    if num.shape[0] >= 2:
        check_n_items(num.shape[0], what)
    if interval == "t":
        return _t_interval(num, den, ci)
    if counts is None:
        raise ProbingError("item_intervals: interval='percentile' needs counts (the draws)")
    return _percentile_interval(num, den, np.asarray(counts, dtype=float), ci)
