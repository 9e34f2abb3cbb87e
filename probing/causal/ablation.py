"""Ablation of a unit set against random sets matched in size and layers.

The model adapter runs three kinds of forward pass over the same items: the plain run
(``baseline``), the run with the given unit set ablated (``ablated``), and one run per
random set from :func:`~probing.causal.sample_matched_units` (``null_ablated``). The
read-out is any behavioural measure per item (a log-probability difference, a 0/1
correct score). The effect of a set is ``mean(ablated - baseline)`` over items.

The p-value compares the given set's effect with the effects of the random sets on the
same items (:func:`probing.stats.permutation_pvalue`: ``(b + 1) / (n_sets + 1)``, never
0): it asks whether these units matter more than as many units drawn at random from
the same layers and sites. Intervals resample items; p-values are corrected across
phenomena (Holm by default).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from probing._core.defaults import CI, N_BOOT, RANDOM_STATE
from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing.causal._checks import (
    as_array,
    check_choice,
    check_options,
    group_codes,
    same_length,
)
from probing.causal._resample import draw_group_counts, group_sums
from probing.stats import (
    CORRECTIONS,
    FewItemsWarning,
    check_n_items,
    correct_pvalues,
    correction_label,
    item_intervals,
    permutation_pvalue,
)
from probing.stats.permutation import ALTERNATIVES

__all__ = ["ABLATION_COLUMNS", "ablation_test", "compare_to_null"]

#: Columns of :func:`ablation_test`.
ABLATION_COLUMNS = ("phenomenon", "unit_set", "metric", "estimate", "ci_low", "ci_high",
                    "p_val", "p_corr", "correction", "n", "n_items", "n_sets")


def _item_interval(change, codes, counts, ci):
    n_groups = counts.shape[1]
    with warnings.catch_warnings():  # compare_to_null warns once, naming itself
        warnings.simplefilter("ignore", FewItemsWarning)
        est, low, high = item_intervals(group_sums(change[:, None], codes, n_groups),
                                         group_sums(np.ones((change.size, 1)), codes,
                                                    n_groups), counts, ci)
    return est[0], low[0], high[0]


def compare_to_null(effect_items, null_items, *, groups=None, alternative="two-sided",
                    n_boot=N_BOOT, ci=CI, random_state=RANDOM_STATE):
    """Effect of one intervention against the same intervention on random controls.

    Parameters
    ----------
    effect_items : array_like of shape (n_items,)
        Per-item change under the intervention (e.g. ``ablated - baseline``).
    null_items : array_like of shape (n_sets, n_items)
        Per-item change under each random control (random unit sets, random directions).
    groups : array_like of shape (n_items,), optional
        ``item_id`` of each item; whole items are resampled for the intervals.
    alternative : {"two-sided", "greater", "less"}, default "two-sided"
    n_boot, ci, random_state
        Item bootstrap of the intervals.

    Returns
    -------
    pandas.DataFrame
        Two rows, ``unit_set`` = ``given`` and ``random``: ``estimate`` (mean change over
        items; for ``random`` also over sets), ``ci_low, ci_high`` (item bootstrap),
        ``p_val`` (given row: the given effect against the ``n_sets`` random effects;
        NaN on the random row), ``n`` (rows), ``n_items`` (items the intervals rest on;
        fewer than 20 warn), ``n_sets``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> out = compare_to_null(np.full(30, -2.0) + rng.normal(0, .1, 30),
    ...                       rng.normal(0, .1, (99, 30)), n_boot=200)
    >>> out[["unit_set", "p_val"]]
      unit_set  p_val
    0    given   0.01
    1   random    NaN
    """
    func = "compare_to_null"
    check_choice(func, "alternative", alternative, ALTERNATIVES)
    check_options(func, n_boot=n_boot, ci=ci)
    effect_items = as_array(effect_items, "effect_items", func, ndim=1)
    null_items = as_array(null_items, "null_items", func, ndim=2)
    if null_items.shape[1] != effect_items.size or null_items.shape[0] == 0:
        raise ProbingError(f"{func}: null_items must be (n_sets, {effect_items.size}), got "
                           f"shape {null_items.shape}")
    if effect_items.size == 0:
        raise ProbingError(f"{func}: no items given")
    codes = group_codes(groups, effect_items.size, func)
    n_items = check_n_items(int(codes.max()) + 1, func)
    counts = draw_group_counts(n_items, int(n_boot), random_state)
    null_effects = null_items.mean(axis=1)
    rows = []
    for unit_set, change in (("given", effect_items), ("random", null_items.mean(axis=0))):
        est, low, high = _item_interval(change, codes, counts, ci)
        p_val = (permutation_pvalue(est, null_effects, alternative=alternative)
                 if unit_set == "given" else np.nan)
        rows.append({"unit_set": unit_set, "estimate": est, "ci_low": low, "ci_high": high,
                     "p_val": p_val, "n": effect_items.size, "n_items": n_items,
                     "n_sets": null_items.shape[0]})
    return pd.DataFrame(rows)


@renamed(baseline="unablated")
def ablation_test(unablated, ablated, null_ablated, *, phenomena=None, groups=None,
                  metric="logprob_diff", alternative="two-sided", correction="holm",
                  n_boot=N_BOOT, ci=CI, random_state=RANDOM_STATE):
    """Effect of ablating a unit set on each phenomenon, against matched random sets.

    Parameters
    ----------
    unablated : array_like of shape (n_items,)
        The measure on the plain run.
    ablated : array_like of shape (n_items,)
        The measure with the given unit set ablated.
    null_ablated : array_like of shape (n_sets, n_items)
        The measure with each random set (from ``sample_matched_units``) ablated.
    phenomena : array_like of shape (n_items,), optional
        Phenomenon of each item; one test per phenomenon, corrected across them.
        Default: one phenomenon, ``all``.
    groups : array_like of shape (n_items,), optional
        ``item_id`` of each item (whole items are resampled).
    metric : str, default "logprob_diff"
        Name of the measure, copied into the ``metric`` column.
    alternative : {"two-sided", "greater", "less"}, default "two-sided"
        ``less``: the set is expected to lower the measure more than random sets do.
    correction : {"holm", "bonferroni", "fdr_bh", "bh"}, default "holm"
    n_boot, ci, random_state
        Item bootstrap of the intervals (the same draws for each phenomenon).

    Returns
    -------
    pandas.DataFrame
        ``phenomenon, unit_set, metric, effect, ci_low, ci_high, p_val, p_corr,
        correction, n, n_items, n_sets``; per phenomenon a ``given`` and a ``random`` row.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> base = rng.normal(2, 1, 40)
    >>> table = ablation_test(base, base - 1.5, base + rng.normal(0, .2, (199, 40)),
    ...                       phenomena=np.repeat(["agreement", "npi"], 20), n_boot=200)
    >>> table[table.unit_set == "given"][["phenomenon", "estimate", "p_val", "p_corr"]]
      phenomenon  estimate  p_val  p_corr
    0  agreement      -1.5  0.005    0.01
    2        npi      -1.5  0.005    0.01
    """
    func = "ablation_test"
    check_choice(func, "correction", correction, CORRECTIONS)
    unablated = as_array(unablated, "unablated", func, ndim=1)
    ablated = as_array(ablated, "ablated", func, ndim=1)
    null_ablated = as_array(null_ablated, "null_ablated", func, ndim=2)
    same_length(func, unablated.size, ablated=ablated)
    if null_ablated.shape[1:] != unablated.shape:
        raise ProbingError(f"{func}: null_ablated must be (n_sets, {unablated.size}), got "
                           f"shape {null_ablated.shape}")
    phenomena = _labels(func, phenomena, unablated.size)
    groups = None if groups is None else np.asarray(groups, dtype=object)
    same_length(func, unablated.size, groups=groups)
    frames = []
    for phenomenon in pd.unique(phenomena):
        rows = phenomena == phenomenon
        out = compare_to_null(ablated[rows] - unablated[rows],
                              null_ablated[:, rows] - unablated[rows],
                              groups=None if groups is None else groups[rows],
                              alternative=alternative, n_boot=n_boot, ci=ci,
                              random_state=random_state)
        frames.append(out.assign(phenomenon=phenomenon, metric=metric))
    table = pd.concat(frames, ignore_index=True)
    given = (table["unit_set"] == "given").to_numpy()
    table["p_corr"] = np.nan
    table.loc[given, "p_corr"] = correct_pvalues(table.loc[given, "p_val"].to_numpy(),
                                                 correction=correction)
    table["correction"] = correction_label(correction)
    return table[list(ABLATION_COLUMNS)]


def _labels(func, phenomena, n):
    if phenomena is None:
        return np.array(["all"] * n, dtype=object)
    phenomena = np.asarray(phenomena, dtype=object)
    if phenomena.shape != (n,) or pd.isna(phenomena).any():
        raise ProbingError(f"{func}: phenomena must have one label per item ({n}), no "
                           f"missing ones; got shape {phenomena.shape}")
    return phenomena
