"""Activation patching between the members of minimal pairs: effects with item intervals.

Two runs per pair are plain forward passes: the *clean* run (the input whose behaviour
we want to explain, e.g. the grammatical member) and the *corrupted* run (the other
member). A *patched* run copies one activation (one layer, position, site and, for
attention, head) from one run into the other:

``denoising``
    The corrupted input runs with the clean activation patched in; a large effect means
    the activation is *sufficient* to restore the clean behaviour.
``noising``
    The clean input runs with the corrupted activation patched in; a large effect means
    the activation is *necessary* for it.

The read-out of every run is one number per pair, by default the log-probability
difference of the pair's members (good minus bad). Two metrics are reported per cell:

``logprob_diff``
    ``mean(patched - base)``, where ``base`` is the run that was patched (corrupted when
    denoising, clean when noising): the raw change in log-probability difference.
``restored_fraction``
    ``sum(patched - corrupted) / sum(clean - corrupted)`` over the pairs: 1 means the
    patched run behaves like the clean run, 0 like the corrupted one, in both
    directions. A ratio of sums, not a mean of per-pair ratios, so that pairs whose
    clean and corrupted read-outs nearly coincide do not dominate it.

Intervals resample items (pairs, or whole ``groups`` such as ``item_id``) with the
same draws for every cell, so that intervals are paired across the sweep.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.causal._checks import (
    as_array,
    check_choice,
    check_labels,
    check_options,
    group_codes,
)
from probing.causal._resample import draw_group_counts, group_sums
from probing.stats import item_intervals

__all__ = ["DIRECTIONS", "PATCHING_COLUMNS", "PATCHING_METRICS", "patching_effects"]

#: Accepted ``direction`` values.
DIRECTIONS = ("denoising", "noising")
#: Values of the ``metric`` column.
PATCHING_METRICS = ("logprob_diff", "restored_fraction")
#: Columns of :func:`patching_effects`.
PATCHING_COLUMNS = ("direction", "layer", "site", "position", "head", "metric", "estimate",
                    "ci_low", "ci_high", "n_pairs")
_FUNC = "patching_effects"


def _check_inputs(clean, corrupted, patched):
    clean = as_array(clean, "clean", _FUNC, ndim=1)
    corrupted = as_array(corrupted, "corrupted", _FUNC, ndim=1)
    # NaN in a patched cell marks a position the pair does not have (aligned by region).
    patched = as_array(patched, "patched", _FUNC, ndim=(4, 5), allow_nan=True)
    if corrupted.shape != clean.shape or patched.shape[0] != clean.shape[0]:
        raise ProbingError(f"{_FUNC}: clean {clean.shape}, corrupted {corrupted.shape} and "
                           f"patched {patched.shape} must have the same number of pairs")
    if clean.size == 0:
        raise ProbingError(f"{_FUNC}: no pairs given")
    return clean, corrupted, patched


def _axis_labels(patched, layers, positions, heads, sites):
    has_heads = patched.ndim == 5
    labels = {
        "layer": check_labels(_FUNC, "layers", layers, patched.shape[1]),
        "position": check_labels(_FUNC, "positions", positions, patched.shape[2]),
        "head": (check_labels(_FUNC, "heads", heads, patched.shape[3]) if has_heads
                 else [pd.NA]),
        "site": check_labels(_FUNC, "sites", sites, patched.shape[-1]),
    }
    if not has_heads and heads is not None:
        raise ProbingError(f"{_FUNC}: heads given but patched has no head axis (shape "
                           f"{patched.shape}; expected pair x layer x position x head x site)")
    return labels


def patching_effects(clean, corrupted, patched, *, direction, layers=None, positions=None,
                     heads=None, sites=None, groups=None, n_boot=2000, ci=0.95,
                     random_state=0):
    """Effect of patching each cell, as a log-probability change and a restored fraction.

    Parameters
    ----------
    clean : array_like of shape (n_pairs,)
        Read-out (log p(good) - log p(bad)) of the clean run of each pair.
    corrupted : array_like of shape (n_pairs,)
        Read-out of the corrupted run of each pair.
    patched : array_like of shape (n_pairs, n_layers, n_positions, n_sites) or \
(n_pairs, n_layers, n_positions, n_heads, n_sites)
        Read-out of each patched run. NaN marks a cell a pair does not have (a
        position past the end of its shorter member); it is left out of that cell.
    direction : {"denoising", "noising"}
        Which run was patched (see the module docstring).
    layers, positions, heads, sites : sequence, optional
        Labels of the axes of ``patched`` (default ``0..n-1``). Positions may be token
        indices or region/word names; ``heads`` only with a head axis.
    groups : array_like of shape (n_pairs,), optional
        Item of each pair (``item_id``); whole items are resampled. Default: each pair.
    n_boot : int, default 2000
    ci : float, default 0.95
    random_state : int, numpy.random.Generator or None, default 0

    Returns
    -------
    pandas.DataFrame
        ``direction, layer, site, position, head, metric, effect, ci_low, ci_high,
        n_pairs``: one row per cell and metric (``logprob_diff``,
        ``restored_fraction``); ``head`` is ``<NA>`` without a head axis; ``n_pairs`` is
        the number of pairs with a value in the cell.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> clean, corrupted = rng.normal(2, 0.1, 30), rng.normal(-1, 0.1, 30)
    >>> patched = np.stack([corrupted, clean], axis=1)[:, :, None, None]  # layer 1 restores
    >>> table = patching_effects(clean, corrupted, patched, direction="denoising",
    ...                          sites=["resid_post"], n_boot=200)
    >>> table.loc[table.metric == "restored_fraction", ["layer", "estimate"]].round(2)
       layer  estimate
    1      0       0.0
    3      1       1.0
    """
    check_choice(_FUNC, "direction", direction, DIRECTIONS)
    check_options(_FUNC, n_boot=n_boot, ci=ci)
    clean, corrupted, patched = _check_inputs(clean, corrupted, patched)
    labels = _axis_labels(patched, layers, positions, heads, sites)
    codes = group_codes(groups, clean.size, _FUNC)
    n_groups = int(codes.max()) + 1
    base = corrupted if direction == "denoising" else clean
    cells = patched.reshape(clean.size, -1)
    valid = ~np.isnan(cells)
    change = np.where(valid, cells - base[:, None], 0.0)
    restored = np.where(valid, cells - corrupted[:, None], 0.0)
    gap = np.where(valid, (clean - corrupted)[:, None], 0.0)
    counts = draw_group_counts(n_groups, int(n_boot), random_state)
    n_valid = group_sums(valid, codes, n_groups)
    stats = {"logprob_diff": item_intervals(group_sums(change, codes, n_groups), n_valid,
                                             counts, ci),
             "restored_fraction": item_intervals(group_sums(restored, codes, n_groups),
                                                  group_sums(gap, codes, n_groups), counts, ci)}
    return _table(direction, labels, stats, valid.sum(0), patched.ndim == 5)


def _table(direction, labels, stats, n_pairs, has_heads):
    # Cell order of patched.reshape: layer, position, [head,] site (C order); rows keep
    # it (positions stay in stimulus order, not sorted by name), metrics inside a cell.
    axes = ["layer", "position", "head", "site"] if has_heads else ["layer", "position", "site"]
    grid = pd.MultiIndex.from_product([labels[a] for a in axes], names=axes).to_frame(
        index=False)
    if not has_heads:
        grid["head"] = pd.array([pd.NA] * len(grid), dtype="Int64")
    grid["_cell"] = np.arange(len(grid))
    frames = [grid.assign(direction=direction, metric=metric, estimate=estimate, ci_low=low,
                          ci_high=high, n_pairs=n_pairs.astype(int))
              for metric, (estimate, low, high) in stats.items()]
    out = pd.concat(frames, ignore_index=True).sort_values("_cell", kind="stable",
                                                           ignore_index=True)
    return out[list(PATCHING_COLUMNS)]
