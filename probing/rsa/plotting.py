"""Figures: RDM heatmaps and RSA-by-layer curves (matplotlib; each returns its Axes)."""

from __future__ import annotations

import numpy as np

from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing.rsa.rdm import check_rdm

__all__ = ["plot_rdm", "plot_rsa_layers"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure().add_subplot()
    return ax


@renamed(labels="tick_labels")
def plot_rdm(rdm, *, index=0, ax=None, tick_labels=True, cmap="viridis", colorbar=True):
    """Heatmap of one RDM with its stimulus labels.

    Parameters
    ----------
    rdm : RDMs or array_like
        The RDM(s); arrays as in :func:`~probing.rsa.check_rdm`.
    index : int, default 0
        Which RDM of the stack to draw.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    tick_labels : bool, default True
        Tick labels from the stimulus ids (hidden past 60 stimuli, where they would
        overlap).
    cmap : str, default "viridis"
    colorbar : bool, default True

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from probing.rsa import RDMs
    >>> ax = plot_rdm(RDMs([1.0, 2.0, 3.0], stimulus_ids=["a", "b", "c"]))
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['a', 'b', 'c']
    """
    rdm = check_rdm(rdm)
    if not 0 <= index < rdm.n_rdms:
        raise ProbingError(f"plot_rdm: index must be in [0, {rdm.n_rdms}), got {index}")
    ax = _axes(ax)
    image = ax.imshow(rdm.to_square()[index], cmap=cmap, interpolation="nearest")
    if tick_labels and rdm.n_stimuli <= 60:
        ticks = np.arange(rdm.n_stimuli)
        names = [str(c) for c in rdm.stimulus_ids]
        ax.set_xticks(ticks, names, rotation=90)
        ax.set_yticks(ticks, names)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=f"dissimilarity ({rdm.distance})")
    return ax


def plot_rsa_layers(table, *, ax=None, alpha=0.05, p_column="p_corr"):
    """RSA similarity by layer, one line per model RDM, with intervals and significance.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`~probing.rsa.rsa_layers` (``layer, model_rdm, value``;
        ``ci_low, ci_high`` and ``p_column`` are used when present).
    ax : matplotlib.axes.Axes, optional
    alpha : float, default 0.05
        Layers with ``p_column < alpha`` get a filled marker.
    p_column : str, default "p_corr"

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib, pandas as pd
    >>> matplotlib.use("Agg")
    >>> table = pd.DataFrame({"layer": [0, 1, 0, 1], "model_rdm": ["a", "a", "b", "b"],
    ...                       "estimate": [0.1, 0.5, 0.0, 0.2], "p_corr": [0.5, 0.01, 0.9, 0.2]})
    >>> [t.get_text() for t in plot_rsa_layers(table).get_legend().get_texts()]
    ['a', 'b']
    """
    missing = [c for c in ("layer", "model_rdm", "estimate") if c not in table]
    if missing:
        raise ProbingError(f"plot_rsa_layers: table is missing column(s) {missing}; expected "
                           f"the output of rsa_layers")
    ax = _axes(ax)
    for name, rows in table.sort_values("layer").groupby("model_rdm", sort=False):
        line, = ax.plot(rows["layer"], rows["estimate"], marker="o", mfc="white", label=str(name))
        if {"ci_low", "ci_high"} <= set(rows) and rows["ci_low"].notna().any():
            ax.fill_between(rows["layer"], rows["ci_low"], rows["ci_high"],
                            color=line.get_color(), alpha=0.2, linewidth=0)
        significant = rows[rows[p_column] < alpha] if p_column in rows else rows.iloc[:0]
        ax.plot(significant["layer"], significant["estimate"], linestyle="none", marker="o",
                color=line.get_color())
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xlabel("layer")
    method = table["metric"].iloc[0] if "metric" in table else "similarity"
    ax.set_ylabel(f"RDM similarity ({method})")
    ax.legend(title=f"model RDM (filled: {p_column} < {alpha})")
    return ax
