"""Minimal pairs: which member does the model prefer, and how reliably per phenomenon."""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.defaults import CI, N_BOOT, RANDOM_STATE, TIES
from probing._core.errors import ProbingError
from probing._core.vocabulary import table_columns
from probing.behaviour._checks import plain, require_columns
from probing.stats import (
    CORRECTIONS,
    PROPORTION_METHODS,
    binomial_test,
    bootstrap_ci,
    check_n_items,
    clustered_proportion_ci,
    correct_pvalues,
    correction_label,
    proportion_ci,
)

__all__ = ["build_pairs", "summarize_pairs"]

PAIR_KEYS = ["phenomenon", "pair_id"]
# The pairs table of the vocabulary; item_id and condition come from the stimuli table,
# which this analysis does not see (the pipeline joins them).
PAIRS_COLUMNS = tuple(c for c in table_columns("pairs") if c not in ("item_id", "condition"))
SUMMARY_COLUMNS = tuple(table_columns("summary"))
TIE_SCORES = {"incorrect": 0.0, "half": 0.5, "correct": 1.0}
INTERVALS = (*PROPORTION_METHODS, "bootstrap")
#: Relative tolerance of a tie: log-probabilities summed in another order (another batch,
#: another padding, float32 logits) differ by far less than this, real preferences by more.
TIE_RTOL = 1e-6


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


def build_pairs(sentence_scores, stimuli_table, *, reduction="sum", ties=TIES,
                tie_rtol=TIE_RTOL):
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
    ties : {"incorrect", "half", "correct"}, default ``TIES`` = "half"
        What a tie scores in ``correct``: 0.0, 0.5 or 1.0. A tie scores one half by
        default: the model prefers neither member, and scoring it 0 (BLiMP's rule,
        ``"incorrect"``) made 30 tied pairs read accuracy 0.000 [0.000, 0.114], "reliably
        wrong"; :func:`summarize_pairs` counts ties apart and leaves them out of its
        test whatever they score.
    tie_rtol : float, default 1e-6
        Two log-probabilities tie when they differ by at most ``tie_rtol`` times the
        larger magnitude (plus 1e-12): a tolerance that summation order and float32
        rounding stay within, so that two identical sentences scored in different
        batches tie.

    Returns
    -------
    pandas.DataFrame
        ``phenomenon, pair_id, good, bad, logprob_good, logprob_bad, correct, tie,
        identical`` sorted by ``phenomenon, pair_id``; ``good``/``bad`` are the texts,
        ``correct`` is a float (1.0, 0.0, or the tie score), ``tie`` marks ties. ``identical`` marks pairs
        whose texts are equal or that either member's ``identical`` flag marks; they
        are kept (scored as ties) for :func:`summarize_pairs` to exclude.

    Examples
    --------
    >>> stimuli = pd.DataFrame({"stimulus_id": ["g", "b"], "text": ["Cats run.", "Cats runs."],
    ...                         "phenomenon": "agreement", "pair_id": 0, "role": ["good", "bad"]})
    >>> scores = pd.DataFrame({"stimulus_id": ["g", "b"], "logprob_sum": [-5.0, -9.0]})
    >>> build_pairs(scores, stimuli)[["good", "bad", "correct", "tie", "identical"]]
            good         bad  correct    tie  identical
    0  Cats run.  Cats runs.      1.0  False      False
    """
    if reduction not in ("sum", "mean"):
        raise ProbingError(f"build_pairs: reduction must be 'sum' or 'mean', got {reduction!r}")
    if ties not in TIE_SCORES:
        raise ProbingError(f"build_pairs: ties must be one of {list(TIE_SCORES)}, got {ties!r}")
    score = f"logprob_{reduction}"
    joined = _join_roles(_scored_members(sentence_scores, stimuli_table, score), score)
    if isinstance(tie_rtol, bool) or not isinstance(tie_rtol, int | float) or not (
            0 <= tie_rtol < 1):
        raise ProbingError(f"build_pairs: tie_rtol must be a number in [0, 1), got {tie_rtol!r}")
    good, bad = joined[f"{score}_good"].to_numpy(float), joined[f"{score}_bad"].to_numpy(float)
    tie = np.abs(good - bad) <= tie_rtol * np.maximum(np.abs(good), np.abs(bad)) + 1e-12
    identical = (joined["text_good"] == joined["text_bad"]).to_numpy()
    if "identical_good" in joined:
        flags = joined[["identical_good", "identical_bad"]].fillna(False).astype(bool)
        identical = identical | flags.any(axis=1).to_numpy()
    out = pd.DataFrame({
        "phenomenon": joined["phenomenon"], "pair_id": joined["pair_id"],
        "good": joined["text_good"], "bad": joined["text_bad"],
        "logprob_good": good, "logprob_bad": bad,
        "correct": np.select([tie, good > bad], [TIE_SCORES[ties], 1.0], 0.0),
        "tie": tie, "identical": identical.astype(bool),
    })
    return out[list(PAIRS_COLUMNS)].sort_values(PAIR_KEYS, ignore_index=True)


def _interval(correct, clusters, *, interval, n_boot, ci, rng):
    if interval != "bootstrap":
        if clusters is not None:  # pairs of one item are not independent trials
            return clustered_proportion_ci(correct, clusters, ci=ci, interval=interval)
        return proportion_ci(float(np.sum(correct)), len(correct), ci=ci, interval=interval)
    if clusters is None:
        # Sorting makes the resamples independent of the input row order.
        boot = bootstrap_ci(np.sort(correct), n_boot=n_boot, ci=ci, random_state=rng)
        return boot.ci_low, boot.ci_high
    # Clustered pairs (several pairs of one item): resample whole clusters and pool.
    codes = pd.factorize(clusters, sort=True)[0]
    sums = np.bincount(codes, weights=correct)
    counts = np.bincount(codes).astype(float)

    def pooled(picked, axis=-1):
        picked = np.asarray(picked).astype(np.intp)
        return sums[picked].sum(axis=axis) / counts[picked].sum(axis=axis)

    boot = bootstrap_ci(np.arange(len(sums), dtype=float), statistic=pooled, n_boot=n_boot,
                        ci=ci, random_state=rng)
    return boot.ci_low, boot.ci_high


def _summarize_one(correct, tie, clusters, n_excluded, *, options, rng):
    nan = float("nan")
    n_items = len(correct) if clusters is None else len(pd.unique(clusters))
    counts = {"n": len(correct), "n_excluded": n_excluded, "n_ties": int(tie.sum()),
              "n_items": n_items}
    if len(correct) == 0:
        return {**counts, "accuracy": nan, "ci_low": nan, "ci_high": nan, "p_val": nan}
    low, high = _interval(correct, clusters, interval=options["interval"],
                          n_boot=options["n_boot"], ci=options["ci"], rng=rng)
    # The test leaves ties out (as the sign test does): a tie prefers neither member,
    # so scoring it as a failure would read "no preference" as "prefers the bad one".
    wins, losses = _decided_units(correct[~tie], None if clusters is None else clusters[~tie])
    p_val = binomial_test(wins, wins + losses, alternative=options["alternative"])
    return {**counts, "accuracy": float(np.mean(correct)), "ci_low": low, "ci_high": high,
            "p_val": p_val}


def _decided_units(decided, clusters):
    """Units for the exact test: the untied pairs, or with clusters the items.

    Pairs of one item share its preference, so with clusters the test is a sign test
    over items: an item counts as a win when most of its untied pairs are right, a loss
    when most are wrong, and not at all when they split evenly. Testing the pairs as
    independent trials rejected 0.085-0.198 at 0.05 with 4 pairs per item.
    """
    if clusters is None:
        return int(np.sum(decided == 1.0)), int(np.sum(decided == 0.0))
    means = pd.Series(decided).groupby(pd.factorize(clusters)[0]).mean().to_numpy()
    return int(np.sum(means > 0.5)), int(np.sum(means < 0.5))


def summarize_pairs(pairs, *, n_boot=N_BOOT, ci=CI, correction="holm", random_state=RANDOM_STATE,
                    alternative="two-sided", interval="wilson", cluster="auto"):
    """Accuracy per phenomenon with a confidence interval and an exact test against chance.

    Parameters
    ----------
    pairs : pandas.DataFrame
        From :func:`build_pairs`: at least ``phenomenon, correct, identical``.
    n_boot : int, default ``N_BOOT`` = 2,000
        Default from ``probing._core.defaults`` (stable 95% percentile end points).
        Resamples for ``interval="bootstrap"``.
    ci : float, default 0.95
        Confidence level.
    correction : {"holm", "bonferroni", "fdr_bh", "bh"}, default "holm"
        Correction across the phenomena (the family is the rows of the output).
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).
        Seed for the bootstrap; the same seed gives the same table.
    alternative : {"two-sided", "greater", "less"}, default "two-sided"
        Alternative of the exact binomial test against 0.5 (see
        :func:`probing.stats.binomial_test` for why two-sided).
    interval : {"wilson", "clopper_pearson", "bootstrap"}, default "wilson"
        Wilson's score interval or the exact Clopper-Pearson one
        (:func:`probing.stats.proportion_ci`; with clusters on the effective number of
        pairs, :func:`probing.stats.clustered_proportion_ci`), or a percentile
        bootstrap (of whole clusters when there are clusters).
    cluster : str, "auto" or None, default "auto"
        Column of ``pairs`` naming the item each pair belongs to. Pairs of one item
        share its preference and are not independent trials, so with clusters the
        items are the units: the interval uses the effective number of pairs (or
        resamples whole items) and the exact test is a sign test over items (an item
        counts for the good member when most of its untied pairs do). ``"auto"``:
        ``item_id`` when the table has it and some item holds more than one pair, else
        none; None: every pair independent.

    Returns
    -------
    pandas.DataFrame
        ``phenomenon, n, n_excluded, n_ties, n_items, accuracy, ci_low, ci_high, p_val,
        p_corr, correction``, one row per phenomenon, sorted. Identical pairs are left
        out of everything and counted in ``n_excluded``. ``n`` counts the other pairs,
        ties included; ``n_items`` the units of inference (the items with clusters, else
        the pairs; a ``FewItemsWarning`` below 20); ``accuracy`` and its interval score
        ties as ``build_pairs(ties=)`` says (one half by default); ``n_ties`` counts
        them, and the exact binomial test uses only the untied pairs (NaN when every
        pair ties). There is no pooled row: for one, summarize
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
    cluster = _resolve_cluster(pairs, cluster)
    require_columns(pairs, ("phenomenon", "correct", "identical",
                            *([] if cluster is None else [cluster])), "pairs")
    if correction not in CORRECTIONS:
        raise ProbingError(f"summarize_pairs: correction must be one of {list(CORRECTIONS)}, "
                           f"got {correction!r}")
    if interval not in INTERVALS:
        raise ProbingError(f"summarize_pairs: interval must be one of {list(INTERVALS)}, "
                           f"got {interval!r}")
    rng = np.random.default_rng(random_state)
    options = {"interval": interval, "n_boot": n_boot, "ci": ci, "alternative": alternative}
    rows = []
    for phenomenon, group in pairs.groupby("phenomenon", sort=True):
        kept = ~group["identical"].to_numpy(dtype=bool)
        correct = group["correct"].to_numpy(dtype=float)[kept]
        clusters = None if cluster is None else group[cluster].to_numpy()[kept]
        rows.append({"phenomenon": phenomenon, **_summarize_one(
            correct, _ties(group)[kept], clusters, int((~kept).sum()), options=options,
            rng=rng)})
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS[:-2]))
    if len(out):
        check_n_items(out["n_items"].min(), "summarize_pairs")
    return out.assign(p_corr=correct_pvalues(out["p_val"].to_numpy(float), correction=correction),
                      correction=correction_label(correction))


def _resolve_cluster(pairs, cluster):
    if cluster != "auto":
        return cluster
    if "item_id" not in pairs or pairs["item_id"].isna().all():
        return None
    shared = pairs.groupby(["phenomenon", "item_id"]).size().max() > 1
    return "item_id" if shared else None


def _ties(group):
    """Tied pairs: the ``tie`` column, else equal log-probabilities, else half credits."""
    if "tie" in group:
        return group["tie"].to_numpy(dtype=bool)
    if {"logprob_good", "logprob_bad"} <= set(group):
        good, bad = group["logprob_good"].to_numpy(float), group["logprob_bad"].to_numpy(float)
        return np.abs(good - bad) <= TIE_RTOL * np.maximum(np.abs(good), np.abs(bad)) + 1e-12
    return group["correct"].to_numpy(dtype=float) == 0.5  # only a tie scores a half
