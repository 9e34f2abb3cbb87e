"""Heatmap of activation-patching effects: layer by position (or by head)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.causal._checks import check_choice

__all__ = ["plot_patching"]


def _grid(table, metric, columns):
    missing = {"layer", columns, "metric", "effect"} - set(table.columns)
    if missing:
        raise ProbingError(f"plot_patching: table lacks column(s) {sorted(missing)}")
    rows = table[table["metric"] == metric]
    if rows.empty:
        raise ProbingError(f"plot_patching: no rows with metric {metric!r}; table has "
                           f"{sorted(table['metric'].unique())}")
    if rows.duplicated(["layer", columns]).any():
        others = [c for c in ("direction", "site", "position", "head") if c != columns
                  and c in rows and rows[c].nunique(dropna=False) > 1]
        raise ProbingError(f"plot_patching: several rows per (layer, {columns}); select one "
                           f"value of {others} first")
    # Columns keep the table's order (stimulus order of positions), rows go by layer.
    order = pd.unique(rows[columns])
    grid = rows.pivot(index="layer", columns=columns, values="effect")
    return grid.reindex(columns=order).sort_index()


def plot_patching(table, *, metric="restored_fraction", columns="position", ax=None):
    """Heatmap of one patching sweep: effect per layer (rows) and position or head.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`~probing.causal.patching_effects`, filtered to one direction and
        site (and one head, or one position when ``columns="head"``).
    metric : {"restored_fraction", "logprob_diff"}, default "restored_fraction"
    columns : {"position", "head"}, default "position"
        What the columns of the heatmap are.
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure's axes when None; never shown.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from probing.causal import patching_effects
    >>> rng = np.random.default_rng(0)
    >>> clean, corrupted = rng.normal(2, 0.1, 20), rng.normal(-1, 0.1, 20)
    >>> patched = np.repeat(corrupted[:, None, None, None], 6, axis=1).repeat(3, axis=2)
    >>> patched[:, 3:, 2, 0] = clean[:, None]
    >>> table = patching_effects(clean, corrupted, patched, direction="denoising",
    ...                          positions=["subj", "pp", "verb"], n_boot=100)
    >>> ax = plot_patching(table)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['subj', 'pp', 'verb']
    """
    import matplotlib.pyplot as plt

    check_choice("plot_patching", "columns", columns, ("position", "head"))
    grid = _grid(table, metric, columns)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 + 0.6 * grid.shape[1], 1.0 + 0.3 * grid.shape[0]))
    values = grid.to_numpy(dtype=float)
    if metric == "restored_fraction":
        limits = {"vmin": min(0.0, np.nanmin(values)), "vmax": max(1.0, np.nanmax(values))}
    else:
        bound = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0
        limits = {"vmin": -bound, "vmax": bound}
    image = ax.imshow(values, aspect="auto", origin="lower", cmap="RdBu_r"
                      if metric == "logprob_diff" else "viridis", **limits)
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [str(r) for r in grid.index])
    ax.set_xlabel(columns)
    ax.set_ylabel("layer")
    ax.figure.colorbar(image, ax=ax, label=metric.replace("_", " "))
    return ax
