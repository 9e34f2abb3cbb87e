"""Permutation p-values shared by every analysis (probes, RSA, localizers, encoding).

The analyses build their null distributions themselves (each knows what may be
exchanged); this module only turns an observed statistic and its null into a p-value
with the conventions fixed once: Monte-Carlo p-values are ``(b + 1) / (n + 1)``
(Phipson & Smyth 2010), so they are never 0, and exact enumeration counts the
observed arrangement among the null, so its p-values are never 0 either.
"""

from __future__ import annotations

import numpy as np

from probing._core.errors import ProbingError
from probing.stats.pvalues import ALTERNATIVES

__all__ = ["ALTERNATIVES", "permutation_pvalue"]


def _exceedances(observed, null, alternative, exact):
    """``(strictly more extreme, tied)`` counts per column; NaN null values count in neither."""
    if alternative == "two-sided":
        # Distances from a centre that treats the observed value like every null value:
        # the mean of the null *and* the observed value (for exact enumeration the null
        # already holds the observed arrangement). A centre from the null alone sits
        # away from the observed value, which then looks less extreme than it is to
        # every null value and more extreme to none: with 19 exchangeable sets the
        # rejection rate was 0.059-0.062 at alpha 0.05; this centre keeps the
        # observed value exchangeable with the null, and the test valid (0.050).
        total, count = np.nansum(null, axis=0), np.sum(~np.isnan(null), axis=0)
        if not exact:
            total, count = total + observed, count + 1
        with np.errstate(invalid="ignore", divide="ignore"):
            centre = total / count
        null, observed = np.abs(null - centre), np.abs(observed - centre)
    # A relative tolerance so that ties computed in floating point (the identity
    # permutation, equal statistics reached through another summation order) count.
    tol = 1e-12 * np.maximum(1.0, np.abs(observed))
    tied = np.sum(np.abs(null - observed) <= tol, axis=0)
    if alternative == "less":
        return np.sum(null < observed - tol, axis=0), tied
    return np.sum(null > observed + tol, axis=0), tied


def permutation_pvalue(observed, null, *, alternative="greater", exact=False, ties="count"):
    """P-value of an observed statistic against its permutation null distribution.

    Parameters
    ----------
    observed : float or array_like of shape (m,)
        The statistic on the real labels (one per test, e.g. per layer).
    null : array_like of shape (n_perm,) or (n_perm, m)
        The statistic under ``n_perm`` permutations, one column per test.
    alternative : {"greater", "less", "two-sided"}, default "greater"
        ``greater``: large statistics are evidence (accuracy, correlation).
        ``two-sided`` compares distances from the mean of the null and the observed
        value together (a centre that treats the observed value as one more
        exchangeable draw, so the test stays valid; the null's own mean favoured the
        observed value: 0.062 at alpha 0.05 with 19 random sets).
    exact : bool, default False
        False: ``null`` holds random permutations and the p-value is
        ``(b + 1) / (n_perm + 1)`` with ``b`` the null values at least as extreme.
        True: ``null`` enumerates every distinct permutation, the identity included,
        and the p-value is ``b / n_perm`` (at least ``1 / n_perm``, since the identity
        counts).
    ties : {"count", "mid"}, default "count"
        ``count``: null values equal to the observed one count as at least as extreme
        (valid, conservative when the null is discrete). ``mid``: they count one half
        (the mid-p of Lancaster 1961; the observed arrangement itself too), which
        removes most of that conservativeness for discrete nulls such as sign flips of
        few groups; its size is close to, not guaranteed below, ``alpha``.

    Returns
    -------
    float or numpy.ndarray of shape (m,)
        A float for a scalar ``observed``; never 0. NaN where ``observed`` is NaN or
        the null has no finite value. NaN null values (a degenerate permutation) are
        left out of both the count and ``n_perm``.

    Examples
    --------
    >>> permutation_pvalue(3.0, [0.0, 1.0, 2.0, 3.5])
    0.4
    >>> permutation_pvalue([3.0, -1.0], [[0.0, 0.0], [1.0, 1.0]])
    array([0.33333333, 1.        ])
    """
    if alternative not in ALTERNATIVES:
        raise ProbingError(f"permutation_pvalue: alternative must be one of "
                           f"{list(ALTERNATIVES)}, got {alternative!r}")
    scalar = np.ndim(observed) == 0
    observed = np.atleast_1d(np.asarray(observed, dtype=float))
    null = np.asarray(null, dtype=float)
    null = null.reshape(-1, 1) if null.ndim == 1 else null
    if null.ndim != 2 or null.shape[1] != observed.size or null.shape[0] == 0:
        raise ProbingError(f"permutation_pvalue: null must be (n_perm,) or (n_perm, "
                           f"{observed.size}); got shape {np.shape(null)}")
    if ties not in ("count", "mid"):
        raise ProbingError(f"permutation_pvalue: ties must be 'count' or 'mid', got {ties!r}")
    more, tied = _exceedances(observed, null, alternative, exact)
    n = np.sum(~np.isnan(null), axis=0)
    # The observed arrangement is one of the arrangements: in the null already when
    # exact, else added once (Phipson & Smyth 2010).
    weight = 0.5 if ties == "mid" else 1.0
    if exact:
        p = (more + weight * tied) / np.maximum(n, 1)
    else:
        p = (more + weight * (tied + 1)) / (n + 1)
    p = np.where(np.isnan(observed) | (n == 0), np.nan, p)
    return float(p[0]) if scalar else p
