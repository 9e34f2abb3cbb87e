"""Plots of layer sweeps: task and control scores, selectivity, baselines, significance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.probes.controls import selectivity

__all__ = ["plot_probe_layers"]


def plot_probe_layers(table, *, metric="accuracy", pvalues=None, alpha=0.05, ci=0.95, ax=None):
    """Task and control scores and selectivity by layer, with CIs and significance marks.

    Parameters
    ----------
    table : pandas.DataFrame
        Per-fold scores from :func:`~probing.probes.control_task_layers` (or from
        :func:`~probing.probes.probe_layers`: then only the task curve is drawn). One
        probe.
    metric : str, default "accuracy"
    pvalues : pandas.DataFrame, optional
        :func:`~probing.probes.permutation_test_layers` output; layers with
        ``p_corr < alpha`` get a star above the task curve.
    alpha : float, default 0.05
    ci : float, default 0.95
        Level of the t-intervals (over folds for the task, over seeds for the control
        and selectivity; see :func:`~probing.probes.selectivity`).
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure's axes when None; never shown.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from probing.probes import probe_layers
    >>> rng = np.random.default_rng(0)
    >>> y = np.tile([0, 1], 30); X = rng.normal(size=(60, 3, 4)); X[:, 2, 0] += 3 * y
    >>> ax = plot_probe_layers(probe_layers(X, y, groups=None, cv=3))
    >>> ax.get_xlabel()
    'layer'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    if "probe" in table and table["probe"].nunique() > 1:
        raise ProbingError("plot_probe_layers: table must hold one probe; select it first")
    scores = table if (table["task"] == "control").any() else _with_no_control(table)
    summary = selectivity(scores, metric=metric, ci=ci)
    styles = {"task": ("task", "C0", "o-"), "control": ("control task", "C1", "s--"),
              "selectivity": ("selectivity", "C2", "^-")}
    for name, (label, colour, style) in styles.items():
        rows = summary[(summary["task"] == name) & summary["estimate"].notna()]
        if name != "task" and not (table["task"] == "control").any():
            continue
        ax.plot(rows["layer"], rows["estimate"], style, color=colour, label=label, ms=4)
        ax.fill_between(rows["layer"], rows["ci_low"], rows["ci_high"], color=colour,
                        alpha=0.2, lw=0)
    majority = table[(table["metric"] == metric) & (table["task"] == "task")]
    majority = majority.groupby("layer")["majority"].mean()
    ax.plot(majority.index, majority.to_numpy(), ":", color="grey", label="majority class")
    if pvalues is not None:
        _mark_significant(ax, summary[summary["task"] == "task"], pvalues, alpha)
    ax.set_xlabel("layer")
    ax.set_ylabel(metric)
    ax.legend(frameon=False, fontsize="small")
    return ax


def _with_no_control(table):
    # selectivity() needs control rows; a NaN copy of the task rows draws nothing.
    control = table[table["task"] == "task"].assign(task="control", seed=0, estimate=np.nan)
    return pd.concat([table, control], ignore_index=True)


def _mark_significant(ax, task_rows, pvalues, alpha):
    if not {"layer", "p_corr"} <= set(pvalues):
        raise ProbingError("plot_probe_layers: pvalues must have layer and p_corr columns")
    significant = set(pvalues.loc[pvalues["p_corr"] < alpha, "layer"])
    rows = task_rows[task_rows["layer"].isin(significant)]
    top = rows["ci_high"].fillna(rows["estimate"])
    probe = pvalues["probe"].iloc[0] if "probe" in pvalues and len(pvalues) else "probe"
    ax.plot(rows["layer"], top + 0.02, "*", color="k", ms=7,
            label=f"permutation test ({probe}): p_corr < {alpha}")
