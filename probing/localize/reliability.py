"""Split-half reliability of a selection, and measurements on held-out data.

Selecting units and measuring them on the same stimuli inflates the measured effect
(double dipping; Kriegeskorte et al. 2009). The localizer therefore selects on one half
(one run of the fMRI localizer) and measures on the other. The agreement of the two
halves' selections is their Dice coefficient, reported next to its expectation for two
random selections of the same sizes, ``2 k1 k2 / (N (k1 + k2))`` (the overlap of two
random sets is hypergeometric with mean ``k1 k2 / N``), and the hypergeometric p-value
of the observed overlap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from probing._core.errors import ProbingError

__all__ = ["RELIABILITY_COLUMNS", "build_reliability", "compute_dice", "expected_dice"]

RELIABILITY_COLUMNS = ("selected_on", "measured_on", "metric", "value", "expected", "p_val",
                       "n_selected", "n_units")


def compute_dice(a, b):
    """Dice coefficient ``2 |A & B| / (|A| + |B|)`` of two boolean selections (NaN if both empty).

    Examples
    --------
    >>> compute_dice([True, True, False, False], [True, False, True, False])
    0.5
    """
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    total = a.sum() + b.sum()
    return float(2 * (a & b).sum() / total) if total else float("nan")


def expected_dice(k1, k2, n):
    """Expected Dice of two independent uniformly random selections of ``k1`` and ``k2`` of ``n``.

    Examples
    --------
    >>> expected_dice(10, 10, 1000)
    0.01
    """
    if not 0 <= k1 <= n or not 0 <= k2 <= n or n < 1:
        raise ProbingError(f"need 0 <= k1, k2 <= n and n >= 1; got {k1}, {k2}, {n}")
    return float(2 * k1 * k2 / (n * (k1 + k2))) if k1 + k2 else float("nan")


def _overlap_pvalue(a, b):
    n, k1, k2, both = a.size, int(a.sum()), int(b.sum()), int((a & b).sum())
    return float(stats.hypergeom.sf(both - 1, n, k1, k2)) if k1 and k2 else float("nan")


def build_reliability(halves):
    """Dice between two halves' selections and each selection measured on the other half.

    Parameters
    ----------
    halves : dict of str to pandas.DataFrame
        Exactly two entries, each a :func:`~probing.localize.localize_units` table of the
        same units computed on one half of the stimuli.

    Returns
    -------
    pandas.DataFrame
        :data:`RELIABILITY_COLUMNS`. Metric ``dice`` (``expected``: two random
        selections of the same sizes; ``p_val``: hypergeometric, overlap at least as
        large), then for each direction ``held_out_stat`` and ``held_out_effect``: the
        mean t statistic and mean effect, in the measuring half, of the units selected
        on the other (``expected``: the mean over all units, what a random selection
        gives on average).

    Examples
    --------
    >>> a = pd.DataFrame({"stat": [5.0, 1.0, 0.0], "effect": [2.0, 0.5, 0.0],
    ...                   "selected": [True, False, False]})
    >>> b = a.assign(stat=[4.0, 0.0, 1.0], selected=[True, False, False])
    >>> build_reliability({"run1": a, "run2": b})[["metric", "value", "expected"]].values[0].tolist()
    ['dice', 1.0, 0.3333333333333333]
    """
    if len(halves) != 2:
        raise ProbingError(f"reliability needs exactly two halves; got {len(halves)}")
    (name_a, a), (name_b, b) = halves.items()
    if len(a) != len(b):
        raise ProbingError(f"the halves have {len(a)} and {len(b)} units")
    sel_a, sel_b = a["selected"].to_numpy(bool), b["selected"].to_numpy(bool)
    rows = [(name_a, name_b, "dice", compute_dice(sel_a, sel_b),
             expected_dice(int(sel_a.sum()), int(sel_b.sum()), sel_a.size),
             _overlap_pvalue(sel_a, sel_b), int(sel_a.sum()), sel_a.size)]
    for (on, sel), (measured, other) in (((name_a, sel_a), (name_b, b)),
                                         ((name_b, sel_b), (name_a, a))):
        for metric, column in (("held_out_stat", "stat"), ("held_out_effect", "effect")):
            values = other[column].to_numpy(float)
            value = float(np.nanmean(values[sel])) if sel.any() else float("nan")
            rows.append((on, measured, metric, value, float(np.nanmean(values)), float("nan"),
                         int(sel.sum()), sel.size))
    return pd.DataFrame(rows, columns=list(RELIABILITY_COLUMNS))
