"""Unit tables (``layer, site, unit``): checked, chosen by score, and matched at random.

A unit set to ablate comes from a localizer, a probe's weights or a user's table; its
null is many random sets of the same size and the same number of units in each
``(layer, site)`` stratum (:func:`sample_matched_units`), so that a set concentrated in
one layer is compared with random sets concentrated in that same layer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.deprecation import renamed
from probing._core.errors import ProbingError

__all__ = ["UNIT_COLUMNS", "check_unit_table", "sample_matched_units", "select_units"]

#: Columns of a unit table.
UNIT_COLUMNS = ("layer", "site", "unit")


@renamed(units="unit_table")
def check_unit_table(unit_table, *, n_units=None, layers=None, sites=None, name="units"):
    """Validate a unit table and return a clean copy (``layer, site, unit``, sorted).

    Parameters
    ----------
    unit_table : pandas.DataFrame
        ``layer, site, unit`` (whole numbers for ``layer`` and ``unit``); extra columns
        are kept.
    n_units : int, optional
        Units per layer and site: every ``unit`` must lie in ``[0, n_units)``.
    layers, sites : sequence, optional
        The layers and sites that exist; others are an error.
    name : str, default "units"
        How error messages name the table (e.g. its file).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> check_unit_table(pd.DataFrame({"layer": [2, 1], "site": "mlp_out", "unit": [7, 3]}))
       layer     site  unit
    0      1  mlp_out     3
    1      2  mlp_out     7
    """
    if not isinstance(unit_table, pd.DataFrame):
        raise ProbingError(f"{name}: expected a DataFrame with columns {list(UNIT_COLUMNS)}, "
                           f"got {type(unit_table).__name__}")
    missing = [c for c in UNIT_COLUMNS if c not in unit_table.columns]
    if missing:
        raise ProbingError(f"{name}: missing column(s) {missing}; required "
                           f"{list(UNIT_COLUMNS)}")
    if unit_table.empty:
        raise ProbingError(f"{name}: no units")
    out = unit_table.copy()
    for column in ("layer", "unit"):
        values = pd.to_numeric(out[column], errors="coerce")
        if values.isna().any() or (values != np.round(values)).any():
            bad = out.loc[values.isna() | (values != np.round(values)), column].iloc[0]
            bad = bad.item() if isinstance(bad, np.generic) else bad
            raise ProbingError(f"{name}: {column} must hold whole numbers, got {bad!r}")
        out[column] = values.astype(np.int64)
    _check_range(out, name, n_units, layers, sites)
    if out.duplicated(list(UNIT_COLUMNS)).any():
        first = out.loc[out.duplicated(list(UNIT_COLUMNS)), list(UNIT_COLUMNS)].iloc[0]
        raise ProbingError(f"{name}: unit {_plain(first)} is listed twice")
    return out.sort_values(list(UNIT_COLUMNS), kind="stable", ignore_index=True)


def _plain(row):
    """A tuple of builtin scalars, so messages read ``(5, 'mlp_out', 0)`` on any numpy."""
    return tuple(v.item() if isinstance(v, np.generic) else v for v in row)


def _check_range(units, name, n_units, layers, sites):
    if n_units is not None:
        bad = (units["unit"] < 0) | (units["unit"] >= n_units)
        if bad.any():
            raise ProbingError(f"{name}: unit {int(units.loc[bad, 'unit'].iloc[0])} is out of "
                               f"range; units must lie in [0, {n_units})")
    for column, allowed in (("layer", layers), ("site", sites)):
        if allowed is not None:
            unknown = sorted(set(units[column]) - set(allowed), key=str)
            if unknown:
                raise ProbingError(f"{name}: unknown {column}(s) {unknown}; allowed "
                                   f"{sorted(allowed, key=str)}")


def select_units(scores, *, k, layers=None, site="resid_post", by="abs"):
    """The ``k`` units with the largest score (a probe's weights, a localizer's t-values).

    Parameters
    ----------
    scores : array_like of shape (n_layers, n_units)
    k : int
    layers : sequence of int, optional
        Labels of the rows of ``scores`` (default ``0..n_layers-1``).
    site : str, default "resid_post"
    by : {"abs", "signed"}, default "abs"

    Returns
    -------
    pandas.DataFrame
        ``layer, site, unit, score``, best first.

    Examples
    --------
    >>> select_units([[0.1, -3.0, 0.2], [2.0, 0.0, 0.5]], k=2, layers=[4, 5])
       layer        site  unit  score
    0      4  resid_post     1   -3.0
    1      5  resid_post     0    2.0
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or not np.isfinite(scores).all():
        raise ProbingError(f"select_units: scores must be a finite (n_layers, n_units) array, "
                           f"got shape {scores.shape}")
    if isinstance(k, bool) or int(k) != k or not 1 <= k <= scores.size:
        raise ProbingError(f"select_units: k must be a whole number in [1, {scores.size}], "
                           f"got {k!r}")
    if by not in ("abs", "signed"):
        raise ProbingError(f"select_units: by must be 'abs' or 'signed', got {by!r}")
    layers = np.arange(scores.shape[0]) if layers is None else np.asarray(layers)
    if layers.shape != (scores.shape[0],):
        raise ProbingError(f"select_units: {len(layers)} layers for {scores.shape[0]} rows")
    key = np.abs(scores) if by == "abs" else scores
    best = np.argsort(-key, axis=None, kind="stable")[:int(k)]
    rows, units = np.unravel_index(best, scores.shape)
    return pd.DataFrame({"layer": layers[rows], "site": site, "unit": units,
                         "score": scores[rows, units]})


@renamed(units="unit_table")
def sample_matched_units(unit_table, selected, *, n_sets, exclude_selected=False,
                         random_state=0):
    """Random unit sets matched to ``selected`` in size and per ``(layer, site)`` counts.

    Parameters
    ----------
    unit_table : pandas.DataFrame
        Every unit that may be drawn: ``layer, site, unit``.
    selected : pandas.DataFrame
        The set under test (``layer, site, unit``), a subset of ``unit_table``.
    n_sets : int
        How many random sets to draw.
    exclude_selected : bool, default False
        Draw only from units outside ``selected``. The default draws from all units,
        so that, when ``selected`` is no better than a random set, it is exchangeable
        with the random sets and the p-value is exact.
    random_state : int, numpy.random.Generator or None, default 0
        Same seed, same sets.

    Returns
    -------
    pandas.DataFrame
        ``set, layer, site, unit``: ``n_sets * len(selected)`` rows; set ``s`` holds,
        in each stratum, as many units (without replacement) as ``selected`` does.

    Examples
    --------
    >>> units = pd.DataFrame({"layer": np.repeat([0, 1], 4), "site": "mlp_out",
    ...                       "unit": np.tile(np.arange(4), 2)})
    >>> sets = sample_matched_units(units, units.iloc[[0, 1, 4]], n_sets=3)
    >>> sets.groupby(["set", "layer"]).size().tolist()
    [2, 1, 2, 1, 2, 1]
    """
    func = "sample_matched_units"
    if isinstance(n_sets, bool) or int(n_sets) != n_sets or n_sets < 1:
        raise ProbingError(f"{func}: n_sets must be a positive integer, got {n_sets!r}")
    pool = check_unit_table(unit_table, name="units")[list(UNIT_COLUMNS)]
    chosen = check_unit_table(selected, name="selected")[list(UNIT_COLUMNS)]
    known = chosen.merge(pool, on=list(UNIT_COLUMNS), how="left", indicator=True)
    if (known["_merge"] != "both").any():
        first = known.loc[known["_merge"] != "both", list(UNIT_COLUMNS)].iloc[0]
        raise ProbingError(f"{func}: selected unit {_plain(first)} is not in units")
    if exclude_selected:
        keep = pool.merge(chosen, on=list(UNIT_COLUMNS), how="left", indicator=True)
        pool = pool[(keep["_merge"] == "left_only").to_numpy()].reset_index(drop=True)
    rng = np.random.default_rng(random_state)
    picks = []
    for (layer, site), need in chosen.groupby(["layer", "site"], sort=True).size().items():
        rows = np.flatnonzero(((pool["layer"] == layer) & (pool["site"] == site)).to_numpy())
        if rows.size < need:
            raise ProbingError(f"{func}: layer {layer}, site {site!r} has {rows.size} units "
                               f"to draw from, fewer than the {need} selected there")
        # The first ``need`` of a random permutation of the stratum, once per set.
        order = np.argsort(rng.random((int(n_sets), rows.size)), axis=1)[:, :need]
        picks.append(rows[order])
    index = np.concatenate(picks, axis=1)
    out = pool.iloc[index.ravel()].reset_index(drop=True)
    out.insert(0, "set", np.repeat(np.arange(int(n_sets)), index.shape[1]))
    return out
