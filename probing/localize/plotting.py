"""Figures of a localizer: selected units per layer, the statistic by layer x unit, and the
held-out response profile."""

from __future__ import annotations

import numpy as np

from probing._core.deprecation import renamed
from probing._core.errors import ProbingError

__all__ = ["plot_layer_counts", "plot_response_profile", "plot_unit_stats"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure().add_subplot()
    return ax


def plot_layer_counts(counts, *, ax=None, title=None):
    """Bar chart of the selected units per layer.

    Parameters
    ----------
    counts : pandas.DataFrame
        :func:`~probing.localize.build_layer_counts` (``layer, n_selected, n_units``).
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"layer": [0, 1], "n_selected": [2, 5], "n_units": [10, 10]})
    >>> [round(p.get_height()) for p in plot_layer_counts(counts).patches]
    [2, 5]
    """
    missing = {"layer", "n_selected", "n_units"} - set(counts)
    if missing:
        raise ProbingError(f"plot_layer_counts: missing column(s) {sorted(missing)}")
    ax = _axes(ax)
    ax.bar(counts["layer"].astype(int), counts["n_selected"], color="tab:blue")
    ax.set_xlabel("layer")
    ax.set_ylabel("selected units")
    ax.set_title(title or f"{int(counts['n_selected'].sum())} selected units by layer")
    return ax


@renamed(units="unit_table")
def plot_unit_stats(unit_table, *, ax=None, title=None, cmap="RdBu_r"):
    """Heatmap of the statistic, layers as rows and units as columns; selected units marked.

    Parameters
    ----------
    unit_table : pandas.DataFrame
        :func:`~probing.localize.localize_units` (``layer, unit, stat, selected``); one
        site.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    cmap : str
        A diverging map, centred on 0.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> units = pd.DataFrame({"layer": [0, 0, 1, 1], "unit": [0, 1, 0, 1],
    ...                       "stat": [1.0, -2.0, 3.0, 0.5], "selected": [False, False, True, False]})
    >>> plot_unit_stats(units).get_images()[0].get_array().shape
    (2, 2)
    """
    missing = {"layer", "unit", "stat", "selected"} - set(unit_table)
    if missing:
        raise ProbingError(f"plot_unit_stats: missing column(s) {sorted(missing)}")
    grid = unit_table.pivot_table(index="layer", columns="unit", values="stat", aggfunc="first",
                             dropna=False)
    values = grid.to_numpy(dtype=float)
    finite = np.abs(values[np.isfinite(values)])  # a perfect separator's inf sets no scale
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    ax = _axes(ax)
    image = ax.imshow(values, aspect="auto", cmap=cmap, vmin=-limit, vmax=limit,
                      interpolation="nearest")
    chosen = unit_table[unit_table["selected"]]
    rows = grid.index.get_indexer(chosen["layer"])
    ax.scatter(grid.columns.get_indexer(chosen["unit"]), rows, s=4, c="k", marker="s",
               label="selected")
    ax.set_yticks(np.arange(len(grid.index)), [str(x) for x in grid.index])
    ax.set_xlabel("unit")
    ax.set_ylabel("layer")
    ax.set_title(title or "contrast statistic (t) by layer and unit")
    ax.figure.colorbar(image, ax=ax, label="t")
    return ax


def plot_response_profile(profile, *, metric="response_z", ax=None, title=None):
    """Bars of the held-out response to each condition, one group per selecting half.

    Parameters
    ----------
    profile : pandas.DataFrame
        :func:`~probing.localize.build_response_profile`.
    metric : {"response_z", "response"}
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> profile = pd.DataFrame({"selected_on": ["a", "a"], "measured_on": "b",
    ...                         "condition": ["s", "n"], "metric": "response_z",
    ...                         "estimate": [1.0, -1.0], "ci_low": [0.8, -1.2], "ci_high": [1.2, -0.8]})
    >>> [float(p.get_height()) for p in plot_response_profile(profile).patches]
    [1.0, -1.0]
    """
    missing = {"selected_on", "measured_on", "condition", "metric", "estimate", "ci_low",
               "ci_high"} - set(profile)
    if missing:
        raise ProbingError(f"plot_response_profile: missing column(s) {sorted(missing)}")
    rows = profile[profile["metric"] == metric]
    if rows.empty:
        raise ProbingError(f"plot_response_profile: no rows with metric {metric!r}")
    ax = _axes(ax)
    order = list(dict.fromkeys(rows["condition"]))
    groups = list(dict.fromkeys(rows["selected_on"]))
    width = 0.8 / len(groups)
    for g, half in enumerate(groups):
        part = rows[rows["selected_on"] == half].set_index("condition").reindex(order)
        x = np.arange(len(order)) + (g - (len(groups) - 1) / 2) * width
        errors = np.vstack([part["estimate"] - part["ci_low"], part["ci_high"] - part["estimate"]])
        ax.bar(x, part["estimate"], width, yerr=errors, capsize=3,
               label=f"selected on {half}, measured on {part['measured_on'].iloc[0]}")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(np.arange(len(order)), order)
    ax.set_ylabel(metric)
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(title or "held-out response of the selected units")
    return ax
