"""Figures of patching and mediation: layer by position (or head) heatmaps, and the
effect of every unit of a layer (a per-unit mediation sweep)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.causal._checks import check_choice

__all__ = ["plot_patching", "plot_unit_effects"]


def _grid(table, metric, columns):
    missing = {"layer", columns, "metric", "estimate"} - set(table.columns)
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
    grid = rows.pivot(index="layer", columns=columns, values="estimate")
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
    _set_column_ticks(ax, [str(c) for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [str(r) for r in grid.index])
    ax.set_xlabel(columns)
    ax.set_ylabel("layer")
    ax.figure.colorbar(image, ax=ax, label=metric.replace("_", " "))
    return ax


#: At most this many x labels are drawn; a longer sweep labels every k-th column.
MAX_XLABELS = 30


def _set_column_ticks(ax, labels):
    """Column labels that do not overlap: slanted, and thinned past ``MAX_XLABELS``."""
    step = -(-len(labels) // MAX_XLABELS)  # ceiling division
    ticks = list(range(0, len(labels), step))
    ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=45, ha="right",
                  rotation_mode="anchor")


def plot_unit_effects(table, *, metric="indirect_effect", ax=None):
    """The effect of each unit, one line per layer, with the largest units named.

    A per-unit sweep has hundreds of units per layer, too many for a heatmap's labelled
    columns: each layer is a line over the unit index, and the five units with the
    largest absolute effect are annotated.

    Parameters
    ----------
    table : pandas.DataFrame
        ``layer, unit, metric, effect`` (e.g. :func:`~probing.causal.mediation_effects`'
        table of a per-unit sweep), filtered to one position and site.
    metric : str, default "indirect_effect"
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure's axes when None; never shown.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> table = pd.DataFrame({"layer": 3, "unit": range(8), "metric": "indirect_effect",
    ...                       "estimate": [0, 0, 2.0, 0, 0, -1.0, 0, 0]})
    >>> ax = plot_unit_effects(table)
    >>> [t.get_text() for t in ax.texts][:2]
    ['L3 u2', 'L3 u5']
    """
    import matplotlib.pyplot as plt

    missing = {"layer", "unit", "metric", "estimate"} - set(table.columns)
    if missing:
        raise ProbingError(f"plot_unit_effects: table lacks column(s) {sorted(missing)}")
    rows = table[table["metric"] == metric]
    if rows.empty:
        raise ProbingError(f"plot_unit_effects: no rows with metric {metric!r}")
    if rows.duplicated(["layer", "unit"]).any():
        raise ProbingError("plot_unit_effects: several rows per (layer, unit); select one "
                           "position and site first")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    for layer, group in rows.sort_values("unit").groupby("layer"):
        ax.plot(group["unit"], group["estimate"], lw=0.8, label=f"layer {layer}")
    best = rows.loc[rows["estimate"].abs().sort_values(ascending=False, kind="stable").index[:5]]
    for r in best.itertuples(index=False):
        ax.annotate(f"L{r.layer} u{r.unit}", (r.unit, r.estimate), fontsize=7)
    ax.axhline(0, color="0.5", lw=0.5)
    ax.set_xlabel("unit")
    ax.set_ylabel(metric.replace("_", " "))
    ax.legend(fontsize=7, loc="best")
    return ax
