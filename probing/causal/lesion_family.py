"""A lesion study over several paradigms: one family of tests, corrected across all.

:func:`~probing.causal.ablation_test` corrects the p-values of the phenomena of one
paradigm. A lesion study ablates one unit set in many paradigms (BLiMP phenomena,
agreement paradigms, SyntaxGym suites) and asks which phenomena it harms, so the
family is every phenomenon of every paradigm: :func:`combine_ablations` re-applies the
correction across all of them, per metric.

It also gives a second p-value. The rank p-value against ``n_sets`` random sets,
``(b + 1) / (n_sets + 1)``, is exact but can never be below ``1 / (n_sets + 1)``: with
20 sets that is 0.048, and Holm over 20 phenomena can then reject nothing, whatever the
effect. ``p_normal`` treats the random-set effects as a normal sample and asks whether
the given effect is a new draw from it (the two-sided prediction-interval test,
``t = (effect - mean) / (sd * sqrt(1 + 1 / n_sets))`` on ``n_sets - 1`` degrees of
freedom; exact when the null effects are normal). It resolves small p-values with few
sets, at the price of that assumption (poor for a 0/1 accuracy over few items, whose
random-set effects are discrete; it is NaN when they do not vary at all); both are
reported, and ``stat`` (the given effect in standard deviations of the null) says how
far out it lies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from probing._core.errors import ProbingError
from probing.stats import CORRECTIONS, check_n_items, correct_pvalues, correction_label

__all__ = ["LESION_COLUMNS", "combine_ablations", "normal_null_pvalue", "plot_lesion"]

#: Columns of :func:`combine_ablations`.
LESION_COLUMNS = ("phenomenon", "metric", "estimate", "ci_low", "ci_high", "null_mean",
                  "null_sd", "stat", "p_val", "p_corr", "p_normal", "p_normal_corr",
                  "correction", "n", "n_items", "n_sets")

_KEYS = ["paradigm", "phenomenon", "metric"]


def normal_null_pvalue(effect, null):
    """Two-sided p of ``estimate`` as a new draw from the normal sample ``null``.

    Parameters
    ----------
    effect : float
    null : array_like of shape (n_sets,)
        The random controls' effects (at least 2, not all equal).

    Returns
    -------
    stat, p_val : float
        ``(effect - mean(null)) / sd(null)`` and the prediction-interval p-value; both
        NaN when every null effect is the same and ``estimate`` differs from it.

    Examples
    --------
    >>> stat, p = normal_null_pvalue(0.0, [-1.0, 1.0, -1.0, 1.0])
    >>> round(stat, 3), round(p, 3)
    (0.0, 1.0)
    """
    null = np.asarray(null, dtype=float)
    if null.ndim != 1 or null.size < 2 or not np.isfinite(null).all():
        raise ProbingError(f"normal_null_pvalue: null must hold >= 2 finite effects, got "
                           f"shape {null.shape}")
    mean, sd = null.mean(), null.std(ddof=1)
    if sd == 0:
        # No spread to scale by (e.g. an accuracy no random set changes): a normal model
        # says nothing beyond "differs"; the rank p-value still applies.
        return (0.0, 1.0) if effect == mean else (np.nan, np.nan)
    t = (effect - mean) / (sd * np.sqrt(1 + 1 / null.size))
    return float((effect - mean) / sd), float(2 * sps.t.sf(abs(t), df=null.size - 1))


def combine_ablations(ablation, null, *, correction="holm"):
    """One row per paradigm x phenomenon x metric, corrected across all phenomena.

    Parameters
    ----------
    ablation : pandas.DataFrame
        :func:`~probing.causal.ablation_test` tables of several paradigms, stacked, with a
        ``paradigm`` column (``unit_set`` = ``given`` rows are used).
    null : pandas.DataFrame
        ``paradigm, phenomenon, metric, set, effect``: each random set's effect (the
        ``ablation_null`` tables of ``probing ablate``, stacked).
    correction : {"holm", "bonferroni", "fdr_bh", "bh"}, default "holm"
        Applied per metric over every paradigm's phenomena, to ``p_val`` and
        ``p_normal``.

    Returns
    -------
    pandas.DataFrame
        ``phenomenon, metric, effect, ci_low, ci_high`` (the given set, item bootstrap),
        ``null_mean, null_sd`` (of the random sets' effects), ``stat`` (the effect in
        null standard deviations), ``p_val`` (rank p against the random sets),
        ``p_corr``, ``p_normal``, ``p_normal_corr``, ``correction, n, n_items, n_sets``
        and, last, ``paradigm``; ``n_items`` is copied from ``ablation`` (empty for
        tables written without it) and fewer than 20 warn.

    Examples
    --------
    >>> ablation = pd.DataFrame({"paradigm": ["a", "b"], "phenomenon": ["x", "y"],
    ...     "unit_set": "given", "metric": "accuracy", "estimate": [-0.5, 0.0],
    ...     "ci_low": [-0.6, -0.1], "ci_high": [-0.4, 0.1], "p_val": [0.01, 0.6],
    ...     "n": 10, "n_sets": 99})
    >>> null = pd.DataFrame({"paradigm": np.repeat(["a", "b"], 99),
    ...     "phenomenon": np.repeat(["x", "y"], 99), "metric": "accuracy",
    ...     "set": np.tile(np.arange(99), 2), "estimate": np.tile(np.linspace(-.1, .1, 99), 2)})
    >>> combine_ablations(ablation, null)[["paradigm", "p_val", "p_corr"]]
      paradigm  p_val  p_corr
    0        a   0.01    0.02
    1        b   0.60    0.60
    """
    if correction not in CORRECTIONS:
        raise ProbingError(f"combine_ablations: correction must be one of {list(CORRECTIONS)}, "
                           f"got {correction!r}")
    _check_columns(ablation, [*_KEYS, "unit_set", "estimate", "ci_low", "ci_high", "p_val", "n",
                              "n_sets"], "ablation")
    _check_columns(null, [*_KEYS, "set", "estimate"], "null")
    given = ablation[ablation["unit_set"] == "given"].reset_index(drop=True)
    if given.empty or given.duplicated(_KEYS).any():
        raise ProbingError("combine_ablations: ablation needs exactly one 'given' row per "
                           "paradigm, phenomenon and metric")
    by_key = {key: rows["estimate"].to_numpy(float) for key, rows in null.groupby(_KEYS)}
    rows = []
    for row in given.itertuples(index=False):
        key = (row.paradigm, row.phenomenon, row.metric)
        if key not in by_key:
            raise ProbingError(f"combine_ablations: no random-set effects for {key}")
        effects = by_key[key]
        stat, p_normal = normal_null_pvalue(row.estimate, effects)
        rows.append({"null_mean": effects.mean(), "null_sd": effects.std(ddof=1),
                     "stat": stat, "p_normal": p_normal})
    out = pd.concat([given, pd.DataFrame(rows)], axis=1)
    # Tables written before n_items existed lack it: unknown, not guessed from n.
    out["n_items"] = (out["n_items"].astype("Int64") if "n_items" in out
                      else pd.array([pd.NA] * len(out), dtype="Int64"))
    if out["n_items"].notna().any():
        check_n_items(out["n_items"].min(), "combine_ablations")
    out["p_corr"], out["p_normal_corr"] = np.nan, np.nan
    for _, index in out.groupby("metric", sort=False).groups.items():
        out.loc[index, "p_corr"] = correct_pvalues(out.loc[index, "p_val"].to_numpy(float),
                                                   correction=correction)
        out.loc[index, "p_normal_corr"] = correct_pvalues(
            out.loc[index, "p_normal"].to_numpy(float), correction=correction)
    out["correction"] = correction_label(correction)
    return out[[*LESION_COLUMNS, "paradigm"]]


def _check_columns(table, columns, name):
    if not isinstance(table, pd.DataFrame):
        raise ProbingError(f"combine_ablations: {name} must be a DataFrame, got "
                           f"{type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ProbingError(f"combine_ablations: {name} lacks column(s) {missing}")


def plot_lesion(lesion, null, *, metric=None):
    """Per phenomenon: the random sets' effects (dots) and the given set's (red, with CI).

    ``metric`` defaults to ``accuracy`` (measured in every paradigm). Returns the figure.
    """
    import matplotlib.pyplot as plt

    metric = metric or "accuracy"
    rows = lesion[lesion["metric"] == metric].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 1.2))
    for i, row in rows.iterrows():
        effects = null[(null["paradigm"] == row["paradigm"])
                       & (null["phenomenon"] == row["phenomenon"])
                       & (null["metric"] == metric)]["estimate"]
        ax.scatter(effects, np.full(len(effects), i), s=6, color="0.6",
                   label="random sets" if i == 0 else None)
        ax.errorbar(row["estimate"], i, xerr=[[row["estimate"] - row["ci_low"]],
                                            [row["ci_high"] - row["estimate"]]],
                    fmt="o", color="C3", ms=4, label="given set" if i == 0 else None)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([_label(r) for _, r in rows.iterrows()], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"effect on {metric} (ablated - plain)")
    ax.legend(fontsize=7, loc="lower left")
    return fig


def _label(row):
    name = str(row["phenomenon"])
    return str(row["paradigm"]) if name.startswith("[") else name  # SyntaxGym: the suite
