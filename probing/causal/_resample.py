"""Item (cluster) bootstrap of many ratio-of-sums statistics at once, with the same draws.

Why not :func:`probing.stats.bootstrap_ci` alone: it computes one statistic per call,
while a patching sweep has thousands of cells (layer x position x head x site) whose
intervals must share the same resamples (so that they are paired across cells) and
must be computed in one vectorised pass; each cell's statistic is a ratio of sums over
the drawn items (a mean: effect over the number of valid pairs; a restored fraction:
restored difference over the clean-corrupted difference), so resampled sums are one
matrix product of draw counts and per-group sums. The intervals are percentile
intervals like :func:`~probing.stats.bootstrap_ci`'s default, which the tests check
against it on single cells.
"""

from __future__ import annotations

import numpy as np

# Cells per chunk are capped so that a chunk of resampled statistics holds at most
# this many values; the result does not depend on the chunking.
_MAX_CHUNK_VALUES = 2**22


def draw_group_counts(n_groups, n_boot, random_state):
    """How often each group is drawn in each resample: shape ``(n_boot, n_groups)``."""
    rng = np.random.default_rng(random_state)
    draws = rng.integers(0, n_groups, size=(n_boot, n_groups))
    offsets = np.arange(n_boot)[:, None] * n_groups
    counts = np.bincount((draws + offsets).ravel(), minlength=n_boot * n_groups)
    return counts.reshape(n_boot, n_groups).astype(float)


def group_sums(values, codes, n_groups):
    """Per-group sums along the first axis: ``(n, *cells)`` -> ``(n_groups, *cells)``."""
    values = np.asarray(values, dtype=float)
    # One product with the group indicator matrix: far faster than np.add.at on wide arrays.
    indicator = (codes[None, :] == np.arange(n_groups)[:, None]).astype(float)
    return (indicator @ values.reshape(len(values), -1)).reshape(n_groups, *values.shape[1:])


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


def ratio_intervals(num, den, counts, ci):
    """Estimate and percentile interval of ``sum(num) / sum(den)`` under group resampling.

    Parameters
    ----------
    num, den : numpy.ndarray of shape (n_groups, n_cells)
        Per-group sums of the numerator and denominator of each cell's statistic.
    counts : numpy.ndarray of shape (n_boot, n_groups)
        From :func:`draw_group_counts`.
    ci : float

    Returns
    -------
    estimate, ci_low, ci_high : numpy.ndarray of shape (n_cells,)
        NaN where the denominator is 0 (for the interval: where it is 0 in every
        resample); resamples with a zero denominator are left out of the interval.
    """
    num, den = np.asarray(num, float), np.asarray(den, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.where(den.sum(0) != 0, num.sum(0) / np.where(den.sum(0) != 0,
                                                                    den.sum(0), 1), np.nan)
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
