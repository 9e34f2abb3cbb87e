"""Satterthwaite degrees of freedom for the fixed effects of a random-intercept model.

Our own code, because no Python library we may depend on computes them: statsmodels'
MixedLM reports Wald z tests only, and the Satterthwaite / Kenward-Roger tests of
``lmerTest`` and ``pbkrtest`` (and ``pymer4``, which wraps them) need R. The
computation is the one of ``lmerTest`` (Kuznetsova et al. 2017) for the model
``y = X b + Z u + e`` with one random intercept per group, ``V = s_u Z Z' + s_e I``:

- ``Phi = (X' V^-1 X)^-1``, the covariance of the fixed effects at the REML estimates;
- ``A``, the asymptotic covariance of ``(s_u, s_e)``: the inverse of the REML
  information ``I_ij = tr(P V_i P V_j) / 2``, ``P = V^-1 - V^-1 X Phi X' V^-1``,
  ``V_1 = Z Z'``, ``V_2 = I``;
- for a contrast ``c``: ``g_i = d(c' Phi c) / d theta_i = c' Phi X' V^-1 V_i V^-1 X Phi c``
  and ``df = 2 (c' Phi c)^2 / (g' A g)``.

In a balanced within-item design this gives the by-item paired t test exactly
(``n_items - 1`` degrees of freedom; tests/stats/test_mixed.py checks it against scipy).
"""

from __future__ import annotations

import numpy as np

__all__ = ["satterthwaite"]


def satterthwaite(X, codes, var_item, var_resid):
    """Standard errors and Satterthwaite degrees of freedom of each fixed effect.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_obs, n_terms)
        Fixed-effects design.
    codes : numpy.ndarray of shape (n_obs,)
        Group (item) code of each row, ``0 .. n_groups - 1``.
    var_item, var_resid : float
        REML estimates of the random-intercept and residual variances.

    Returns
    -------
    std_err, df : numpy.ndarray of shape (n_terms,)
        ``df`` is NaN where it cannot be computed (a singular information matrix).

    Examples
    --------
    >>> codes = np.repeat(np.arange(6), 2)
    >>> X = np.c_[np.ones(12), np.tile([1.0, -1.0], 6)]
    >>> se, df = satterthwaite(X, codes, 1.0, 0.5)
    >>> float(np.round(df[1], 6))
    5.0
    """
    X = np.asarray(X, dtype=float)
    same = (codes[:, None] == codes[None, :]).astype(float)  # Z Z'
    V = var_item * same + var_resid * np.eye(len(codes))
    V_inv = np.linalg.inv(V)
    VX = V_inv @ X
    Phi = np.linalg.inv(X.T @ VX)
    P = V_inv - VX @ Phi @ VX.T
    derivs = (same, np.eye(len(codes)))
    PV = [P @ D for D in derivs]
    info = 0.5 * np.array([[np.sum(a * b.T) for b in PV] for a in PV])
    # g_i for every term at once: the diagonal of Phi X' V^-1 V_i V^-1 X Phi.
    grads = np.array([np.einsum("ij,jk,ki->i", Phi @ VX.T, D, VX @ Phi) for D in derivs])
    variances = np.diag(Phi)
    try:
        A = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.sqrt(variances), np.full(len(variances), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = 2 * variances**2 / np.einsum("it,ij,jt->t", grads, A, grads)
    return np.sqrt(variances), df
