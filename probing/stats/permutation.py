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

__all__ = ["ALTERNATIVES", "permutation_pvalue"]

#: Accepted ``alternative`` values.
ALTERNATIVES = ("greater", "less", "two-sided")


def _exceedances(observed, null, alternative):
    if alternative == "two-sided":
        # Distances from the null's centre: |null - centre| >= |observed - centre|.
        centre = np.mean(null, axis=0)
        null, observed = np.abs(null - centre), np.abs(observed - centre)
    # A relative tolerance so that ties computed in floating point (the identity
    # permutation, equal statistics reached through another summation order) count.
    tol = 1e-12 * np.maximum(1.0, np.abs(observed))
    if alternative == "less":
        return np.sum(null <= observed + tol, axis=0)
    return np.sum(null >= observed - tol, axis=0)


def permutation_pvalue(observed, null, *, alternative="greater", exact=False):
    """P-value of an observed statistic against its permutation null distribution.

    Parameters
    ----------
    observed : float or array_like of shape (m,)
        The statistic on the real labels (one per test, e.g. per layer).
    null : array_like of shape (n_perm,) or (n_perm, m)
        The statistic under ``n_perm`` permutations, one column per test.
    alternative : {"greater", "less", "two-sided"}, default "greater"
        ``greater``: large statistics are evidence (accuracy, correlation).
        ``two-sided`` compares distances from the null's mean.
    exact : bool, default False
        False: ``null`` holds random permutations and the p-value is
        ``(b + 1) / (n_perm + 1)`` with ``b`` the null values at least as extreme.
        True: ``null`` enumerates every distinct permutation, the identity included,
        and the p-value is ``b / n_perm`` (at least ``1 / n_perm``, since the identity
        counts).

    Returns
    -------
    float or numpy.ndarray of shape (m,)
        A float for a scalar ``observed``; never 0. NaN where ``observed`` is NaN.

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
    b = _exceedances(observed, null, alternative)
    n = null.shape[0]
    p = b / n if exact else (b + 1) / (n + 1)
    p = np.where(np.isnan(observed), np.nan, p)
    return float(p[0]) if scalar else p
