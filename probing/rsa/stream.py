"""RSA at corpus scale: RDMs and permutation tests streamed by layer and by block.

:func:`permutation_test` on :func:`compute_rdm` holds every layer's condensed RDM and
every permuted model at once: at 10,000 stimuli one condensed RDM is 50 million pairs
(400 MB in float64), 31 layers 12 GB. :func:`stream_rsa` gives the same numbers while
holding one group of layers at a time:

- each layer's patterns are read from ``activations[:, layer]`` (a memory map is read
  one layer at a time) and its condensed RDM is filled in blocks of rows (the rows
  ``a..b`` of the upper triangle are one contiguous run of the condensed vector), from
  one ``(rows, n)`` Gram block at a time;
- the RDM is embedded in place (ranks for ``spearman``, centred and scaled to unit
  norm), so that a comparison is one dot product;
- each permutation's model embedding is never built whole: for each block of rows the
  permuted pair indices (``start[min] + max - min - 1``) are computed once and gathered
  for every layer of the group.

Memory: about ``(layers_per_pass + 3) x n_pairs x 8`` bytes: the group's embeddings, the
model's, and while a layer is ranked its argsort and one sorted copy (ranks are written in
place; ``rankdata`` would hold about four arrays more), plus blocks of ``block_rows x n``.
The caller's model RDM is not modified.
Cost: the RDMs ``O(n_layers n^2 n_units)``; the permutation test ``O(n_perm x n_pairs x
n_layers)``, linear in the number of permutations (each permutation reads every pair of
every layer once; the index arithmetic is shared by ``layers_per_pass`` layers).
"""

from __future__ import annotations

import numpy as np

from probing._core.defaults import N_PERM, RANDOM_STATE
from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing.rsa.compute import unit_patterns
from probing.rsa.inference import PermutationResult, draw_permutations
from probing.stats import permutation_pvalue

__all__ = ["STREAM_COMPARISONS", "STREAM_DISTANCES", "stream_rsa"]

#: Distances and comparisons :func:`stream_rsa` computes blockwise.
STREAM_DISTANCES = ("correlation", "cosine")
STREAM_COMPARISONS = ("spearman", "pearson")


def _row_starts(n):
    """Condensed index of pair ``(i, i + 1)`` for each row ``i`` (and the total at ``n``)."""
    i = np.arange(n + 1, dtype=np.int64)
    return i * n - i * (i + 1) // 2


def _layer_rdm(P, distance, dtype, block_rows, out):
    """Condensed RDM of one layer's patterns ``(n, n_units)`` into ``out``, block by block."""
    P = unit_patterns(P, distance, dtype, where="stream_rsa")
    n = len(P)
    starts = _row_starts(n)
    for a in range(0, n - 1, block_rows):
        b = min(a + block_rows, n - 1)
        gram = P[a:b] @ P.T
        for i in range(a, b):
            out[starts[i]:starts[i + 1]] = 1.0 - gram[i - a, i + 1:].astype(np.float64)
    return out


def _average_ranks_(values, block_size=1 << 20):
    """Replace ``values`` by their ranks, ties averaged (``scipy.stats.rankdata``), in place.

    ``rankdata`` holds an argsort, its inverse, the sorted values and a cumulative count
    besides its result (about 1.6 GB more at 10,000 stimuli); here only the argsort and
    one sorted copy (800 MB): the sorted copy is overwritten with ranks block by block (a
    block ends at the end of a run of ties, so each tie gets the mean of the 1-based
    positions it spans) and scattered back. NaN anywhere gives NaN everywhere, as
    ``rankdata`` does.
    """
    if np.isnan(values).any():
        values[...] = np.nan
        return values
    order = np.argsort(values)
    ranked = values[order]
    n, a = len(ranked), 0
    while a < n:
        b = min(a + block_size, n)
        if b < n and ranked[b] == ranked[b - 1]:  # keep a run of ties in one block:
            # searched in the part not yet overwritten by ranks (the part still sorted)
            b += int(np.searchsorted(ranked[b:], ranked[b - 1], side="right"))
        block = ranked[a:b]
        starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
        ends = np.r_[starts[1:], len(block)]
        block[...] = np.repeat(a + (starts + ends + 1) / 2.0, ends - starts)
        a = b
    values[order] = ranked
    return values


def _embed_(values, comparison):
    """The comparison's embedding of one condensed RDM, in place (ranks, centred, unit norm)."""
    if comparison == "spearman":
        _average_ranks_(values)
    values -= values.mean()
    norm = np.linalg.norm(values)
    if norm > 0:
        values /= norm
    else:
        values[...] = np.nan
    return values


def _permuted_dots(group, model, perm, starts, block_rows):
    """``sum_k group[:, k] * model[perm(k)]`` for one permutation, block of rows by block."""
    n = len(perm)
    total = np.zeros(len(group))
    for a in range(0, n - 1, block_rows):
        b = min(a + block_rows, n - 1)
        rows = np.repeat(np.arange(a, b), n - 1 - np.arange(a, b))
        cols = np.arange(starts[a], starts[b]) - starts[rows] + rows + 1
        pi, pj = perm[rows], perm[cols]
        lo, hi = np.minimum(pi, pj), np.maximum(pi, pj)
        moved = model[starts[lo] + hi - lo - 1]
        total += group[:, starts[a]:starts[b]] @ moved
    return total


def _check(activations, model, distance, comparison, layers_per_pass, block_rows):
    if distance not in STREAM_DISTANCES:
        raise ProbingError(f"stream_rsa: distance must be one of {list(STREAM_DISTANCES)}; "
                           f"got {distance!r}")
    if comparison not in STREAM_COMPARISONS:
        raise ProbingError(f"stream_rsa: comparison must be one of {list(STREAM_COMPARISONS)}; "
                           f"got {comparison!r}")
    for name, value in (("layers_per_pass", layers_per_pass), ("block_rows", block_rows)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ProbingError(f"stream_rsa: {name} must be a positive integer; got {value!r}")
    if np.ndim(activations) != 3:
        raise ProbingError(f"stream_rsa: activations must be (n_stimuli, n_layers, n_units); "
                           f"got shape {np.shape(activations)}")
    n = np.shape(activations)[0]
    if np.shape(model) != (n * (n - 1) // 2,):
        raise ProbingError(f"stream_rsa: model must be one condensed RDM of {n * (n - 1) // 2} "
                           f"pairs for {n} stimuli; got shape {np.shape(model)}")


@renamed(model="model_rdm")
def stream_rsa(activations, model_rdm, *, layers=None, distance="correlation",
               comparison="spearman", n_perm=N_PERM, alternative="greater",
               random_state=RANDOM_STATE, layers_per_pass=4, block_rows=256, dtype="float32"):
    """Compare each layer's RDM with one model RDM and test it, in bounded memory.

    The numbers of ``permutation_test(compute_rdm(X, distance=...), model, ...)``
    (the same permutations for the same ``random_state``), without holding more than
    ``layers_per_pass`` condensed RDMs.

    Parameters
    ----------
    activations : array_like of shape (n_stimuli, n_layers, n_units)
        A NumPy array or memory map (read one layer at a time).
    model_rdm : array_like of shape (n_pairs,)
        One condensed model RDM over the same stimuli, in the same order.
    layers : list of int, optional
        Layer indices into the second axis (default: all).
    distance : {"correlation", "cosine"}, default "correlation"
    comparison : {"spearman", "pearson"}, default "spearman"
    n_perm : int, default ``N_PERM`` = 10,000
        Random stimulus permutations (all of them when ``n!`` is at most 10,000).
    alternative : {"greater", "less", "two-sided"}, default "greater"
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
    layers_per_pass : int, default 4
        Layers whose embeddings are held together (they share each permutation's
        index arithmetic): memory against speed.
    block_rows : int, default 256
        RDM rows per block (Gram products and permuted indices).
    dtype : {"float32", "float64"}, default "float32"
        Precision of the Gram products, as in :func:`~probing.rsa.compute_rdm`.

    Returns
    -------
    PermutationResult
        ``value``, ``p_val`` of shape ``(n_layers, 1)``, ``null`` of shape
        ``(n_perm, n_layers, 1)`` and the ``permutations``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(12, 2, 5))
    >>> X[:6, 1, 0] += 3.0  # layer 1 separates the two halves
    >>> model = np.array([float((i < 6) != (j < 6))
    ...     for i in range(12) for j in range(i + 1, 12)])
    >>> res = stream_rsa(X, model, n_perm=200, random_state=0)
    >>> res.value.shape, bool(res.p_val[1, 0] < 0.05)
    ((2, 1), True)
    """
    _check(activations, model_rdm, distance, comparison, layers_per_pass, block_rows)
    n = np.shape(activations)[0]
    layers = list(range(np.shape(activations)[1])) if layers is None else list(layers)
    perms, exact = draw_permutations(n, n_perm=n_perm, random_state=random_state)
    e_model = _embed_(np.array(model_rdm, dtype=np.float64), comparison)
    starts = _row_starts(n)
    value = np.empty(len(layers))
    null = np.empty((len(perms), len(layers)))
    for g in range(0, len(layers), layers_per_pass):
        chosen = layers[g:g + layers_per_pass]
        group = np.empty((len(chosen), len(e_model)))
        for row, k in enumerate(chosen):  # each layer's RDM built and embedded in its row
            _layer_rdm(np.asarray(activations[:, k]), distance, dtype, block_rows, group[row])
            _embed_(group[row], comparison)
        value[g:g + len(chosen)] = group @ e_model
        for p, perm in enumerate(perms):
            null[p, g:g + len(chosen)] = _permuted_dots(group, e_model, perm, starts, block_rows)
        del group
    value, null = value[:, None], null[..., None]
    p_val = permutation_pvalue(value.ravel(), null.reshape(len(perms), -1),
                               alternative=alternative, exact=exact).reshape(value.shape)
    return PermutationResult(value=value, p_val=p_val, null=null, permutations=perms,
                             exact=exact, comparison=comparison, alternative=alternative)
