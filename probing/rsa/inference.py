"""Stimulus-label permutation tests of RDM comparisons (Kriegeskorte et al. 2008).

The null hypothesis is that the data RDM is unrelated to the model RDM: relabelling
the stimuli of the model RDM (rows and columns together) is then as good as the
true labels. rsatoolbox has no such test; its pattern bootstrap returns NaN p-values
with few stimuli.

Speed: each RDM is embedded once (ranks for ``spearman``, see
:func:`probing.rsa.rdm_comparison.embed`); a batch of permutations becomes one integer index
array into the model's embedding and one matrix product with all data RDMs (all
layers) at once, in chunks that bound memory. ``tau_a`` has no such embedding and
loops over permutations (slow; prefer ``rho_a`` or ``spearman``).

With ``n_stimuli! <= max_exact`` (default 10,000, i.e. up to 7 stimuli) every
permutation is enumerated once, the identity included, and ``p = b / n!``
(:func:`probing.stats.permutation_pvalue` with ``exact=True``): with 5 stimuli the
smallest possible p-value is 1/120, never 0 and never NaN.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pandas as pd

from probing._core.defaults import N_PERM, RANDOM_STATE
from probing._core.deprecation import renamed, renamed_fields
from probing._core.errors import ProbingError
from probing.rsa.rdm import pair_indices
from probing.rsa.rdm_comparison import align_rdms, check_method, embed, tau_a
from probing.stats import permutation_pvalue

__all__ = ["PermutationResult", "draw_permutations", "permutation_test"]

# Values held by one chunk of permuted embeddings (float64): 2**22 is 32 MiB.
_CHUNK_VALUES = 2**22


@renamed_fields(method="comparison")
@dataclasses.dataclass(frozen=True)
class PermutationResult:
    """Observed RDM similarities with their stimulus-permutation p-values.

    Attributes
    ----------
    value : numpy.ndarray of shape (n_data, n_model)
        Similarity of each data RDM with each model RDM on the true labels.
    p_val : numpy.ndarray of shape (n_data, n_model)
        Permutation p-values (never 0).
    null : numpy.ndarray of shape (n_perm, n_data, n_model)
        The statistic under each permutation.
    permutations : numpy.ndarray of shape (n_perm, n_stimuli)
        Permutation ``k`` gives the model RDM's stimuli ``permutations[k]`` to the
        data's stimuli ``0 .. n - 1`` (the permuted model is ``M[p][:, p]``).
    exact : bool
        True when ``permutations`` enumerates all ``n!`` orders.
    comparison, alternative : str
    """

    value: np.ndarray
    p_val: np.ndarray
    null: np.ndarray
    permutations: np.ndarray
    exact: bool
    comparison: str
    alternative: str

    @property
    def n_perm(self):
        return self.null.shape[0]


@renamed(n_conditions="n_stimuli")
def draw_permutations(n_stimuli, *, n_perm=N_PERM, max_exact=10_000, within=None,
                      random_state=RANDOM_STATE):
    """Stimulus permutations for a test: all of them when few, else random ones.

    Parameters
    ----------
    n_stimuli : int
    n_perm : int, default ``N_PERM`` = 10,000
        Default from ``probing._core.defaults`` (p down to 1e-4, so a corrected layer sweep can reach 0.05).
        Random permutations to draw when ``n_stimuli! > max_exact``.
    max_exact : int, default 10_000
        Enumerate every permutation when there are at most this many.
    within : array_like of shape (n_stimuli,), optional
        Block of each stimulus: stimuli are only exchanged inside their block (a
        restricted permutation, e.g. the four stimuli of one item). Always random.
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).

    Returns
    -------
    permutations : numpy.ndarray of shape (n_perm, n_stimuli), int32
    exact : bool

    Examples
    --------
    >>> perms, exact = draw_permutations(3)
    >>> perms.shape, exact
    ((6, 3), True)
    >>> draw_permutations(20, n_perm=5, random_state=0)[0].shape
    (5, 20)
    """
    if int(n_stimuli) < 2:
        raise ProbingError(f"permutation_test: need at least 2 stimuli, got {n_stimuli}")
    if int(n_perm) < 1:
        raise ProbingError(f"permutation_test: n_perm must be a positive integer, got {n_perm!r}")
    rng = np.random.default_rng(random_state)
    if within is not None:
        return _permute_within(n_stimuli, int(n_perm), within, rng), False
    if math.factorial(n_stimuli) <= max_exact:
        perms = np.array(list(itertools.permutations(range(n_stimuli))), dtype=np.int32)
        return perms, True
    base = np.broadcast_to(np.arange(n_stimuli, dtype=np.int32), (int(n_perm), n_stimuli))
    return rng.permuted(base, axis=1), False


def _permute_within(n_stimuli, n_perm, within, rng):
    blocks = np.asarray(within, dtype=object)
    if blocks.shape != (n_stimuli,):
        raise ProbingError(f"permutation_test: within must have one block label per stimulus "
                           f"({n_stimuli}); got shape {blocks.shape}")
    codes = pd.factorize(blocks)[0]
    if np.bincount(codes).max() < 2:
        raise ProbingError("permutation_test: within puts every stimulus in its own block; "
                           "nothing can be exchanged")
    perms = np.broadcast_to(np.arange(n_stimuli, dtype=np.int32), (n_perm, n_stimuli)).copy()
    for code in np.unique(codes):
        members = np.flatnonzero(codes == code).astype(np.int32)
        if members.size > 1:
            order = rng.permuted(np.broadcast_to(np.arange(members.size), (n_perm, members.size)),
                                 axis=1)
            perms[:, members] = members[order]
    return perms


def permuted_index(perms, n, kind):
    """Where each entry of a permuted embedding comes from: ``(n_perm, n_columns)`` int."""
    if kind == "full":
        return (perms[:, :, None] * n + perms[:, None, :]).reshape(len(perms), n * n)
    rows, cols = pair_indices(n)
    lookup = np.zeros((n, n), dtype=np.int32)
    lookup[rows, cols] = lookup[cols, rows] = np.arange(rows.size, dtype=np.int32)
    return lookup.ravel()[perms[:, rows] * n + perms[:, cols]]


def permuted_similarities(data_values, model_values, perms, comparison):
    """``(n_perm, n_data, n_model)`` similarities with the models' stimuli permuted."""
    n = perms.shape[1]
    out = np.empty((len(perms), len(data_values), len(model_values)))
    if comparison == "tau_a":
        rows, cols = pair_indices(n)
        for k, p in enumerate(perms):
            index = permuted_index(p[None], n, "pairs")[0]
            out[k] = [[tau_a(x, m[index]) for m in model_values] for x in data_values]
        return out
    e_data, kind = embed(data_values, comparison)
    e_model, _ = embed(model_values, comparison)
    chunk = max(1, _CHUNK_VALUES // e_data.shape[1])
    for start in range(0, len(perms), chunk):
        index = permuted_index(perms[start:start + chunk], n, kind)
        for j, e in enumerate(e_model):
            out[start:start + chunk, :, j] = e[index] @ e_data.T
    return out


@renamed(method="comparison")
def permutation_test(data, model, *, comparison="spearman", n_perm=N_PERM, alternative="greater",
                     max_exact=10_000, within=None, random_state=RANDOM_STATE):
    """Test RDM similarities by permuting stimulus labels.

    Parameters
    ----------
    data : RDMs or array_like
        Data RDMs (for example one per layer), ``(n_data, n_pairs)``.
    model : RDMs or array_like
        Model RDMs over the same stimuli (reordered to ``data``'s if needed).
    comparison : str, default "spearman"
        A :func:`~probing.rsa.compare_rdms` comparison.
    n_perm : int, default ``N_PERM`` = 10,000
        Default from ``probing._core.defaults`` (p down to 1e-4, so a corrected layer sweep can reach 0.05).
        Random permutations when the stimuli are too many to enumerate.
    alternative : {"greater", "less", "two-sided"}, default "greater"
    max_exact : int, default 10_000
        Enumerate all ``n!`` permutations when ``n! <= max_exact``.
    within : array_like of shape (n_stimuli,), optional
        Exchange stimuli only inside these blocks (see :func:`draw_permutations`):
        when stimuli are nested in items, permuting within items keeps each item's own
        similarity structure in the null, where free permutation would not.
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).

    Returns
    -------
    PermutationResult
        ``value, p_val`` of shape ``(n_data, n_model)``, the ``null`` and the
        ``permutations`` used.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> model = rng.normal(size=45)
    >>> data = np.stack([model + rng.normal(scale=0.5, size=45), rng.normal(size=45)])
    >>> res = permutation_test(data, model, n_perm=999, random_state=0)
    >>> res.p_val[:, 0] < 0.05
    array([ True, False])
    >>> float(permutation_test(data[:, :10], model[:10]).p_val.min()) >= 1 / 120
    True
    """
    check_method(comparison, "permutation_test")
    data, model = align_rdms(data, model)
    perms, exact = draw_permutations(data.n_stimuli, n_perm=n_perm, max_exact=max_exact,
                                     within=within, random_state=random_state)
    null = permuted_similarities(data.values, model.values, perms, comparison)
    identity = np.arange(data.n_stimuli, dtype=np.int32)[None]
    value = permuted_similarities(data.values, model.values, identity, comparison)[0]
    p_val = permutation_pvalue(value.ravel(), null.reshape(len(perms), -1),
                               alternative=alternative, exact=exact).reshape(value.shape)
    return PermutationResult(value=value, p_val=p_val, null=null, permutations=perms,
                             exact=exact, comparison=comparison, alternative=alternative)
