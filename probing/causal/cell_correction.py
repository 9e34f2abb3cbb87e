"""Multiplicity across a patching sweep: family-wise (max-|t|) or FDR-corrected cells.

:func:`~probing.causal.patching_effects` gives each cell of a layer x position (x head)
grid its own 95% interval; over hundreds of cells some exclude 0 by chance.
:func:`sweep_correction` takes the per-pair effects of every cell (the table of
:func:`~probing.causal.patching_pairs`) and corrects across the whole grid:

``max_t`` (default)
    Westfall-Young single-step max-|t| over sign flips of the items
    (:func:`probing.stats.max_t_test`): family-wise adjusted ``p_corr`` and
    simultaneous intervals that hold for every cell at once. Pairs of one item are
    flipped together, so items are the unit, as in the per-cell intervals.
``fdr_bh``, ``holm``, ``bonferroni``
    The per-cell t-test p-values corrected by ``statsmodels.stats.multitest`` (through
    :func:`probing.stats.correct_pvalues`); the intervals stay the per-cell ones, since
    no simultaneous interval goes with these corrections.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from probing._core.defaults import CI, N_PERM, RANDOM_STATE
from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing._core.values import SWEEP_CORRECTIONS
from probing.causal._checks import check_choice
from probing.stats import (
    check_n_items,
    correct_pvalues,
    correction_label,
    item_t_tests,
    max_t_test,
)

__all__ = ["SWEEP_COLUMNS", "sweep_correction"]

#: The cell columns :func:`sweep_correction` looks for (those present define a cell).
CELL_COLUMNS = ("direction", "layer", "site", "position", "head", "unit")
#: Columns of :func:`sweep_correction` after the cell columns.
SWEEP_COLUMNS = ("metric", "estimate", "ci_low", "ci_high", "stat", "df", "p_val", "p_corr",
                 "correction", "n_cells", "n_pairs", "n_items", "n_perm", "exact")
_FUNC = "sweep_correction"


def _check_table(pairs, value, groups):
    if not isinstance(pairs, pd.DataFrame):
        raise ProbingError(f"{_FUNC}: pairs must be a DataFrame (patching_pairs), got "
                           f"{type(pairs).__name__}")
    unit = groups or "pair_id"
    missing = [c for c in (value, unit) if c not in pairs.columns]
    if missing:
        raise ProbingError(f"{_FUNC}: pairs lacks column(s) {missing} (column={value!r}, "
                           f"group_column={groups!r}; group_column=None uses pair_id)")
    if pairs[unit].isna().any():
        raise ProbingError(f"{_FUNC}: column {unit!r} has missing labels")
    values = pd.to_numeric(pairs[value], errors="coerce")
    if np.isinf(values).any() or values.isna().sum() > pairs[value].isna().sum():
        raise ProbingError(f"{_FUNC}: column {value!r} must be numeric and finite "
                           f"(NaN marks a pair without the cell)")
    return unit, values.to_numpy(float)


def _grid(pairs, cells, values, unit):
    """Per-item sums and pair counts of each cell: two ``(n_items, n_cells)`` arrays."""
    keep = ~np.isnan(values)
    rows = pairs.loc[keep]
    # Cells numbered in the order they first appear (ngroup with sort=False).
    cell_codes = (rows.groupby(cells, sort=False, dropna=False).ngroup().to_numpy() if cells
                  else np.zeros(len(rows), int))
    item_codes = pd.factorize(rows[unit], sort=True)[0]
    n_items = int(pd.unique(pairs[unit]).size)
    shape = (n_items, max(1, int(cell_codes.max()) + 1) if len(rows) else 0)
    num, den = np.zeros(shape), np.zeros(shape)
    np.add.at(num, (item_codes, cell_codes), values[keep])
    np.add.at(den, (item_codes, cell_codes), 1.0)
    frame = (rows[cells].drop_duplicates().reset_index(drop=True) if cells
             else pd.DataFrame(index=range(shape[1])))
    return num, den, frame


@renamed(value="column", groups="group_column")
def sweep_correction(pairs, *, column="estimate", metric="logprob_diff", group_column="item_id",
                     cells=None, correction="max_t", n_perm=N_PERM, ci=CI,
                     random_state=RANDOM_STATE):
    """Cells of a patching sweep, corrected for testing every cell of the grid.

    Parameters
    ----------
    pairs : pandas.DataFrame
        One row per pair and cell, as :func:`~probing.causal.patching_pairs` writes it
        (``pair_id, item_id, direction, layer, site, position, head, ..., estimate``). A
        NaN in ``column`` marks a cell the pair does not have; it is left out.
    column : str, default "estimate"
        The column averaged over pairs in each cell (``estimate = patched - base``).
    metric : str, default "logprob_diff"
        Copied into the ``metric`` column (the name :func:`patching_effects` gives the
        mean of ``estimate``).
    group_column : str or None, default "item_id"
        The column of the items: pairs of one item are flipped together and the item is
        the unit of every interval and test. None: each ``pair_id`` is its own item.
    cells : sequence of str, optional
        The columns that define a cell; default those of ``direction, layer, site,
        position, head, unit`` the table has. Every cell is one test of the family.
    correction : {"max_t", "fdr_bh", "holm", "bonferroni"}, default "max_t"
        ``max_t``: Westfall-Young max-|t| over item sign flips, family-wise adjusted
        ``p_corr`` and simultaneous intervals. The others correct the per-cell t-test
        p-values (``fdr_bh``: Benjamini-Hochberg, ``statsmodels.stats.multitest``) and
        keep the per-cell intervals.
    n_perm : int, default 10,000
        Sign vectors (all ``2**n_items`` when fewer); ``max_t`` only.
    ci : float, default 0.95
    random_state : int, numpy.random.Generator or None, default 0

    Returns
    -------
    pandas.DataFrame
        The cell columns, then ``metric, estimate, ci_low, ci_high, stat, df, p_val,
        p_corr, correction, n_cells, n_pairs, n_items, n_perm, exact``: ``estimate`` the
        mean over pairs, ``stat`` its t statistic with items as clusters on ``df =
        n_items - 1``, ``p_val`` the per-cell two-sided t-test, ``p_corr`` corrected over
        the ``n_cells`` cells, ``n_perm`` and ``exact`` the sign flips behind ``max_t``
        (0 and False otherwise). One row per cell, in the order the cells first appear.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> grid = pd.MultiIndex.from_product([range(10), ["a", "b", "c"]],
    ...                                   names=["layer", "position"]).to_frame(index=False)
    >>> pairs = pd.concat([grid.assign(item_id=i, pair_id=i) for i in range(20)],
    ...                   ignore_index=True)
    >>> pairs["estimate"] = rng.normal(size=len(pairs)) + 2.0 * (pairs.layer == 5)
    >>> table = sweep_correction(pairs)
    >>> table.loc[table.p_corr < 0.05, ["layer", "position"]].to_numpy().tolist()
    [[5, 'a'], [5, 'b'], [5, 'c']]
    """
    check_choice(_FUNC, "correction", correction, SWEEP_CORRECTIONS)
    if not 0 < ci < 1:
        raise ProbingError(f"{_FUNC}: ci must lie in (0, 1), got {ci!r}")
    unit, values = _check_table(pairs, column, group_column)
    cells = [c for c in CELL_COLUMNS if c in pairs.columns] if cells is None else list(cells)
    absent = [c for c in cells if c not in pairs.columns]
    if absent:
        raise ProbingError(f"{_FUNC}: cells names column(s) {absent} that pairs lacks")
    num, den, table = _grid(pairs, cells, values, unit)
    if num.shape[1] == 0:
        raise ProbingError(f"{_FUNC}: no pair has a value in column {column!r}")
    check_n_items(num.shape[0], _FUNC)
    if correction == "max_t":
        result = max_t_test(num, den, ci=ci, n_perm=n_perm, random_state=random_state)
        label = correction
    else:
        result = item_t_tests(num, den, ci=ci)
        result = dataclasses.replace(result, p_corr=correct_pvalues(result.p_val,
                                                                    correction=correction))
        label = correction_label(correction)
    return table.assign(metric=metric, estimate=result.estimate, ci_low=result.ci_low,
                        ci_high=result.ci_high, stat=result.stat, df=result.df,
                        p_val=result.p_val, p_corr=result.p_corr, correction=label,
                        n_cells=num.shape[1], n_pairs=den.sum(0).astype(int),
                        n_items=result.n_items, n_perm=result.n_perm,
                        exact=result.exact)[[*cells, *SWEEP_COLUMNS]]
