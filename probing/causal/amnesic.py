"""Amnesic probing (Elazar et al. 2021): what behaviour loses when a concept is erased.

The model adapter runs the items three ways: plainly (``before``), with the concept
erased at a layer by :class:`~probing.causal.LeaceEraser` (``after``), and with random
subspaces of the same rank erased by :class:`~probing.causal.RandomEraser`
(``random_after``, one row per random eraser). Erasing any direction costs something;
the question is whether erasing the concept costs more than erasing as many random
directions, which the p-value answers with the random erasures as the null
(:func:`~probing.causal.compare_to_null`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.causal._checks import as_array, same_length
from probing.causal.ablation import compare_to_null

__all__ = ["AMNESIC_COLUMNS", "amnesic_effect"]

#: Columns of :func:`amnesic_effect`.
AMNESIC_COLUMNS = ("erasure", "metric", "before", "after", "estimate", "ci_low", "ci_high",
                   "fraction_lost", "p_val", "n", "n_sets")


def amnesic_effect(before, after, random_after, *, chance=None, groups=None,
                   metric="logprob_diff", alternative="two-sided", n_boot=2000, ci=0.95,
                   random_state=0):
    """Behaviour lost by erasing a concept, next to erasing random directions of equal rank.

    Parameters
    ----------
    before : array_like of shape (n_items,)
        The behavioural measure on the plain run (a log-probability difference, or 1/0
        for a correct/incorrect pair).
    after : array_like of shape (n_items,)
        The measure with the concept erased (LEACE).
    random_after : array_like of shape (n_sets, n_items)
        The measure with each random subspace of the same rank erased.
    chance : float, optional
        The measure's chance level (0 for a log-probability difference, 0.5 for
        accuracy); gives ``fraction_lost``.
    groups : array_like of shape (n_items,), optional
        ``item_id`` of each item; whole items are resampled.
    metric : str, default "logprob_diff"
        Name of the measure, copied into the table.
    alternative : {"two-sided", "greater", "less"}, default "two-sided"
    n_boot, ci, random_state
        Item bootstrap of the intervals.

    Returns
    -------
    pandas.DataFrame
        Two rows, ``erasure`` = ``leace`` and ``random``: ``before``, ``after`` (mean
        measure), ``estimate`` (mean ``after - before``; negative = behaviour lost) with
        its item-bootstrap ``ci_low, ci_high``, ``fraction_lost``
        (``(before - after) / (before - chance)``, NaN without ``chance``), ``p_val``
        (LEACE against the random erasures), ``n``, ``n_sets``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> before = rng.normal(2.0, 0.5, 50)
    >>> out = amnesic_effect(before, before - 2.0, before + rng.normal(0, .1, (99, 50)),
    ...                      chance=0.0, n_boot=200)
    >>> leace = out.iloc[0]
    >>> leace["erasure"], round(float(leace["estimate"]), 2), round(float(leace["p_val"]), 2)
    ('leace', -2.0, 0.01)
    """
    func = "amnesic_effect"
    before = as_array(before, "before", func, ndim=1)
    after = as_array(after, "after", func, ndim=1)
    random_after = as_array(random_after, "random_after", func, ndim=2)
    same_length(func, before.size, after=after)
    if random_after.shape[1:] != before.shape:
        raise ProbingError(f"{func}: random_after must be (n_sets, {before.size}), got shape "
                           f"{random_after.shape}")
    if chance is not None and not np.isfinite(chance):
        raise ProbingError(f"{func}: chance must be a finite number, got {chance!r}")
    out = compare_to_null(after - before, random_after - before, groups=groups,
                          alternative=alternative, n_boot=n_boot, ci=ci,
                          random_state=random_state)
    means_after = np.array([after.mean(), random_after.mean()])
    lost = (before.mean() - means_after) / (before.mean() - chance) if chance is not None \
        else np.full(2, np.nan)
    out = out.assign(erasure=["leace", "random"], metric=metric, before=before.mean(),
                     after=means_after, fraction_lost=lost)
    return pd.DataFrame(out)[list(AMNESIC_COLUMNS)]
