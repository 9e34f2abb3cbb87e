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

from probing.stats import item_intervals


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


def ratio_intervals(num, den, counts, ci):
    """Percentile item-bootstrap interval of ``sum(num) / sum(den)`` per cell.

    :func:`probing.stats.item_intervals` with ``interval="percentile"``; the analyses
    default to its t interval, which keeps its coverage with few items.
    """
    return item_intervals(num, den, counts, ci, interval="percentile")
