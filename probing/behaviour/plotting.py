"""Plots of behavioural tables: surprisal by region and condition, as SyntaxGym draws it."""

from __future__ import annotations

import numpy as np

from probing._core.errors import ProbingError

__all__ = ["plot_region_surprisal"]


def plot_region_surprisal(regions, *, ci=0.95, ax=None):
    """Mean surprisal per region (x, in sentence order) and condition (bars), with intervals.

    SyntaxGym's results page draws a factorial suite this way: one group of bars per
    region, one bar per condition, the error bar spanning the items.

    Parameters
    ----------
    regions : pandas.DataFrame
        ``item_id, condition, region_number, region, surprisal`` (the ``regions`` table).
    ci : float, default 0.95
        Normal-approximation interval of the mean over items (mean +- z * SE).
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure's axes when None; never shown.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> regions = pd.DataFrame({"item_id": [1, 1, 2, 2], "condition": ["a", "b", "a", "b"],
    ...                         "region_number": 1, "region": "verb",
    ...                         "surprisal": [2.0, 4.0, 3.0, 5.0]})
    >>> [t.get_text() for t in plot_region_surprisal(regions).get_xticklabels()]
    ['verb']
    """
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    missing = {"item_id", "condition", "region_number", "region", "surprisal"} - set(regions)
    if missing:
        raise ProbingError(f"regions table: missing column(s) {sorted(missing)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 1.3 * regions["region_number"].nunique()), 3.4))
    stats = (regions.groupby(["region_number", "region", "condition"], sort=True)["surprisal"]
             .agg(["mean", "sem", "count"]).reset_index())
    order = stats.drop_duplicates("region_number").sort_values("region_number")
    conditions = sorted(stats["condition"].unique())
    width = 0.8 / len(conditions)
    z = norm.ppf(0.5 + ci / 2)
    for k, condition in enumerate(conditions):
        mine = order[["region_number"]].merge(stats[stats["condition"] == condition],
                                              on="region_number", how="left")
        x = np.arange(len(order)) + (k - (len(conditions) - 1) / 2) * width
        ax.bar(x, mine["mean"], width, yerr=z * mine["sem"].fillna(0), capsize=2,
               label=condition)
    ax.set_xticks(np.arange(len(order)), order["region"].tolist(), rotation=30, ha="right")
    ax.set_ylabel("surprisal (nats)")
    ax.legend(fontsize=8, frameon=False, title="condition", title_fontsize=8)
    return ax
