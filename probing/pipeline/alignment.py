"""Alignment tables of a run on human data (kinds ``ratings`` and ``reading_times``).

``alignment.csv`` has one row per measure and statistic: ``model, paradigm, measure,
method, value, ci_low, ci_high, n``. Ratings: Pearson and Spearman correlations of
LP, MeanLP, PenLP, NormLP and SLOR with the mean ratings, and each measure's held-out
calibration (R², RMSE). Reading times: the held-out delta log-likelihood of surprisal
(end-of-word corrected word surprisal, spillover 2, leave one text out).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing.alignment import (
    build_acceptability,
    calibrate_predictions,
    compute_delta_loglik,
    compute_unigram_logprob,
    correlate,
    score_calibration,
    summarize_delta,
    unigram_source,
)
from probing.behaviour import build_sentence_scores, build_word_surprisal

ALIGNMENT_COLUMNS = ["measure", "method", "value", "ci_low", "ci_high", "n", "model", "paradigm"]
ALIGNMENT_KINDS = ("ratings", "reading_times")
SPILLOVER = 2


def alignment_tables(stimuli, tokens, *, options, model):
    """``alignment`` plus the per-sentence (``acceptability``) or per-word (``reading``) table.

    Parameters
    ----------
    stimuli : Stimuli
        Of kind ``ratings`` or ``reading_times``.
    tokens : pandas.DataFrame
        The run's tokens table.
    options : RunOptions
        ``n_boot`` and ``seed`` are used.
    model : str
        Written into the ``model`` column.

    Returns
    -------
    dict of str -> pandas.DataFrame
    """
    seed = options.seed or 0
    if stimuli.kind == "ratings":
        detail, summary = _ratings(stimuli, tokens, options.n_boot, seed)
        name = "acceptability"
    else:
        detail, summary = _reading(stimuli, tokens, options.n_boot, seed)
        name = "reading"
    summary = summary.assign(model=model, paradigm=stimuli.paradigm)[ALIGNMENT_COLUMNS]
    return {name: detail, "alignment": summary}


def alignment_notes(stimuli):
    """Manifest notes: the unigram source and the regression design."""
    if stimuli.kind == "ratings":
        return {"unigram_source": unigram_source(), "length": "n_words (wordfreq words)"}
    return {"unigram_source": unigram_source(), "spillover": SPILLOVER,
            "word_surprisal": "end-of-word corrected", "cv": "leave one text out",
            "interval": "percentile bootstrap over texts (cluster: whole texts resampled)"}


def _ratings(stimuli, tokens, n_boot, seed):
    table = stimuli.table
    scores = build_sentence_scores(tokens).merge(table[["stimulus_id", "text", "rating"]],
                                                 on="stimulus_id")
    scores = pd.concat([scores, compute_unigram_logprob(scores["text"]).set_index(scores.index)],
                       axis=1)
    measures = build_acceptability(scores)
    ratings = scores[["stimulus_id", "rating"]]
    summary = pd.concat([
        correlate(measures, ratings=ratings, n_boot=n_boot, random_state=seed),
        score_calibration(calibrate_predictions(measures, ratings=ratings, random_state=seed),
                          n_boot=n_boot, random_state=seed)], ignore_index=True)
    wide = measures.pivot(index="stimulus_id", columns="measure", values="value").reset_index()
    detail = scores.drop(columns="text").merge(wide, on="stimulus_id")
    return detail, summary


def _reading(stimuli, tokens, n_boot, seed):
    words = build_word_surprisal(tokens, stimuli.table)
    data = stimuli.words.merge(words[["stimulus_id", "word_index", "surprisal", "eow_corrected"]],
                               on=["stimulus_id", "word_index"], validate="one_to_one")
    letters = data["word"].str.replace(r"[^\w]", "", regex=True)
    data["length"] = letters.str.len().to_numpy(np.int64)
    data["frequency"] = compute_unigram_logprob(data["word"])["unigram_logprob"].to_numpy()
    design = data[["item", "position", "rt", "surprisal", "length", "frequency"]]
    scored = compute_delta_loglik(design, spillover=SPILLOVER)
    summary = summarize_delta(scored, n_boot=n_boot, random_state=seed)
    detail = data.merge(scored[["item", "position", "fold", "delta_loglik"]],
                        on=["item", "position"], how="left")
    return detail, summary
