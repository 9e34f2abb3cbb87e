"""Exact binomial tests and multiple-comparison corrections."""

from __future__ import annotations

import numbers
from functools import partial

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing._core.values import ALTERNATIVES

__all__ = ["ALTERNATIVES", "CORRECTIONS", "binomial_test", "correct_pvalues", "correction_label"]

#: Accepted ``method`` names of :func:`correct_pvalues`, mapped to statsmodels' names.
CORRECTIONS = {"holm": "holm", "bonferroni": "bonferroni", "fdr_bh": "fdr_bh", "bh": "fdr_bh"}


def _as_count(x, name):
    if (isinstance(x, bool) or not isinstance(x, numbers.Real) or not np.isfinite(x)
            or x != int(x)):
        raise ProbingError(f"binomial_test: {name} must be a whole number, got {x!r}")
    return int(x)


def binomial_test(n_success, n, *, p=0.5, alternative="two-sided"):
    """Exact binomial test of ``n_success`` successes in ``n`` trials.

    Wraps :func:`scipy.stats.binomtest`. The default is two-sided because, for
    accuracy against chance, a reliable preference for the *wrong* member of a pair
    (accuracy below 0.5) is a finding too, and a one-sided test would hide it.

    Parameters
    ----------
    n_success : int
        Number of successes, ``0 <= n_success <= n``.
    n : int
        Number of trials; ``n == 0`` gives NaN (there is nothing to test).
    p : float, default 0.5
        Success probability under the null hypothesis.
    alternative : {"two-sided", "greater", "less"}, default "two-sided"
        Direction of the alternative hypothesis.

    Returns
    -------
    float
        The p-value.

    Examples
    --------
    >>> round(binomial_test(9, 10), 4)
    0.0215
    >>> round(binomial_test(9, 10, alternative="greater"), 4)
    0.0107
    """
    n_success, n = _as_count(n_success, "n_success"), _as_count(n, "n")
    if alternative not in ALTERNATIVES:
        raise ProbingError(f"binomial_test: alternative must be one of {list(ALTERNATIVES)}, "
                           f"got {alternative!r}")
    if not 0 <= p <= 1:
        raise ProbingError(f"binomial_test: p must lie in [0, 1], got {p!r}")
    if n < 0 or not 0 <= n_success <= n:
        raise ProbingError(f"binomial_test: need 0 <= n_success <= n, got {n_success}, {n}")
    if n == 0:
        return float("nan")
    return float(stats.binomtest(n_success, n, p=p, alternative=alternative).pvalue)


@renamed(method="correction")
def correct_pvalues(p_vals, *, correction="holm"):
    """Adjust a family of p-values for multiple comparisons.

    Wraps :func:`statsmodels.stats.multitest.multipletests`. NaN entries stay NaN
    and are left out of the family, so they do not inflate the correction.

    Parameters
    ----------
    p_vals : array_like of shape (n,)
        Raw p-values in ``[0, 1]`` (NaN allowed).
    correction : {"holm", "bonferroni", "fdr_bh", "bh"}, default "holm"
        Holm's step-down FWER control, Bonferroni, or Benjamini-Hochberg FDR
        (``bh`` is an alias of ``fdr_bh``).

    Returns
    -------
    numpy.ndarray of shape (n,)
        Adjusted p-values, in the input order.

    Examples
    --------
    >>> correct_pvalues([0.01, np.nan, 0.04, 0.03])
    array([0.03,  nan, 0.06, 0.06])
    """
    if correction not in CORRECTIONS:
        raise ProbingError(f"correct_pvalues: correction must be one of {list(CORRECTIONS)}, "
                           f"got {correction!r}")
    p_vals = np.asarray(p_vals, dtype=float)
    if p_vals.ndim != 1:
        raise ProbingError(f"correct_pvalues: p_vals must be 1-D, got shape {p_vals.shape}")
    keep = ~np.isnan(p_vals)
    if np.any((p_vals[keep] < 0) | (p_vals[keep] > 1)):
        raise ProbingError("correct_pvalues: p-values must lie in [0, 1]")
    out = np.full(p_vals.shape, np.nan)
    if keep.any():
        adjust = _holm if correction == "holm" else partial(_multipletests, method=CORRECTIONS[correction])
        out[keep] = adjust(p_vals[keep])
    return out


def correction_label(correction):
    """The ``correction`` value a table stores: the canonical name, or ``"none"``.

    Every table writes it through this function, so ``bh`` is stored as ``fdr_bh`` and no
    correction as ``none`` in every command's output.

    Examples
    --------
    >>> correction_label("bh"), correction_label(None), correction_label("holm")
    ('fdr_bh', 'none', 'holm')
    """
    if correction is None or correction == "none":
        return "none"
    if correction not in CORRECTIONS:
        raise ProbingError(f"correction must be one of {list(CORRECTIONS)} or None, got "
                           f"{correction!r}")
    return CORRECTIONS[correction]


def _multipletests(p_vals, method):
    return multipletests(p_vals, method=method)[1]


def _holm(p_vals):
    # Our own Holm step-down: statsmodels' multipletests(method="holm") calls
    # gc.collect() on every call (22 ms on a bare interpreter, far more with a large
    # heap such as a loaded model), while this is a few microseconds. It equals
    # statsmodels to 1e-12 (tests/stats/test_pvalues.py).
    order = np.argsort(p_vals, kind="stable")
    steps = p_vals[order] * np.arange(p_vals.size, 0, -1)
    out = np.empty_like(p_vals)
    out[order] = np.minimum(np.maximum.accumulate(steps), 1.0)
    return out
