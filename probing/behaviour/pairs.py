"""Minimal pairs: which member does the model prefer, and how reliably per phenomenon."""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.behaviour._checks import plain, require_columns
from probing.stats import CORRECTIONS, binomial_test, bootstrap_ci, correct_pvalues

__all__ = ["build_pairs", "summarize_pairs"]

PAIR_KEYS = ["phenomenon", "pair_id"]
PAIRS_COLUMNS = ("phenomenon", "pair_id", "good", "bad", "logprob_good", "logprob_bad",
                 "correct", "identical")
SUMMARY_COLUMNS = ("phenomenon", "n", "n_excluded", "accuracy", "ci_low", "ci_high", "p_val",
                   "p_corr", "correction")
TIES = {"incorrect": 0.0, "half": 0.5, "correct": 1.0}


def _scored_members(sentence_scores, stimuli_table, score):
    require_columns(sentence_scores, ("stimulus_id", score), "sentence_scores")
    require_columns(stimuli_table, ("stimulus_id", "text", *PAIR_KEYS, "role"), "stimuli")
    cols = ["stimulus_id", "text", *PAIR_KEYS, "role"]
    members = stimuli_table[cols + (["identical"] if "identical" in stimuli_table else [])]
    roles = set(members["role"].dropna()) - {"good", "bad"}
    if roles or members["role"].isna().any():
        raise ProbingError(f"stimuli: role must be 'good' or 'bad', got {sorted(roles, key=str)}"
                           + (" and missing values" if members["role"].isna().any() else ""))
    members = members.merge(sentence_scores[["stimulus_id", score]], on="stimulus_id",
                            how="left")
    unscored = members.loc[members[score].isna(), "stimulus_id"].tolist()
    if unscored:
        raise ProbingError(f"sentence_scores: {score} missing or NaN for stimulus_id(s) "
                           f"{unscored[:5]} ({len(unscored)} in all)")
    return members


def _join_roles(members, score):
    dup = members.duplicated([*PAIR_KEYS, "role"], keep=False)
    if dup.any():
        key = plain(members.loc[dup, [*PAIR_KEYS, "role"]].iloc[0])
        raise ProbingError(f"stimuli: pair {key[:2]} has more than one {key[2]!r} member")
    keep = [*PAIR_KEYS, "text", score] + (["identical"] if "identical" in members else [])
    good = members.loc[members["role"] == "good", keep]
    bad = members.loc[members["role"] == "bad", keep]
    joined = good.merge(bad, on=PAIR_KEYS, how="outer", suffixes=("_good", "_bad"),
                        indicator=True)
    lonely = joined["_merge"] != "both"
    if lonely.any():
        first = joined.loc[lonely].iloc[0]
        missing = "bad" if first["_merge"] == "left_only" else "good"
        raise ProbingError(f"stimuli: pair {plain(first[PAIR_KEYS])} lacks its {missing} member"
                           f" ({int(lonely.sum())} incomplete pair(s))")
    return joined


def build_pairs(sentence_scores, stimuli_table, *, reduction="sum", ties="incorrect"):
    """One row per minimal pair: the two log-probabilities and whether good wins.

    Parameters
    ----------
    sentence_scores : pandas.DataFrame
        From :func:`build_sentence_scores`: ``stimulus_id, logprob_sum, logprob_mean``.
    stimuli_table : pandas.DataFrame
        Minimal-pair stimuli: ``stimulus_id, text, phenomenon, pair_id, role`` (``role``
        is ``good`` or ``bad``); an optional boolean ``identical`` column.
    reduction : {"sum", "mean"}, default "sum"
        Compare summed log-probabilities (BLiMP's rule) or per-token means.
    ties : {"incorrect", "half", "correct"}, default "incorrect"
        What an exact tie scores: 0.0, 0.5 or 1.0. Ties count as errors by default
        because a model that cannot tell the members apart has not preferred the good one.

    Returns
    -------
    pandas.DataFrame
        ``phenomenon, pair_id, good, bad, logprob_good, logprob_bad, correct,
        identical`` sorted by ``phenomenon, pair_id``; ``good``/``bad`` are the texts,
        ``correct`` is a float (1.0, 0.0, or the tie score). ``identical`` marks pairs
        whose texts are equal or that either member's ``identical`` flag marks; they
        are kept (scored as ties) for :func:`summarize_pairs` to exclude.

    Examples
    --------
    >>> stimuli = pd.DataFrame({"stimulus_id": ["g", "b"], "text": ["Cats run.", "Cats runs."],
    ...                         "phenomenon": "agreement", "pair_id": 0, "role": ["good", "bad"]})
    >>> scores = pd.DataFrame({"stimulus_id": ["g", "b"], "logprob_sum": [-5.0, -9.0]})
    >>> build_pairs(scores, stimuli)[["good", "bad", "correct", "identical"]]
            good         bad  correct  identical
    0  Cats run.  Cats runs.      1.0      False
    """
    if reduction not in ("sum", "mean"):
        raise ProbingError(f"build_pairs: reduction must be 'sum' or 'mean', got {reduction!r}")
    if ties not in TIES:
        raise ProbingError(f"build_pairs: ties must be one of {list(TIES)}, got {ties!r}")
    score = f"logprob_{reduction}"
    joined = _join_roles(_scored_members(sentence_scores, stimuli_table, score), score)
    good, bad = joined[f"{score}_good"].to_numpy(float), joined[f"{score}_bad"].to_numpy(float)
    identical = (joined["text_good"] == joined["text_bad"]).to_numpy()
    if "identical_good" in joined:
        flags = joined[["identical_good", "identical_bad"]].fillna(False).astype(bool)
        identical = identical | flags.any(axis=1).to_numpy()
    out = pd.DataFrame({
        "phenomenon": joined["phenomenon"], "pair_id": joined["pair_id"],
        "good": joined["text_good"], "bad": joined["text_bad"],
        "logprob_good": good, "logprob_bad": bad,
        "correct": np.select([good > bad, good < bad], [1.0, 0.0], TIES[ties]),
        "identical": identical.astype(bool),
    })
    return out[list(PAIRS_COLUMNS)].sort_values(PAIR_KEYS, ignore_index=True)


def _successes(correct):
    """Whole successes for the exact test; half-credit ties split toward n / 2."""
    total, half = float(np.sum(correct)), len(correct) / 2
    # An odd number of half ties leaves .5 over; rounding toward n/2 is conservative.
    return int(np.floor(total)) if total > half else int(np.ceil(total))


def _summarize_one(correct, n_excluded, *, n_boot, ci, rng, alternative):
    nan = float("nan")
    if len(correct) == 0:
        return {"n": 0, "n_excluded": n_excluded, "accuracy": nan, "ci_low": nan,
                "ci_high": nan, "p_val": nan}
    # Sorting makes the resamples independent of the input row order.
    boot = bootstrap_ci(np.sort(correct), n_boot=n_boot, ci=ci, random_state=rng)
    return {"n": len(correct), "n_excluded": n_excluded, "accuracy": boot.estimate,
            "ci_low": boot.ci_low, "ci_high": boot.ci_high,
            "p_val": binomial_test(_successes(correct), len(correct), alternative=alternative)}


def summarize_pairs(pairs, *, n_boot=10_000, ci=0.95, correction="holm", random_state=None,
                    alternative="two-sided"):
    """Accuracy per phenomenon with a bootstrap CI and an exact test against chance.

    Parameters
    ----------
    pairs : pandas.DataFrame
        From :func:`build_pairs`: at least ``phenomenon, correct, identical``.
    n_boot : int, default 10_000
        Bootstrap resamples of the pairs for the confidence interval.
    ci : float, default 0.95
        Confidence level.
    correction : {"holm", "bonferroni", "fdr_bh", "bh"}, default "holm"
        Correction across the phenomena (the family is the rows of the output).
    random_state : int, numpy.random.Generator or None
        Seed for the bootstrap; the same seed gives the same table.
    alternative : {"two-sided", "greater", "less"}, default "two-sided"
        Alternative of the exact binomial test against 0.5 (see
        :func:`probing.stats.binomial_test` for why two-sided).

    Returns
    -------
    pandas.DataFrame
        ``phenomenon, n, n_excluded, accuracy, ci_low, ci_high, p_val, p_corr,
        correction``, one row per phenomenon, sorted. Identical pairs are left out of
        everything and counted in ``n_excluded``. With ``ties="half"`` the test splits
        the half-credit ties between successes and failures, an odd one going toward
        the null. There is no pooled row: for one, summarize
        ``pairs.assign(phenomenon="overall")``.

    Examples
    --------
    >>> pairs = pd.DataFrame({"phenomenon": np.repeat(["a", "b"], 20),
    ...                       "correct": np.r_[np.ones(19), 0.0, np.tile([1.0, 0.0], 10)],
    ...                       "identical": False})
    >>> out = summarize_pairs(pairs, n_boot=1000, random_state=0)
    >>> out[["phenomenon", "n", "accuracy"]]
      phenomenon   n  accuracy
    0          a  20      0.95
    1          b  20      0.50
    >>> (out["p_corr"] < 0.05).tolist()
    [True, False]
    """
    require_columns(pairs, ("phenomenon", "correct", "identical"), "pairs")
    if correction not in CORRECTIONS:
        raise ProbingError(f"summarize_pairs: correction must be one of {list(CORRECTIONS)}, "
                           f"got {correction!r}")
    rng = np.random.default_rng(random_state)
    rows = []
    for phenomenon, group in pairs.groupby("phenomenon", sort=True):
        excluded = group["identical"].to_numpy(dtype=bool)
        correct = group["correct"].to_numpy(dtype=float)[~excluded]
        rows.append({"phenomenon": phenomenon, **_summarize_one(
            correct, int(excluded.sum()), n_boot=n_boot, ci=ci, rng=rng,
            alternative=alternative)})
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS[:-2]))
    return out.assign(p_corr=correct_pvalues(out["p_val"].to_numpy(float), method=correction),
                      correction=CORRECTIONS[correction])
