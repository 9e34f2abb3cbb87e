"""Split-half reliability of a selection, and measurements on held-out data.

Selecting units and measuring them on the same stimuli inflates the measured effect
(double dipping; Kriegeskorte et al. 2009). The localizer therefore selects on one half
(one run of the fMRI localizer) and measures on the other. The agreement of the two
halves' selections is their Dice coefficient, on units and on distinct coordinates,
tested by permutation (:mod:`probing.localize.overlap`: labels shuffled within each
half, the whole selection recomputed). Without a permutation null the table gives the
expectation for two uniformly random selections, ``2 k1 k2 / (N (k1 + k2))``, and no
p-value: the hypergeometric p assumes independent units, which residual-stream units
repeated across layers are not, and is not calibrated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.localize.overlap import (
    compute_coordinate_dice,
    compute_dice,
    overlap_pvalue,
    select_coordinates,
)

__all__ = ["RELIABILITY_COLUMNS", "build_reliability", "compute_dice", "expected_dice"]

RELIABILITY_COLUMNS = ("selected_on", "measured_on", "metric", "estimate", "expected", "p_val",
                       "n_perm", "n_selected", "n_units")


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


def _dice_rows(name_a, name_b, a, b, null):
    sel_a, sel_b = a["selected"].to_numpy(bool), b["selected"].to_numpy(bool)
    rows = [("dice", compute_dice(sel_a, sel_b),
             expected_dice(int(sel_a.sum()), int(sel_b.sum()), sel_a.size),
             int(sel_a.sum()), sel_a.size)]
    if {"site", "unit"} <= set(a.columns):
        n_coords = len(select_coordinates(a, np.ones(len(a), bool)))
        rows.append(("dice_coordinates", compute_coordinate_dice(a, sel_a, sel_b), float("nan"),
                     len(select_coordinates(a, sel_a)), n_coords))
    out = []
    for metric, value, expected, n_selected, n_units in rows:
        p_val, n_perm = float("nan"), 0
        if null is not None:
            # a shuffle where neither half selects anything has no overlap: Dice 0
            values = np.nan_to_num(null.loc[null["metric"] == metric, "estimate"].to_numpy(float))
            expected, p_val, n_perm = float(values.mean()), overlap_pvalue(value, values), len(values)
        out.append((name_a, name_b, metric, value, expected, p_val, n_perm, n_selected, n_units))
    return out


def build_reliability(halves, *, null=None):
    """Dice between two halves' selections and each selection measured on the other half.

    Parameters
    ----------
    halves : dict of str to pandas.DataFrame
        Exactly two entries, each a :func:`~probing.localize.localize_units` table of the
        same units computed on one half of the stimuli.
    null : pandas.DataFrame, optional
        :func:`~probing.localize.build_overlap_null` of the same selection.

    Returns
    -------
    pandas.DataFrame
        :data:`RELIABILITY_COLUMNS`. Metrics ``dice`` (units) and ``dice_coordinates``
        (distinct ``(site, unit)`` coordinates; when the tables have those columns):
        with ``null``, ``expected`` is the mean Dice over the label shuffles and
        ``p_val`` the permutation p of an overlap at least as large (``n_perm``
        shuffles); without it, ``expected`` is the Dice of two uniformly random unit
        selections of the same sizes (NaN for coordinates) and ``p_val`` is NaN.
        ``n_selected`` and ``n_units`` count coordinates in the coordinate row. Then for
        each direction ``held_out_stat``, ``held_out_effect`` and ``held_out_cohens_d``:
        the mean t statistic, effect and Cohen's d, in the measuring half, of the units selected
        on the other (``expected``: the mean over all units, what a random selection
        gives on average).

    Examples
    --------
    >>> a = pd.DataFrame({"stat": [5.0, 1.0, 0.0], "estimate": [2.0, 0.5, 0.0],
    ...                   "selected": [True, False, False]})
    >>> b = a.assign(stat=[4.0, 0.0, 1.0], selected=[True, False, False])
    >>> build_reliability({"run1": a, "run2": b})[["metric", "estimate", "expected"]].values[0].tolist()
    ['dice', 1.0, 0.3333333333333333]
    """
    if len(halves) != 2:
        raise ProbingError(f"reliability needs exactly two halves; got {len(halves)}")
    (name_a, a), (name_b, b) = halves.items()
    if len(a) != len(b):
        raise ProbingError(f"the halves have {len(a)} and {len(b)} units")
    sel_a, sel_b = a["selected"].to_numpy(bool), b["selected"].to_numpy(bool)
    rows = _dice_rows(name_a, name_b, a, b, null)
    for (on, sel), (measured, other) in (((name_a, sel_a), (name_b, b)),
                                         ((name_b, sel_b), (name_a, a))):
        for metric, column in (("held_out_stat", "stat"), ("held_out_effect", "estimate"),
                               ("held_out_cohens_d", "cohens_d")):
            if column not in other:
                continue
            values = other[column].to_numpy(float)
            value = float(np.nanmean(values[sel])) if sel.any() else float("nan")
            rows.append((on, measured, metric, value, float(np.nanmean(values)), float("nan"),
                         0, int(sel.sum()), sel.size))
    return pd.DataFrame(rows, columns=list(RELIABILITY_COLUMNS))
