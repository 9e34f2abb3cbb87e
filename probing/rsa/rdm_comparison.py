"""Comparing RDMs: :func:`compare_rdms` and the embeddings the fast tests reuse.

Every comparison except ``tau_a`` is an inner product of two *embeddings* of the RDMs
(ranks, centring, scaling, double centring), and permuting the stimuli of an RDM
permutes the entries of its embedding. Permutation tests and bootstraps therefore
embed each RDM once and then only index and multiply (:mod:`probing.rsa.inference`).

Method definitions and their equivalents (each row checked in
``tests/rsa/test_compare.py``, to 1e-10):

=====================  ================================================  ======================  ==================
ours                   definition                                        rsatoolbox ``compare``  scipy
=====================  ================================================  ======================  ==================
``spearman``           Pearson r of the average ranks                    ``spearman``            ``spearmanr``
``pearson``            Pearson r of the dissimilarities                  ``corr``                ``pearsonr``
``tau_a``              ``(n_concordant - n_discordant) / n_pairs``       ``tau-a``               ``kendalltau`` when
                       over all pairs of entries (ties count 0)                                  there are no ties
``rho_a``              ``12 sum(rc_a rc_b) / (N**3 - N)``, ``rc`` the    ``rho-a``               ``spearmanr`` when
                       centred average ranks, ``N`` entries                                      there are no ties
``cosine``             cosine of the dissimilarity vectors               ``cosine``              ``1 - cosine``
``whitened_cosine``    cosine of the double-centred square RDMs          ``cosine_cov``
                       ``H D H`` (Frobenius), ``H`` the centring matrix  (``sigma_k=None``)
``whitened_pearson``   ``whitened_cosine`` after removing the mean       ``corr_cov``
                       dissimilarity                                     (``sigma_k=None``)
=====================  ================================================  ======================  ==================

Where a comparison is undefined the result is NaN, the same for every comparison: a constant
RDM (for ``tau_a`` and ``rho_a`` too, whose formulas would give 0: a constant RDM
orders nothing, and "no relation" must not be read off it) and an all-zero one for
``cosine`` and the whitened methods. rsatoolbox returns 0 there. The bootstraps count
resamples that make an RDM constant as degenerate and leave them out.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing._core.values import COMPARISONS
from probing.rsa.rdm import RDMs, check_rdm, pair_indices

__all__ = ["COMPARISONS", "METHODS", "align_rdms", "compare_rdms"]

METHODS = COMPARISONS  # its name before 0.2 (one release)
#: rsatoolbox's name for each of our methods.
RSATOOLBOX_METHODS = {"spearman": "spearman", "pearson": "corr", "tau_a": "tau-a",
                      "rho_a": "rho-a", "cosine": "cosine", "whitened_cosine": "cosine_cov",
                      "whitened_pearson": "corr_cov"}


def check_method(comparison, where="compare_rdms"):
    if comparison not in COMPARISONS:
        raise ProbingError(f"{where}: comparison must be one of {list(COMPARISONS)}, got {comparison!r}")
    return comparison


def align_rdms(a, b):
    """Both as :class:`RDMs` over the same stimuli in ``a``'s order.

    ``b`` is reordered when it holds the same stimuli in another order; plain
    arrays take the other side's labels.
    """
    a_is, b_is = isinstance(a, RDMs), isinstance(b, RDMs)
    a = check_rdm(a, stimulus_ids=b.stimulus_ids if b_is and not a_is else None)
    b = check_rdm(b, stimulus_ids=a.stimulus_ids if not b_is else None)
    if a.stimulus_ids == b.stimulus_ids:
        return a, b
    if a.n_stimuli != b.n_stimuli or set(a.stimulus_ids) != set(b.stimulus_ids):
        extra = [c for c in b.stimulus_ids if c not in set(a.stimulus_ids)][:5]
        raise ProbingError(f"RDMs must share their stimuli: {a.n_stimuli} vs "
                           f"{b.n_stimuli} stimuli; e.g. {extra} only in the second")
    return a, b.reorder(a.stimulus_ids)


def _unit(X):
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, X / norms, np.nan)


def double_centre(values):
    """``(m, n * n)`` flattened ``-H D H / 2`` of condensed RDMs ``values`` (m, n_pairs)."""
    n = int(round((1 + np.sqrt(1 + 8 * values.shape[1])) / 2))
    rows, cols = pair_indices(n)
    square = np.zeros((values.shape[0], n, n))
    square[:, rows, cols] = values
    square[:, cols, rows] = values
    row_means = square.mean(axis=2, keepdims=True)
    centred = square - row_means - np.swapaxes(row_means, 1, 2) + row_means.mean(axis=1,
                                                                                 keepdims=True)
    return -0.5 * centred.reshape(values.shape[0], n * n)


def embed(values, comparison):
    """Embeddings ``E`` with ``compare = E_a @ E_b.T`` (all methods but ``tau_a``).

    Returns ``(E, kind)``: ``kind`` is ``"pairs"`` when the columns are the condensed
    pairs and ``"full"`` when they are the ``n * n`` cells of the square matrix.
    """
    values = np.asarray(values, dtype=np.float64)
    if comparison in ("spearman", "rho_a"):
        ranks = stats.rankdata(values, axis=1)
        centred = ranks - ranks.mean(axis=1, keepdims=True)
        if comparison == "spearman":
            return _unit(centred), "pairs"
        n = values.shape[1]
        constant = ~np.any(centred, axis=1, keepdims=True)
        return np.where(constant, np.nan, centred * np.sqrt(12.0 / (n**3 - n))), "pairs"
    if comparison == "pearson":
        return _unit(values - values.mean(axis=1, keepdims=True)), "pairs"
    if comparison == "cosine":
        return _unit(values), "pairs"
    if comparison == "whitened_pearson":
        values = values - values.mean(axis=1, keepdims=True)
    return _unit(double_centre(values)), "full"


def tau_a(x, y):
    """Kendall's tau-a of two vectors (scipy's O(n log n) tau-b, rescaled).

    Examples
    --------
    >>> round(tau_a([1, 2, 3, 4], [1, 2, 4, 3]), 6)
    0.666667
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n0 = x.size * (x.size - 1) / 2
    ties_x, ties_y = _tied_pairs(x), _tied_pairs(y)
    if ties_x == n0 or ties_y == n0:
        return float("nan")  # a constant vector orders nothing: undefined, as for spearman
    tau_b = stats.kendalltau(x, y).statistic
    return float(tau_b * np.sqrt((n0 - ties_x) * (n0 - ties_y)) / n0)


def _tied_pairs(x):
    counts = np.unique(x, return_counts=True)[1]
    return float(np.sum(counts * (counts - 1) / 2))


@renamed(method="comparison")
def compare_rdms(a, b, *, comparison="spearman"):
    """Similarity of every RDM in ``a`` with every RDM in ``b``.

    Parameters
    ----------
    a, b : RDMs or array_like
        RDM stacks over the same stimuli (``b`` is reordered to ``a``'s stimuli
        when its labels come in another order); arrays as in :func:`check_rdm`.
    comparison : str, default "spearman"
        One of ``spearman, pearson, tau_a, rho_a, cosine, whitened_cosine,
        whitened_pearson`` (definitions and rsatoolbox / scipy equivalents in the
        module docstring).

    Returns
    -------
    numpy.ndarray of shape (a.n_rdms, b.n_rdms)

    Examples
    --------
    >>> compare_rdms([1.0, 2.0, 3.0], [1.0, 3.0, 2.0], comparison="spearman")
    array([[0.5]])
    """
    check_method(comparison)
    a, b = align_rdms(a, b)
    if comparison == "tau_a":
        return np.array([[tau_a(x, y) for y in b.values] for x in a.values])
    ea, _ = embed(a.values, comparison)
    eb, _ = embed(b.values, comparison)
    with np.errstate(invalid="ignore"):
        return np.clip(ea @ eb.T, -1.0, 1.0)
