"""Noise covariance estimates for Mahalanobis and crossnobis RDMs.

:func:`estimate_noise_cov` follows the definitions of rsatoolbox's
``rsatoolbox.data.noise.cov_from_residuals`` (equal to 1e-10 in
``tests/rsa/test_noise.py``), computed with two matrix products instead of a loop
over observations:

``full``
    The sample covariance ``R'R / dof`` of the column-centred residuals ``R``.
``diag``
    Its diagonal (a univariate noise normaliser).
``shrinkage_eye``
    Ledoit & Wolf (2004): shrunk towards a multiple of the identity.
``shrinkage_diag``
    Schaefer & Strimmer (2005): the correlations shrunk towards 0 (the default;
    rsatoolbox's default too).

rsatoolbox's ``calc_rdm(..., noise=P)`` takes the *precision* ``P``; ours take the
covariance, so ``P = numpy.linalg.inv(estimate_noise_cov(R))``.
"""

from __future__ import annotations

import numpy as np

from probing._core.deprecation import renamed
from probing._core.errors import ProbingError

__all__ = ["COVARIANCES", "NOISE_METHODS", "estimate_noise_cov"]

COVARIANCES = ("shrinkage_diag", "shrinkage_eye", "diag", "full")
NOISE_METHODS = COVARIANCES  # its name before 0.2 (one release)


@renamed(method="covariance")
def estimate_noise_cov(residuals, *, covariance="shrinkage_diag", dof=None):
    """Covariance of measurement noise over units, optionally shrunk.

    Parameters
    ----------
    residuals : array_like of shape (n_obs, n_units) or (n_layers, n_obs, n_units)
        Noise samples (for example each pattern minus its stimulus's mean). Each unit is
        centred over observations first.
    covariance : {"shrinkage_diag", "shrinkage_eye", "diag", "full"}, default "shrinkage_diag"
        See the module docstring.
    dof : int, optional
        Degrees of freedom; default ``n_obs - 1`` (pass ``n_obs - n_stimuli`` for
        residuals from the stimuli's means).

    Returns
    -------
    numpy.ndarray of shape (n_units, n_units) or (n_layers, n_units, n_units)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> cov = estimate_noise_cov(rng.normal(size=(50, 4)))
    >>> cov.shape, bool(np.allclose(cov, cov.T))
    ((4, 4), True)
    """
    if covariance not in COVARIANCES:
        raise ProbingError(f"estimate_noise_cov: covariance must be one of {list(COVARIANCES)}, "
                           f"got {covariance!r}")
    residuals = np.asarray(residuals, dtype=np.float64)
    if residuals.ndim == 3:
        return np.stack([estimate_noise_cov(r, covariance=covariance, dof=dof) for r in residuals])
    if residuals.ndim != 2 or residuals.shape[0] < 2:
        raise ProbingError(f"estimate_noise_cov: residuals must be (n_obs, n_units) with "
                           f"n_obs >= 2; got shape {residuals.shape}")
    if not np.all(np.isfinite(residuals)):
        raise ProbingError("estimate_noise_cov: residuals must be finite")
    centred = residuals - residuals.mean(axis=0)
    n_obs = centred.shape[0]
    dof = n_obs - 1 if dof is None else int(dof)
    if dof < 1:
        raise ProbingError(f"estimate_noise_cov: dof must be >= 1, got {dof}")
    cross = centred.T @ centred
    if covariance == "full":
        return cross / dof
    if covariance == "diag":
        return np.diag(np.diag(cross) / dof)
    # sum over observations of (x_j x_k)^2: the second moments the shrinkage needs
    cross_sq = (centred**2).T @ (centred**2)
    if covariance == "shrinkage_eye":
        return _ledoit_wolf(cross, cross_sq, n_obs, dof)
    return _schaefer_strimmer(cross, cross_sq, n_obs, dof)


def _ledoit_wolf(cross, cross_sq, n_obs, dof):
    s = cross / n_obs
    b2 = np.sum(cross_sq / n_obs - s * s) / n_obs
    m = np.trace(s) / s.shape[0]
    eye = np.eye(s.shape[0])
    d2 = np.sum((s - m * eye) ** 2)
    b2 = min(d2, b2)
    shrunk = b2 / d2 * m * eye + (d2 - b2) / d2 * s
    return shrunk * n_obs / dof


def _schaefer_strimmer(cross, cross_sq, n_obs, dof):
    s = cross / dof
    var = np.diag(s)
    std = np.sqrt(var)
    s_mean = cross / np.outer(std, std) / (n_obs - 1)
    s2_mean = cross_sq / np.outer(var, var) / (n_obs - 1)
    var_hat = n_obs / dof**2 * (s2_mean - s_mean**2)
    off = ~np.eye(s.shape[0], dtype=bool)
    lam = float(np.clip(np.sum(var_hat[off]) / np.sum(s_mean[off] ** 2), 0.0, 1.0))
    return s * np.where(off, 1.0 - lam, 1.0)
