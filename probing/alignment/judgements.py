"""Prompted vs direct judgements of minimal pairs (Hu & Levy, 2023): tables in, tables out.

:func:`build_judgements` turns the answer-option log-probabilities of
:func:`probing.models.prompts.prompt_pairs` (and the direct pair scores) into one
judgement per pair and method; :func:`compare_judgements` gives each method's accuracy,
its agreement with the direct measure and McNemar's test of their difference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.stats import correct_pvalues, correction_label, proportion_ci
from probing.stats.twoprop import mcnemar_test

__all__ = ["JUDGEMENT_COLUMNS", "JUDGEMENT_SUMMARY_COLUMNS", "build_judgements",
           "compare_judgements"]

JUDGEMENT_COLUMNS = ("phenomenon", "pair_id", "task", "prompt_style", "order", "score_good",
                     "score_bad", "correct", "tie")
JUDGEMENT_SUMMARY_COLUMNS = ("phenomenon", "task", "prompt_style", "order", "metric", "estimate",
                             "ci_low", "ci_high", "stat", "p_val", "p_corr", "correction", "n")
_KEYS = ["phenomenon", "pair_id", "prompt_style"]
_TIE_RTOL = 1e-6
_TIES = {"incorrect": 0.0, "half": 0.5, "correct": 1.0}


def _judged(frame, good, bad, ties):
    good, bad = np.asarray(good, float), np.asarray(bad, float)
    tie = np.abs(good - bad) <= _TIE_RTOL * np.maximum(np.abs(good), np.abs(bad)) + 1e-12
    return frame.assign(score_good=good, score_bad=bad,
                        correct=np.select([tie, good > bad], [_TIES[ties], 1.0], 0.0), tie=tie)


def _yes_no(prompts, ties):
    wide = prompts.pivot_table(index=[*_KEYS, "role"], columns="option", values="logprob_option",
                               aggfunc="first").reset_index()
    wide["margin"] = wide["Yes"] - wide["No"]  # log-odds of "acceptable"
    both = wide.pivot_table(index=_KEYS, columns="role", values="margin").reset_index()
    return _judged(both[_KEYS].assign(task="yes_no", order="none"), both["good"], both["bad"], ties)


def _forced_choice(prompts, ties):
    wide = prompts.pivot_table(index=[*_KEYS, "order"], columns="role", values="logprob_option",
                               aggfunc="first").reset_index()
    per_order = _judged(wide[[*_KEYS, "order"]].assign(task="forced_choice"), wide["good"],
                        wide["bad"], ties)
    # counterbalanced: the good member's label against the bad one's, summed over both orders
    summed = wide.groupby(_KEYS, as_index=False)[["good", "bad"]].sum()
    both = _judged(summed[_KEYS].assign(task="forced_choice", order="both"), summed["good"],
                   summed["bad"], ties)
    return pd.concat([per_order, both], ignore_index=True)


def build_judgements(prompts, pairs=None, *, ties="incorrect"):
    """One judgement per pair, task, prompt style and order.

    Parameters
    ----------
    prompts : pandas.DataFrame
        From :func:`probing.models.prompts.prompt_pairs`: ``phenomenon, pair_id, task,
        prompt_style, order, role, option, logprob_option``.
    pairs : pandas.DataFrame, optional
        The direct judgements (``pairs.csv``): ``phenomenon, pair_id, logprob_good,
        logprob_bad`` (and ``identical``; identical pairs are left out everywhere).
    ties : {"incorrect", "half", "correct"}, default "incorrect"
        What a tie scores in ``correct``.

    Returns
    -------
    pandas.DataFrame
        ``phenomenon, pair_id, task, prompt_style, order, score_good, score_bad, correct,
        tie``. ``task`` is ``direct`` (``prompt_style`` and ``order`` ``none``; the
        scores are the pair's log-probabilities), ``yes_no`` (score = ``log p(Yes) - log
        p(No)`` with the member in the prompt) or ``forced_choice`` (score = ``log p`` of
        the option that names the member; ``order`` ``good_first``, ``bad_first`` or
        ``both``, the sum over the two orders).

    Examples
    --------
    >>> prompts = pd.DataFrame({"phenomenon": "agr", "pair_id": 0, "task": "yes_no",
    ...     "prompt_style": "plain", "order": "none", "role": ["good", "good", "bad", "bad"],
    ...     "option": ["Yes", "No"] * 2, "logprob_option": [-1.0, -2.0, -1.5, -1.0]})
    >>> build_judgements(prompts)[["task", "score_good", "score_bad", "correct"]]
         task  score_good  score_bad  correct
    0  yes_no         1.0       -0.5      1.0
    """
    if ties not in _TIES:
        raise ProbingError(f"build_judgements: ties must be one of {list(_TIES)}, got {ties!r}")
    parts = []
    if pairs is not None:
        direct = pairs[~pairs["identical"].astype(bool)] if "identical" in pairs else pairs
        parts.append(_judged(direct[["phenomenon", "pair_id"]].assign(
            task="direct", prompt_style="none", order="none"),
            direct["logprob_good"], direct["logprob_bad"], ties))
        prompts = prompts.merge(direct[["phenomenon", "pair_id"]], on=["phenomenon", "pair_id"])
    for task, build in (("yes_no", _yes_no), ("forced_choice", _forced_choice)):
        if (prompts["task"] == task).any():
            parts.append(build(prompts[prompts["task"] == task], ties))
    out = pd.concat(parts, ignore_index=True)[list(JUDGEMENT_COLUMNS)]
    out.columns.name = None  # the pivots leave their column axis named
    return out.sort_values(["task", "prompt_style", "order", "phenomenon", "pair_id"],
                           ignore_index=True)


def _rows(group, direct, ci):
    """Accuracy, agreement with direct, McNemar and order bias of one method on some pairs."""
    correct = group["correct"].to_numpy(float)
    n = len(correct)
    low, high = proportion_ci(float(correct.sum()), n, ci=ci)
    rows = [{"metric": "accuracy", "estimate": correct.mean(), "ci_low": low, "ci_high": high, "n": n}]
    if group["task"].iat[0] == "direct":
        return rows
    if direct is not None:
        ref = group[["pair_id"]].merge(direct, on="pair_id", how="left")["correct"].to_numpy(float)
        agree = correct == ref
        low, high = proportion_ci(float(agree.sum()), n, ci=ci)
        rows.append({"metric": "agreement", "estimate": agree.mean(), "ci_low": low,
                     "ci_high": high, "n": n})
        # half-credit ties are not 0/1 outcomes: McNemar counts them as wrong
        test = mcnemar_test(correct == 1.0, ref == 1.0)
        rows.append({"metric": "mcnemar", "estimate": correct.mean() - ref.mean(),
                     "stat": test["stat"], "p_val": test["p_val"], "n": n})
    if group["task"].iat[0] == "forced_choice" and group["order"].iat[0] != "both":
        # order bias: how often the model prefers option 1 whatever it names
        first = (group["score_good"] > group["score_bad"]) == (group["order"] == "good_first")
        low, high = proportion_ci(float(first.sum()), n, ci=ci)
        rows.append({"metric": "prefers_first", "estimate": first.mean(), "ci_low": low,
                     "ci_high": high, "n": n})
    return rows


def compare_judgements(judgements, *, ci=0.95, correction="holm"):
    """Accuracy of each method, agreement with the direct measure and McNemar's test.

    Parameters
    ----------
    judgements : pandas.DataFrame
        From :func:`build_judgements` (with its ``direct`` rows for agreement and McNemar).
    ci : float, default 0.95
    correction : {"holm", "bonferroni", "fdr_bh"}, default "holm"
        Correction of the McNemar p-values across the rows of the output.

    Returns
    -------
    pandas.DataFrame
        ``phenomenon, task, prompt_style, order, metric, value, ci_low, ci_high, stat,
        p_val, p_corr, correction, n``; per phenomenon and ``overall`` (all pairs).
        Metrics: ``accuracy`` (Wilson interval), ``agreement`` (share of pairs on which
        the method and the direct measure are both right or both wrong; Wilson interval),
        ``mcnemar`` (``estimate`` = accuracy minus the direct accuracy; ``stat``, ``p_val``:
        exact binomial when fewer than 25 pairs are discordant, else chi-square with
        continuity correction), and for forced choice in one order ``prefers_first`` (the
        share of pairs where option 1 wins: 0.5 without order bias).
    """
    direct_all = judgements[judgements["task"] == "direct"]
    overall = judgements.assign(phenomenon="overall",
                                pair_id=judgements["phenomenon"].astype(str) + "/"
                                + judgements["pair_id"].astype(str))
    records = []
    for frame in (judgements, overall):
        for (phen, task, style, order), group in frame.groupby(
                ["phenomenon", "task", "prompt_style", "order"], sort=True):
            direct = None
            if not direct_all.empty:
                scope = frame[(frame["task"] == "direct") & (frame["phenomenon"] == phen)]
                direct = scope[["pair_id", "correct"]]
            key = {"phenomenon": phen, "task": task, "prompt_style": style, "order": order}
            records += [{**key, **row} for row in _rows(group, direct, ci)]
    out = pd.DataFrame(records).reindex(columns=list(JUDGEMENT_SUMMARY_COLUMNS))
    tested = out["metric"] == "mcnemar"
    out.loc[tested, "p_corr"] = correct_pvalues(out.loc[tested, "p_val"].to_numpy(float),
                                                correction=correction)
    out["correction"] = np.where(tested, correction_label(correction), "")
    return out
