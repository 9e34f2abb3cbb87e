"""Agreement between a fast screen (attribution patching) and exact patching.

Attribution patching (AtP; Kramar et al. 2024) estimates every cell's patching effect to
first order from one forward and one backward pass; the cells it ranks highest are then
patched exactly. Its known failure modes (attention saturation, cancellation between
paths) make the agreement worth reporting every time: the rank correlation of estimate
and exact effect, and how many of the exact top-k cells the screen's candidates hold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.causal._checks import as_array

__all__ = ["SCREEN_COLUMNS", "screen_agreement"]

#: Columns of :func:`screen_agreement`.
SCREEN_COLUMNS = ("metric", "estimate", "k", "n_candidates", "n")


def _spearman(a, b):
    # Pearson correlation of average ranks (ties share their mean rank), as scipy's
    # spearmanr computes it; the tests compare the two.
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def screen_agreement(estimate, exact, *, k=10, n_candidates=None, by="abs"):
    """Rank correlation and top-k recall of a screen's estimates against exact effects.

    Parameters
    ----------
    estimate : array_like of shape (n_cells,) or any shape
        The screen's estimate of each cell's effect (e.g. AtP over layer x position x
        head, flattened in the same order as ``exact``).
    exact : array_like of the same shape
        The exact patching effect; NaN where a cell was not patched exactly.
    k : int, default 10
        Size of the exact top set whose recall is reported.
    n_candidates : int, optional
        How many of the screen's top cells were (or would be) patched exactly; default
        ``k``. Recall counts the exact top-k cells among them.
    by : {"abs", "signed"}, default "abs"
        Rank cells by absolute or signed effect.

    Returns
    -------
    pandas.DataFrame
        ``metric, value, k, n_candidates, n``: ``spearman`` (of the signed values, over
        the ``n`` cells with an exact value) and ``top_k_recall`` (share of the exact
        top-k, among cells with an exact value, that the screen's ``n_candidates`` top
        cells hold).

    Examples
    --------
    >>> exact = np.array([5.0, 0.1, 3.0, 0.0, -4.0])
    >>> estimate = np.array([4.0, 0.2, 0.1, 0.0, -3.0])   # misses cell 2
    >>> screen_agreement(estimate, exact, k=3)[["metric", "estimate"]]
             metric  estimate
    0      spearman  0.900000
    1  top_k_recall  0.666667
    """
    func = "screen_agreement"
    estimate = as_array(estimate, "estimate", func).ravel()
    exact = as_array(exact, "exact", func, allow_nan=True).ravel()
    if estimate.shape != exact.shape:
        raise ProbingError(f"{func}: estimate has {estimate.size} cells, exact {exact.size}")
    if by not in ("abs", "signed"):
        raise ProbingError(f"{func}: by must be 'abs' or 'signed', got {by!r}")
    n_candidates = k if n_candidates is None else n_candidates
    known = ~np.isnan(exact)
    for name, value, top in (("k", k, int(known.sum())),
                             ("n_candidates", n_candidates, estimate.size)):
        if isinstance(value, bool) or int(value) != value or not 1 <= value <= top:
            raise ProbingError(f"{func}: {name} must be a whole number in [1, {top}], "
                               f"got {value!r}")
    key = np.abs if by == "abs" else np.asarray
    candidates = np.argsort(-key(estimate), kind="stable")[:int(n_candidates)]
    cells = np.flatnonzero(known)
    top_exact = cells[np.argsort(-key(exact[cells]), kind="stable")[:int(k)]]
    recall = np.isin(top_exact, candidates).mean()
    return pd.DataFrame({"metric": ["spearman", "top_k_recall"],
                         "estimate": [_spearman(estimate[known], exact[known]), recall],
                         "k": int(k), "n_candidates": int(n_candidates),
                         "n": int(known.sum())})
