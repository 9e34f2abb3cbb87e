"""Published vs freshly generated items of one phenomenon: accuracy and its difference.

A model that saw a published benchmark during pretraining may do better on its items
than on new items of the same phenomenon. :func:`compare_fresh_published` puts the two
accuracies side by side with the difference, its Newcombe interval and a two-proportion
score test (:func:`probing.stats.twoprop.compare_proportions`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.stats import correct_pvalues, correction_label, proportion_ci
from probing.stats.twoprop import compare_proportions

__all__ = ["FRESH_COLUMNS", "ITEM_SETS", "compare_fresh_published"]

ITEM_SETS = ("published", "fresh")
FRESH_COLUMNS = ("phenomenon", "fresh_paradigm", "item_set", "metric", "estimate", "ci_low",
                 "ci_high", "stat", "p_val", "p_corr", "correction", "n")


def _one(published, fresh, key, ci):
    rows = []
    counts = {}
    for name, correct in (("published", published), ("fresh", fresh)):
        k, n = float(np.sum(correct)), len(correct)
        if n == 0:
            raise ProbingError(f"compare_fresh_published: {key['phenomenon']}: no {name} pairs")
        low, high = proportion_ci(k, n, ci=ci)
        rows.append({**key, "item_set": name, "metric": "accuracy", "estimate": k / n,
                     "ci_low": low, "ci_high": high, "n": n})
        counts[name] = (k, n)
    diff = compare_proportions(*counts["published"], *counts["fresh"], ci=ci)
    rows.append({**key, "item_set": "difference", "metric": "accuracy_difference", **diff,
                 "n": counts["published"][1] + counts["fresh"][1]})
    return rows


def compare_fresh_published(pairs, *, ci=0.95, correction="holm"):
    """Accuracy on published and on fresh pairs of each phenomenon, and their difference.

    Parameters
    ----------
    pairs : pandas.DataFrame
        One row per pair: ``phenomenon`` (the published phenomenon, e.g. a BLiMP UID),
        ``fresh_paradigm`` (the generated paradigm matched to it), ``item_set``
        (``published`` or ``fresh``), ``correct`` (0/1, or 0.5 for a half-credit tie)
        and optionally ``identical`` (such pairs are left out).
    ci : float, default 0.95
    correction : {"holm", "bonferroni", "fdr_bh"}, default "holm"
        Across the phenomena's difference tests (the ``overall`` row is not in the family).

    Returns
    -------
    pandas.DataFrame
        ``phenomenon, fresh_paradigm, item_set, metric, value, ci_low, ci_high, stat,
        p_val, p_corr, correction, n``: per phenomenon (and ``overall``, all pairs
        pooled) an ``accuracy`` row per item set (Wilson interval) and a
        ``difference`` row (``accuracy_difference`` = published minus fresh, Newcombe's
        interval, pooled score z and its two-sided p-value).

    Examples
    --------
    >>> pairs = pd.DataFrame({"phenomenon": "agr", "fresh_paradigm": "agreement_simple",
    ...     "item_set": ["published"] * 50 + ["fresh"] * 50,
    ...     "correct": [1.0] * 45 + [0.0] * 5 + [1.0] * 35 + [0.0] * 15})
    >>> out = compare_fresh_published(pairs)
    >>> out.loc[out.item_set == "difference", ["phenomenon", "estimate", "ci_low", "ci_high"]].round(3)
      phenomenon  estimate  ci_low  ci_high
    2        agr       0.2   0.043    0.349
    5    overall       0.2   0.043    0.349
    """
    missing = [c for c in ("phenomenon", "fresh_paradigm", "item_set", "correct") if c not in pairs]
    if missing:
        raise ProbingError(f"compare_fresh_published: pairs lack column(s) {missing}")
    unknown = set(pairs["item_set"]) - set(ITEM_SETS)
    if unknown:
        raise ProbingError(f"compare_fresh_published: item_set must be published or fresh, "
                           f"got {sorted(unknown)}")
    if "identical" in pairs:
        pairs = pairs[~pairs["identical"].astype(bool)]
    rows = []
    for (phen, fresh), group in pairs.groupby(["phenomenon", "fresh_paradigm"], sort=True):
        sets = {s: group.loc[group["item_set"] == s, "correct"].to_numpy(float) for s in ITEM_SETS}
        rows += _one(sets["published"], sets["fresh"], {"phenomenon": phen, "fresh_paradigm": fresh}, ci)
    out = pd.DataFrame(rows).reindex(columns=list(FRESH_COLUMNS))
    tested = out["item_set"] == "difference"
    out.loc[tested, "p_corr"] = correct_pvalues(out.loc[tested, "p_val"].to_numpy(float),
                                                correction=correction)
    sets = {s: pairs.loc[pairs["item_set"] == s, "correct"].to_numpy(float) for s in ITEM_SETS}
    overall = pd.DataFrame(_one(sets["published"], sets["fresh"],
                                {"phenomenon": "overall", "fresh_paradigm": "all"}, ci))
    out = pd.concat([out, overall.reindex(columns=list(FRESH_COLUMNS))], ignore_index=True)
    out["correction"] = np.where(out["item_set"] == "difference", correction_label(correction),
                                 "")
    return out
