"""Noise ceilings: how well the best possible model could match several "subjects".

With several RDMs of the same stimuli that should agree up to noise (seeds, prompt
templates, models, item subsets: the *subjects*), the ceiling brackets the best
achievable mean similarity (Nili et al. 2014):

upper bound
    Mean similarity of each subject with the pooled RDM of *all* subjects (the pool has
    seen the subject, so it overfits: an upper bound).
lower bound
    Mean similarity of each subject with the pooled RDM of the *other* subjects.

The pool is the one that maximises the comparison, as in rsatoolbox's ``pool_rdm``: the
mean of the RDMs scaled to unit root mean square (``cosine``, ``whitened_cosine``), of
the z-scored RDMs (``pearson``, ``whitened_pearson``), or of the ranks (``spearman``,
``rho_a``, ``tau_a``). Both bounds equal rsatoolbox's ``boot_noise_ceiling`` on the
full set (``tests/rsa/test_ceiling.py``).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats

from probing._core.deprecation import renamed, renamed_fields
from probing._core.errors import ProbingError
from probing.rsa.rdm import check_rdm
from probing.rsa.rdm_comparison import check_method, compare_rdms

__all__ = ["NoiseCeiling", "noise_ceiling"]


@renamed_fields(method="comparison")
@dataclasses.dataclass(frozen=True)
class NoiseCeiling:
    """Lower and upper bounds of the noise ceiling.

    Attributes
    ----------
    lower, upper : float
    comparison : str
    n_subjects : int
    """

    lower: float
    upper: float
    comparison: str
    n_subjects: int


def _standardise(values, comparison):
    if comparison in ("spearman", "rho_a", "tau_a"):
        return stats.rankdata(values, axis=1)
    if comparison in ("pearson", "whitened_pearson"):
        centred = values - values.mean(axis=1, keepdims=True)
        return centred / centred.std(axis=1, keepdims=True)
    return values / np.sqrt(np.mean(values**2, axis=1, keepdims=True))


@renamed(method="comparison")
def noise_ceiling(rdms, *, comparison="spearman"):
    """Upper and lower noise ceiling of subject RDMs.

    Parameters
    ----------
    rdms : RDMs or array_like of shape (n_subjects, n_pairs)
        One RDM per subject (seed, prompt, model, item subset), same stimuli.
    comparison : str, default "spearman"
        A :func:`~probing.rsa.compare_rdms` comparison; the pool is built to suit it.

    Returns
    -------
    NoiseCeiling
        ``lower`` (leave-one-subject-out) and ``upper`` (all subjects) bounds.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.normal(size=45)
    >>> subjects = truth + rng.normal(scale=0.5, size=(6, 45))
    >>> nc = noise_ceiling(subjects, comparison="pearson")
    >>> bool(0 < nc.lower < nc.upper < 1)
    True
    """
    check_method(comparison, "noise_ceiling")
    rdms = check_rdm(rdms)
    if rdms.n_rdms < 2:
        raise ProbingError(f"noise_ceiling: need at least 2 subject RDMs, got {rdms.n_rdms}")
    standard = _standardise(rdms.values, comparison)
    pooled = standard.mean(axis=0)
    loo = (standard.sum(axis=0) - standard) / (rdms.n_rdms - 1)
    upper = compare_rdms(rdms.values, pooled, comparison=comparison)[:, 0]
    lower = [compare_rdms(rdms.values[k], loo[k], comparison=comparison)[0, 0]
             for k in range(rdms.n_rdms)]
    return NoiseCeiling(lower=float(np.mean(lower)), upper=float(np.mean(upper)),
                        comparison=comparison, n_subjects=rdms.n_rdms)
