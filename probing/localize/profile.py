"""Held-out response profile: the selected units' responses to every condition.

A language fROI is defined by one contrast (sentences > non-words) and then
characterised by its responses to conditions that did not define it (word lists,
Jabberwocky), on data that did not select it (Fedorenko et al. 2010, Fig. 3). Here the
units selected on one half are measured on the stimuli of the other half, in every
condition of the paradigm; each unit is first standardised over the measured stimuli
(all conditions together, no labels used), so units with large activations do not
dominate the mean, and the per-stimulus mean over the selected units is averaged per
condition with a bootstrap interval over stimuli.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.defaults import CI, N_BOOT
from probing._core.errors import ProbingError

__all__ = ["PROFILE_COLUMNS", "PROFILE_METRICS", "build_response_profile"]

#: Columns of :func:`build_response_profile`.
PROFILE_COLUMNS = ("selected_on", "measured_on", "condition", "metric", "estimate", "ci_low",
                   "ci_high", "n", "n_selected")
#: ``response``: the mean activation of the selected units; ``response_z``: the mean of
#: each unit's activation standardised over the measured stimuli.
PROFILE_METRICS = ("response", "response_z")


def _scores(block):
    sd = block.std(axis=0)
    keep = sd > 0
    z = (block[:, keep] - block[:, keep].mean(axis=0)) / sd[keep]
    return {"response": block.mean(axis=1), "response_z": z.mean(axis=1) if keep.any() else
            np.full(len(block), np.nan)}


def _interval(values, rng, n_boot):
    draws = rng.integers(len(values), size=(n_boot, len(values)))
    means = values[draws].mean(axis=1)
    return np.quantile(means, [(1 - CI) / 2, (1 + CI) / 2])


def build_response_profile(responses, conditions, halves, selections, *, n_boot=N_BOOT,
                           random_state=0):
    """Mean response of each half's selected units to every condition of the other half.

    Parameters
    ----------
    responses : array-like
        ``(n_stimuli, n_units)``: every stimulus of the paradigm, all conditions.
    conditions, halves : array-like of str
        ``(n_stimuli,)``: condition and half of each stimulus (exactly two halves).
    selections : dict of str to array-like of bool
        Half name -> ``(n_units,)`` units selected on that half.
    n_boot : int
        Bootstrap resamples of the stimuli for the interval.
    random_state : int

    Returns
    -------
    pandas.DataFrame
        :data:`PROFILE_COLUMNS`, one row per selecting half, condition and metric
        (:data:`PROFILE_METRICS`): ``estimate`` the mean over the condition's held-out
        stimuli, ``ci_low, ci_high`` its bootstrap interval, ``n`` those stimuli,
        ``n_selected`` the units.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=(40, 10)); y[::2, 0] += 3
    >>> halves = np.repeat(["a", "b"], 20)
    >>> chosen = {"a": np.arange(10) == 0, "b": np.arange(10) == 0}
    >>> out = build_response_profile(y, ["s", "w"] * 20, halves, chosen, n_boot=100)
    >>> out.query("metric == 'response_z' and selected_on == 'a'")["estimate"].round(2).tolist()
    [0.8, -0.8]
    """
    responses = np.asarray(responses, dtype=np.float64)
    conditions, halves = np.asarray(conditions).astype(str), np.asarray(halves).astype(str)
    names = sorted(set(halves.tolist()))
    if len(names) != 2 or sorted(selections) != names:
        raise ProbingError(f"the profile needs selections for exactly the two halves {names}; "
                           f"got {sorted(selections)}")
    if responses.shape[0] != len(conditions) or len(conditions) != len(halves):
        raise ProbingError(f"responses have {responses.shape[0]} rows for {len(conditions)} "
                           f"conditions and {len(halves)} halves")
    rng = np.random.default_rng(random_state)
    rows = []
    for on, measured in (names, names[::-1]):
        chosen = np.asarray(selections[on], dtype=bool)
        where = halves == measured
        if not chosen.any():
            continue
        scores = _scores(responses[np.ix_(where, chosen)])
        for condition in pd.unique(conditions[where]):
            mask = conditions[where] == condition
            for metric in PROFILE_METRICS:
                values = scores[metric][mask]
                low, high = _interval(values, rng, int(n_boot))
                rows.append((on, measured, condition, metric, float(values.mean()), low, high,
                             int(mask.sum()), int(chosen.sum())))
    return pd.DataFrame(rows, columns=list(PROFILE_COLUMNS))
