"""Noise ceilings: how well the best possible model could match several "subjects".

With several RDMs of the same conditions that should agree up to noise (seeds, prompt
templates, models, item subsets: the *subjects*), the ceiling brackets the best
achievable mean similarity (Nili et al. 2014):

upper bound
    Mean similarity of each subject with the pooled RDM of *all* subjects (the pool has
    seen the subject, so it overfits: an upper bound).
lower bound
    Mean similarity of each subject with the pooled RDM of the *other* subjects.

The pool is the one that maximises the method, as in rsatoolbox's ``pool_rdm``: the
mean of the RDMs scaled to unit root mean square (``cosine``, ``whitened_cosine``), of
the z-scored RDMs (``pearson``, ``whitened_pearson``), or of the ranks (``spearman``,
``rho_a``, ``tau_a``). Both bounds equal rsatoolbox's ``boot_noise_ceiling`` on the
full set (``tests/rsa/test_ceiling.py``).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats

from probing._core.errors import ProbingError
from probing.rsa.compare import check_method, compare_rdms
from probing.rsa.rdm import check_rdm

__all__ = ["NoiseCeiling", "noise_ceiling"]


@dataclasses.dataclass(frozen=True)
class NoiseCeiling:
    """Lower and upper bounds of the noise ceiling.

    Attributes
    ----------
    lower, upper : float
    method : str
    n_subjects : int
    """

    lower: float
    upper: float
    method: str
    n_subjects: int


def _standardise(values, method):
    if method in ("spearman", "rho_a", "tau_a"):
        return stats.rankdata(values, axis=1)
    if method in ("pearson", "whitened_pearson"):
        centred = values - values.mean(axis=1, keepdims=True)
        return centred / centred.std(axis=1, keepdims=True)
    return values / np.sqrt(np.mean(values**2, axis=1, keepdims=True))


def noise_ceiling(rdms, *, method="spearman"):
    """Upper and lower noise ceiling of subject RDMs.

    Parameters
    ----------
    rdms : RDMs or array_like of shape (n_subjects, n_pairs)
        One RDM per subject (seed, prompt, model, item subset), same conditions.
    method : str, default "spearman"
        A :func:`~probing.rsa.compare_rdms` method; the pool is built to suit it.

    Returns
    -------
    NoiseCeiling
        ``lower`` (leave-one-subject-out) and ``upper`` (all subjects) bounds.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.normal(size=45)
    >>> subjects = truth + rng.normal(scale=0.5, size=(6, 45))
    >>> nc = noise_ceiling(subjects, method="pearson")
    >>> bool(0 < nc.lower < nc.upper < 1)
    True
    """
    check_method(method, "noise_ceiling")
    rdms = check_rdm(rdms)
    if rdms.n_rdms < 2:
        raise ProbingError(f"noise_ceiling: need at least 2 subject RDMs, got {rdms.n_rdms}")
    standard = _standardise(rdms.values, method)
    pooled = standard.mean(axis=0)
    loo = (standard.sum(axis=0) - standard) / (rdms.n_rdms - 1)
    upper = compare_rdms(rdms.values, pooled, method=method)[:, 0]
    lower = [compare_rdms(rdms.values[k], loo[k], method=method)[0, 0]
             for k in range(rdms.n_rdms)]
    return NoiseCeiling(lower=float(np.mean(lower)), upper=float(np.mean(upper)),
                        method=method, n_subjects=rdms.n_rdms)
