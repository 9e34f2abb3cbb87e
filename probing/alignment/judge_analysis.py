"""A model as judge against human ratings: tables in, tables out; no model.

The judge's answer to a prompt is the probability-weighted expected rating over the
scale's labels, renormalised over the labels (:func:`compute_expected_rating`); how much
of the next-token probability the labels hold is kept as ``label_mass``.
:func:`build_judge_ratings` turns the label log-probabilities of
:func:`probing.models.judge_prompts.judge_texts` into one rating per prompt;
:func:`summarize_judge` correlates it with the human ratings (next to the direct
measures, with Williams' test), measures its consistency across paraphrased prompts
(ICC, mean pairwise r) and its position bias (the scale listed ascending vs
descending); :func:`build_judge_calibration` bins it against the human scale;
:func:`judge_pairs` judges both members of minimal pairs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats as sps

from probing._core.defaults import CI, N_BOOT, RANDOM_STATE, TIES
from probing._core.errors import ProbingError
from probing._core.vocabulary import TABLES, table_columns
from probing.alignment.correlation import compare_correlations, correlate
from probing.alignment.judgements import JUDGEMENT_COLUMNS, _judged, build_judgements
from probing.stats import bootstrap_ci

__all__ = ["JUDGE_CALIBRATION_COLUMNS", "JUDGE_RATING_COLUMNS", "JUDGE_SUMMARY_COLUMNS",
           "build_judge_calibration", "build_judge_ratings", "compute_expected_rating",
           "compute_icc", "judge_pairs", "summarize_judge"]

JUDGE_RATING_COLUMNS = TABLES["judge_ratings"]
JUDGE_SUMMARY_COLUMNS = TABLES["judge_summary"]
JUDGE_CALIBRATION_COLUMNS = TABLES["judge_calibration"]
_PROMPT = ["stimulus_id", "prompt_style", "template", "scale_order"]


def compute_expected_rating(logprobs, values):
    """Expected rating over the labels, renormalised, and the labels' probability mass.

    Parameters
    ----------
    logprobs : array_like of shape (n_prompts, n_labels)
        Log-probability of each label after each prompt (nats).
    values : array_like of shape (n_labels,)
        The rating each label stands for.

    Returns
    -------
    expected : numpy.ndarray of shape (n_prompts,)
        ``sum_k p_k v_k`` with ``p_k = exp(l_k) / sum_j exp(l_j)``.
    mass : numpy.ndarray of shape (n_prompts,)
        ``sum_k exp(l_k)``: the probability the labels hold before renormalising.

    Examples
    --------
    >>> expected, mass = compute_expected_rating(np.log([[0.1, 0.3]]), [1, 2])
    >>> round(float(expected[0]), 3), round(float(mass[0]), 3)
    (1.75, 0.4)
    """
    logprobs = np.atleast_2d(np.asarray(logprobs, dtype=float))
    values = np.asarray(values, dtype=float)
    if logprobs.shape[-1] != values.shape[0] or values.ndim != 1:
        raise ProbingError(f"compute_expected_rating: {logprobs.shape[-1]} labels but "
                           f"{values.shape} values")
    if not np.isfinite(logprobs).all():
        raise ProbingError("compute_expected_rating: log-probabilities must be finite")
    total = np.logaddexp.reduce(logprobs, axis=-1)
    probs = np.exp(logprobs - total[:, None])
    return probs @ values, np.exp(total)


def build_judge_ratings(prompts):
    """One expected rating per prompt from the label log-probabilities.

    Parameters
    ----------
    prompts : pandas.DataFrame
        From :func:`probing.models.judge_prompts.judge_texts`: ``stimulus_id, prompt_style,
        template, scale_order, option, scale_value, logprob_option``.

    Returns
    -------
    pandas.DataFrame
        ``stimulus_id, prompt_style, template, scale_order, expected_rating, label_mass``.

    Examples
    --------
    >>> prompts = pd.DataFrame({"stimulus_id": "s", "prompt_style": "chat", "template": "t",
    ...     "scale_order": "ascending", "option": ["1", "2"], "scale_value": [1.0, 2.0],
    ...     "logprob_option": np.log([0.1, 0.3])})
    >>> build_judge_ratings(prompts)["expected_rating"].round(3).tolist()
    [1.75]
    """
    groups = prompts.groupby(_PROMPT, sort=False)
    rows = []
    for key, group in groups:
        expected, mass = compute_expected_rating(group["logprob_option"].to_numpy()[None],
                                                 group["scale_value"].to_numpy())
        rows.append((*key, float(expected[0]), float(mass[0])))
    return pd.DataFrame(rows, columns=list(JUDGE_RATING_COLUMNS))


def compute_icc(matrix):
    """ICC(C,1) (consistency) and ICC(A,1) (absolute agreement) of items x raters.

    Two-way model, single rater (McGraw & Wong, 1996; Shrout & Fleiss' ICC(3,1) and
    ICC(2,1)). Vectorised: ``matrix`` may carry leading axes (bootstrap resamples).

    Parameters
    ----------
    matrix : array_like of shape (..., n_items, n_raters)

    Returns
    -------
    consistency, agreement : numpy.ndarray of shape (...)

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [2.0, 3.0], [3.0, 4.0]])
    >>> [round(float(v), 3) for v in compute_icc(x)]
    [1.0, 0.667]
    """
    x = np.asarray(matrix, dtype=float)
    n, k = x.shape[-2:]
    grand = x.mean(axis=(-2, -1), keepdims=True)
    rows, cols = x.mean(axis=-1, keepdims=True), x.mean(axis=-2, keepdims=True)
    ms_rows = k * ((rows - grand) ** 2).sum(axis=(-2, -1)) / (n - 1)
    ms_cols = n * ((cols - grand) ** 2).sum(axis=(-2, -1)) / (k - 1)
    ms_err = ((x - rows - cols + grand) ** 2).sum(axis=(-2, -1)) / ((n - 1) * (k - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        consistency = (ms_rows - ms_err) / (ms_rows + (k - 1) * ms_err)
        agreement = (ms_rows - ms_err) / (ms_rows + (k - 1) * ms_err + k / n * (ms_cols - ms_err))
    return consistency, agreement


def _mean_pairwise_r(x):
    """Mean Pearson r over the pairs of columns of ``x`` (..., n_items, n_raters)."""
    centred = x - x.mean(axis=-2, keepdims=True)
    norm = np.sqrt((centred**2).sum(axis=-2))
    rs = [(centred[..., i] * centred[..., j]).sum(axis=-1) / (norm[..., i] * norm[..., j])
          for i, j in itertools.combinations(range(x.shape[-1]), 2)]
    return np.mean(rs, axis=0)


def _boot_rows(x, statistic, n_boot, ci, seed):
    """Percentile bootstrap over items (rows of ``x``) of ``statistic(x[rows])``."""
    def resampled(index, axis=-1):
        return statistic(x[np.asarray(index, dtype=np.int64)])

    return bootstrap_ci(np.arange(len(x), dtype=float), statistic=resampled, n_boot=n_boot,
                        ci=ci, random_state=seed)


def _consistency_rows(ratings, n_boot, ci, seed):
    """ICC and mean pairwise r across templates (each averaged over the scale orders)."""
    wide = ratings.pivot_table(index="stimulus_id", columns="template",
                               values="expected_rating", aggfunc="mean").dropna()
    if wide.shape[1] < 2:
        return []
    x = wide.to_numpy()
    stats = {"icc_consistency": lambda m: compute_icc(m)[0],
             "icc_agreement": lambda m: compute_icc(m)[1],
             "mean_pairwise_r": _mean_pairwise_r}
    rows = []
    for metric, statistic in stats.items():
        boot = _boot_rows(x, statistic, n_boot, ci, seed)
        rows.append({"measure": "templates", "metric": metric, "estimate": float(statistic(x)),
                     "ci_low": boot.ci_low, "ci_high": boot.ci_high, "n": len(x)})
    return rows


def _position_rows(ratings, n_boot, ci, seed):
    """Mean shift descending minus ascending (paired t) and the r between the orders."""
    wide = ratings.pivot_table(index=["stimulus_id", "template"], columns="scale_order",
                               values="expected_rating").dropna()
    if not {"ascending", "descending"} <= set(wide.columns):
        return []
    per_item = wide.groupby(level="stimulus_id").mean()
    shift = (per_item["descending"] - per_item["ascending"]).to_numpy()
    boot = bootstrap_ci(shift, n_boot=n_boot, ci=ci, random_state=seed)
    test = sps.ttest_1samp(shift, 0.0)
    r = _boot_rows(per_item[["ascending", "descending"]].to_numpy(), _mean_pairwise_r, n_boot,
                   ci, seed)
    return [{"measure": "scale_order", "metric": "position_shift", "estimate": float(shift.mean()),
             "ci_low": boot.ci_low, "ci_high": boot.ci_high, "stat": float(test.statistic),
             "p_val": float(test.pvalue), "n": len(shift)},
            {"measure": "scale_order", "metric": "order_r",
             "estimate": float(_mean_pairwise_r(per_item[["ascending", "descending"]].to_numpy())),
             "ci_low": r.ci_low, "ci_high": r.ci_high, "n": len(shift)}]


def _williams_rows(judge, measures, human):
    """Williams' t of the judge's Pearson r against each direct measure's."""
    merged = judge.merge(measures, on="stimulus_id").merge(human, on="stimulus_id")
    rows = []
    for measure in [c for c in measures.columns if c != "stimulus_id"]:
        test = compare_correlations(merged["judge"], merged[measure], merged["rating"]).iloc[0]
        rows.append({"measure": f"judge - {measure}", "metric": "williams_pearson",
                     "estimate": test["estimate"], "stat": test["stat"], "p_val": test["p_val"],
                     "n": int(test["n"])})
    return rows


def _judge_means(ratings):
    """The judge's rating per sentence and style: the mean over templates and orders."""
    return ratings.groupby(["prompt_style", "stimulus_id"], as_index=False, sort=False)[
        "expected_rating"].mean().rename(columns={"expected_rating": "judge"})


def summarize_judge(ratings, human, *, measures=None, n_boot=N_BOOT, ci=CI,
                    random_state=RANDOM_STATE):
    """The judge against human ratings, its consistency and its position bias.

    Parameters
    ----------
    ratings : pandas.DataFrame
        From :func:`build_judge_ratings`.
    human : pandas.DataFrame
        ``stimulus_id, rating`` (mean human rating per sentence).
    measures : pandas.DataFrame, optional
        ``stimulus_id`` and one column per direct measure (``SLOR``, ``LP``, ...) on the
        same sentences, for Williams' test of the judge's r against each.
    n_boot, ci, random_state
        Percentile bootstrap over sentences (the same resamples for every statistic).

    Returns
    -------
    pandas.DataFrame
        ``prompt_style, measure, metric, value, ci_low, ci_high, stat, p_val, n`` per
        style. ``measure`` ``judge`` (mean over templates and orders), each template
        (``<template>``, mean over orders) and each direct measure: ``pearson``,
        ``spearman`` with the ratings. ``judge - <measure>``: ``williams_pearson``
        (``estimate`` = r difference, ``stat`` = Williams' t, ``n - 3`` df).
        ``templates``: ``icc_consistency``, ``icc_agreement`` (single prompt, two-way),
        ``mean_pairwise_r``. ``scale_order``: ``position_shift`` (descending minus
        ascending, mean over sentences; one-sample t) and ``order_r``. ``label_mass``:
        ``mean`` of the labels' probability mass (with its bootstrap interval).
    """
    human = human[["stimulus_id", "rating"]]
    kept = ratings[ratings["stimulus_id"].isin(human["stimulus_id"])]
    if kept.empty:
        raise ProbingError("summarize_judge: no rated sentence has a human rating")
    boot = {"n_boot": n_boot, "ci": ci, "random_state": random_state}
    parts = []
    for style, group in kept.groupby("prompt_style", sort=True):
        judge = _judge_means(group)[["stimulus_id", "judge"]]
        per_template = group.groupby(["template", "stimulus_id"], as_index=False)[
            "expected_rating"].mean().rename(columns={"template": "measure",
                                                      "expected_rating": "estimate"})
        long = [judge.rename(columns={"judge": "estimate"}).assign(measure="judge"), per_template]
        if measures is not None:
            long.append(measures.melt(id_vars="stimulus_id", var_name="measure",
                                      value_name="estimate"))
        table = pd.concat(long, ignore_index=True)
        table = table[table["stimulus_id"].isin(judge["stimulus_id"])]
        rows = correlate(table, ratings=human, **boot).to_dict("records")
        if measures is not None:
            rows += _williams_rows(judge, measures, human)
        rows += _consistency_rows(group, n_boot, ci, random_state)
        rows += _position_rows(group, n_boot, ci, random_state)
        mass = group["label_mass"].to_numpy()
        mass_ci = bootstrap_ci(mass, n_boot=n_boot, ci=ci, random_state=random_state)
        rows.append({"measure": "label_mass", "metric": "mean", "estimate": float(mass.mean()),
                     "ci_low": mass_ci.ci_low, "ci_high": mass_ci.ci_high, "n": len(mass)})
        parts.append(pd.DataFrame(rows).assign(prompt_style=style))
    return pd.concat(parts, ignore_index=True).reindex(columns=list(JUDGE_SUMMARY_COLUMNS))


def build_judge_calibration(ratings, human, *, n_bins=5, ci=CI):
    """How the judge's scale maps onto the human one: binned judge vs mean human rating.

    Parameters
    ----------
    ratings : pandas.DataFrame
        From :func:`build_judge_ratings` (the judge per sentence is the mean over
        templates and orders).
    human : pandas.DataFrame
        ``stimulus_id, rating``.
    n_bins : int, default 5
        Bins of equal counts of the judge's rating (quantiles; tied edges merge).
    ci : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        ``prompt_style, bin, expected_rating, rating, ci_low, ci_high, n``: per style and
        bin (1 = lowest judge ratings), the mean judge rating, the mean human rating and
        its t interval over the bin's sentences.

    Examples
    --------
    >>> ratings = pd.DataFrame({"stimulus_id": range(8), "prompt_style": "chat",
    ...     "template": "t", "scale_order": "ascending",
    ...     "expected_rating": np.linspace(1, 4, 8), "label_mass": 0.5})
    >>> human = pd.DataFrame({"stimulus_id": range(8), "rating": np.linspace(1, 4, 8)})
    >>> build_judge_calibration(ratings, human, n_bins=2)["n"].tolist()
    [4, 4]
    """
    if n_bins < 1:
        raise ProbingError(f"build_judge_calibration: n_bins must be >= 1; got {n_bins}")
    merged = _judge_means(ratings).merge(human[["stimulus_id", "rating"]], on="stimulus_id")
    rows = []
    for style, group in merged.groupby("prompt_style", sort=True):
        bins = pd.qcut(group["judge"], q=min(n_bins, len(group)), labels=False,
                       duplicates="drop")
        for b, cell in group.groupby(bins, sort=True):
            y = cell["rating"].to_numpy(float)
            half = (sps.t.ppf((1 + ci) / 2, len(y) - 1) * y.std(ddof=1) / np.sqrt(len(y))
                    if len(y) > 1 else np.nan)
            rows.append((style, int(b) + 1, cell["judge"].mean(), y.mean(), y.mean() - half,
                         y.mean() + half, len(y)))
    return pd.DataFrame(rows, columns=list(JUDGE_CALIBRATION_COLUMNS))


def judge_pairs(ratings, stimuli, *, direct=None, ties=TIES):
    """Judge both members of minimal pairs: right when the good one is rated higher.

    Parameters
    ----------
    ratings : pandas.DataFrame
        From :func:`build_judge_ratings`, over the members of the pairs.
    stimuli : pandas.DataFrame
        ``stimulus_id, phenomenon, pair_id, role`` (and ``identical``: left out).
    direct : pandas.DataFrame, optional
        ``pairs.csv`` of ``probing run`` (``phenomenon, pair_id, logprob_good,
        logprob_bad``): its ``direct`` rows come first, for agreement and McNemar.
    ties : {"half", "incorrect", "correct"}, default ``TIES`` = "half"

    Returns
    -------
    pandas.DataFrame
        The ``judgements`` table of :func:`~probing.alignment.build_judgements`
        (``phenomenon, pair_id, task, prompt_style, order, score_good, score_bad, correct,
        tie``) with ``task`` = ``judge``, ``order`` the scale order or ``both`` (the mean
        over orders) and the scores the members' expected ratings (mean over templates);
        :func:`~probing.alignment.compare_judgements` summarises it.
    """
    members = stimuli[["stimulus_id", "phenomenon", "pair_id", "role"]]
    if "identical" in stimuli:
        members = members[~stimuli["identical"].astype(bool)]
    both = ratings.assign(scale_order="both")
    merged = pd.concat([ratings, both]).merge(members, on="stimulus_id")
    means = merged.groupby(["phenomenon", "pair_id", "prompt_style", "scale_order", "role"],
                           as_index=False)["expected_rating"].mean()
    wide = means.pivot_table(index=["phenomenon", "pair_id", "prompt_style", "scale_order"],
                             columns="role", values="expected_rating").reset_index().dropna()
    keys = wide[["phenomenon", "pair_id", "prompt_style"]].assign(
        task="judge", order=wide["scale_order"].to_numpy())
    out = _judged(keys, wide["good"], wide["bad"], ties)
    out.columns.name = None
    parts = [out[list(JUDGEMENT_COLUMNS)]]
    if direct is not None:  # the direct rows of build_judgements, without prompts
        parts.insert(0, build_judgements(pd.DataFrame(columns=table_columns("prompts")), direct,
                                         ties=ties))
    return pd.concat(parts, ignore_index=True)
