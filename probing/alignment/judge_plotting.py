"""The judge's calibration curve: binned judge rating against the mean human rating."""

from __future__ import annotations

__all__ = ["plot_judge_calibration"]


def plot_judge_calibration(calibration, *, points=None, ax=None):
    """Mean human rating (with its interval) per bin of the judge's expected rating.

    Parameters
    ----------
    calibration : pandas.DataFrame
        From :func:`~probing.alignment.judge_analysis.build_judge_calibration` (one prompt style).
    points : pandas.DataFrame, optional
        ``judge, rating`` per sentence, drawn faintly behind the bins.
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure's axes when None; never shown.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"prompt_style": "chat", "bin": [1, 2], "expected_rating": [2.0, 3.0],
    ...                       "rating": [1.5, 3.5], "ci_low": [1.0, 3.0], "ci_high": [2.0, 4.0],
    ...                       "n": [5, 5]})
    >>> len(plot_judge_calibration(table).lines) >= 1
    True
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    if points is not None:
        ax.scatter(points["judge"], points["rating"], s=8, alpha=0.3, color="grey",
                   label="sentences")
    x, y = calibration["expected_rating"], calibration["rating"]
    ax.errorbar(x, y, yerr=[y - calibration["ci_low"], calibration["ci_high"] - y], marker="o",
                capsize=3, label="bins (mean, 95% t interval)")
    low = min(x.min(), y.min(), 1.0)
    high = max(x.max(), y.max(), 4.0)
    ax.plot([low, high], [low, high], ls=":", color="black", lw=1, label="identity")
    ax.set_xlabel("judge: expected rating (mean over prompts)")
    ax.set_ylabel("mean human rating")
    ax.legend(fontsize=7, loc="upper left")
    return ax
