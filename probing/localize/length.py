"""Length matching: the contrast's conditions with the same distribution of token counts.

In the Fedorenko stimuli token count is nearly the condition itself (sentences 12.8
tokens on average, non-word lists 24.3 in SmolLM2's tokenizer; r = -0.93), so a
"language" unit may respond to how much text preceded the last token, and a nuisance
regressor for it extrapolates. Matching keeps, within each half and each token count,
as many stimuli of A as of B (the first ones in table order), so the kept stimuli of the
two conditions have identical token-count histograms and r = 0 exactly. The price is
the stimuli that have no partner of the same length: with little overlap between the
conditions few remain, which the run reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError

__all__ = ["compute_length_correlation", "select_length_matched"]


def compute_length_correlation(n_tokens, conditions, contrast):
    """Pearson r between the indicator of condition A and the token count (NaN if constant).

    Examples
    --------
    >>> round(compute_length_correlation([10, 12, 20, 24], ["s", "s", "n", "n"], ("s", "n")), 3)
    -0.961
    """
    n_tokens = np.asarray(n_tokens, dtype=float)
    is_a = (np.asarray(conditions).astype(str) == contrast[0]).astype(float)
    if n_tokens.std() == 0 or is_a.std() == 0:
        return float("nan")
    return float(np.corrcoef(is_a, n_tokens)[0, 1])


def select_length_matched(n_tokens, conditions, contrast, *, groups=None):
    """Stimuli kept so that A and B have the same token counts within each group (half).

    Parameters
    ----------
    n_tokens : array-like of int
        ``(n_stimuli,)``.
    conditions : array-like of str
        ``(n_stimuli,)``, each one of ``contrast``.
    contrast : (str, str)
    groups : array-like, optional
        ``(n_stimuli,)``: match within each group (each half), so both halves stay
        matched.

    Returns
    -------
    numpy.ndarray of bool
        ``(n_stimuli,)``: for every group and token count, the first ``min(#A, #B)``
        stimuli of each condition.

    Examples
    --------
    >>> select_length_matched([10, 12, 12, 20, 12, 10], ["s", "s", "s", "n", "n", "n"],
    ...                       ("s", "n")).tolist()
    [True, True, False, False, True, True]
    """
    n_tokens = np.asarray(n_tokens)
    conditions = np.asarray(conditions).astype(str)
    groups = np.zeros(len(conditions), int) if groups is None else np.asarray(groups)
    if not len(n_tokens) == len(conditions) == len(groups):
        raise ProbingError(f"n_tokens, conditions and groups differ in length: {len(n_tokens)}, "
                           f"{len(conditions)}, {len(groups)}")
    frame = pd.DataFrame({"group": groups, "n": n_tokens, "condition": conditions})
    rank = frame.groupby(["group", "n", "condition"], sort=False).cumcount()
    counts = frame.groupby(["group", "n", "condition"]).size().unstack("condition",
                                                                        fill_value=0)
    pairs = counts.reindex(columns=list(contrast), fill_value=0).min(axis=1)
    limit = pairs.reindex(pd.MultiIndex.from_frame(frame[["group", "n"]])).to_numpy()
    return (rank.to_numpy() < limit) & np.isin(conditions, contrast)
