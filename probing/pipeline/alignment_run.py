"""Alignment tables of a run on human data (kinds ``ratings`` and ``reading_times``).

``alignment.csv`` has one row per measure and statistic: ``layer, measure, metric,
value, ci_low, ci_high, n, model, paradigm``. Ratings: Pearson and Spearman
correlations of LP, MeanLP, PenLP, NormLP and SLOR with the mean ratings, and each
measure's held-out calibration (R², RMSE). Reading times: the held-out delta
log-likelihood of surprisal (end-of-word corrected word surprisal, leave one text out,
interval by a bootstrap over texts) and the surprisal effect per bit, with the analysis
options of :mod:`probing.paradigms.alignment_options`; ``reading_exclusions.csv`` counts
the words each exclusion rule removed. ``layer`` is empty for the model's
own prediction; with ``--layers`` the same statistics (calibration left out) are
repeated for each layer's logit-lens read-out (:mod:`probing.models.logit_lens`), one row
per layer.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from probing._core.vocabulary import table_columns
from probing.alignment import (
    build_acceptability,
    calibrate_predictions,
    compute_unigram_logprob,
    correlate,
    count_unigrams,
    score_calibration,
    unigram_source,
)
from probing.behaviour import build_region_surprisal
from probing.paradigms.alignment_options import resolve_alignment_options
from probing.pipeline.alignment_reading import reading_layer, reading_notes, reading_tables

ALIGNMENT_COLUMNS = table_columns("alignment", identity=True)
ALIGNMENT_KINDS = ("ratings", "reading_times")


def alignment_tables(stimuli, tokens, *, options, model, lens_tokens=None):
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
    lens_tokens : pandas.DataFrame, optional
        Tokens of logit-lens read-outs (``score_tokens(..., layers=...)``, a ``layer``
        column): adds per-layer rows to ``alignment`` and a per-layer table
        (``acceptability_layers`` or ``reading_layers``).

    Returns
    -------
    dict of str -> pandas.DataFrame
    """
    seed = options.seed or 0
    if stimuli.kind == "ratings":
        how = _ratings_how(stimuli, options)
        detail, summary = _ratings(stimuli, tokens, options.n_boot, seed, how=how)
        name = "acceptability"
        by_layer = _by_layer(_ratings_layer, stimuli, lens_tokens, options.n_boot, seed, how=how)
    else:
        analysis = analysis_options(stimuli, options)
        detail, summary, exclusions = reading_tables(stimuli, tokens, options.n_boot, seed,
                                                     analysis=analysis,
                                                     counts=_unigram_counts(analysis))
        name = "reading"
        by_layer = _by_layer(reading_layer, stimuli, lens_tokens, options.n_boot, seed,
                             baseline=detail, analysis=analysis)
    rows = [summary] if by_layer is None else [summary, by_layer[1]]
    summary = pd.concat(rows, ignore_index=True).reindex(columns=ALIGNMENT_COLUMNS[:-2])
    summary["layer"] = summary["layer"].astype("Int64")  # empty: the model's own prediction
    summary = summary.assign(model=model, paradigm=stimuli.paradigm)[ALIGNMENT_COLUMNS]
    tables = {name: detail, "alignment": summary}
    if stimuli.kind == "reading_times":
        tables["reading_exclusions"] = exclusions
    if by_layer is not None:
        tables[f"{name}_layers"] = by_layer[0]
    return tables


def analysis_options(stimuli, options):
    """The paradigm file's ``alignment:`` fields overridden by the run's explicit options."""
    return resolve_alignment_options(stimuli.info.get("alignment", {}),
                                     getattr(options, "alignment", ()))


def _unigram_counts(analysis):
    return None if analysis.unigram == "wordfreq" else count_unigrams(analysis.unigram)


def _ratings_how(stimuli, options):
    analysis = analysis_options(stimuli, options)
    return {"length": _LENGTH_COLUMN[analysis.slor_length], "counts": _unigram_counts(analysis)}


_LENGTH_COLUMN = {"words": "n_words", "tokens": "n_tokens"}


def alignment_notes(stimuli, options=None):
    """Manifest notes: the unigram source, the scored span and the regression design."""
    analysis = analysis_options(stimuli, options)
    counts = _unigram_counts(analysis)
    if stimuli.kind == "ratings":
        context = "context" in set(stimuli.regions["region"])
        return {"unigram_source": unigram_source(counts=counts),
                "length": {"words": "n_words (wordfreq words)",
                           "tokens": "n_tokens (the model's tokens of the sentence)"}[
                               analysis.slor_length],
                "scored": ("the sentence's tokens given its context (context + ' ' + sentence)"
                           if context else "the sentence's tokens"),
                "options": dataclasses.asdict(analysis)}
    return {"unigram_source": unigram_source(counts=counts), **reading_notes(analysis)}


def _by_layer(one_layer, stimuli, lens_tokens, n_boot, seed, **kwargs):
    """``(detail, summary)`` over the layers of ``lens_tokens``, or None without them."""
    if lens_tokens is None:
        return None
    details, summaries = [], []
    for layer, part in lens_tokens.groupby("layer", sort=True):
        detail, summary = one_layer(stimuli, part.drop(columns="layer"), n_boot, seed, **kwargs)
        details.append(detail.assign(layer=layer))
        summaries.append(summary.assign(layer=layer))
    detail = pd.concat(details, ignore_index=True)
    return detail[["layer", *[c for c in detail if c != "layer"]]], pd.concat(summaries)


def sentence_logprobs(tokens, regions):
    """Log-probability of each rated sentence: the sum over the tokens of its region.

    A token belongs to the sentence when its first visible character lies in the
    ``sentence`` region (the package's word rule), so after a context only the
    sentence's own tokens count, each conditioned on everything before it. No
    end-of-word terms are added: the same plain sum as a sentence scored alone.

    Returns
    -------
    pandas.DataFrame
        ``stimulus_id, logprob_sum, logprob_mean, n_tokens``.
    """
    spans = regions.loc[regions["region"] == "sentence"]
    sums = build_region_surprisal(tokens, spans, eow_correction=False)
    logprob = -sums["surprisal"].to_numpy(float)
    n_tokens = sums["n_tokens"].to_numpy(np.int64)
    return pd.DataFrame({"stimulus_id": sums["stimulus_id"].to_numpy(), "logprob_sum": logprob,
                         "logprob_mean": logprob / n_tokens, "n_tokens": n_tokens})


def _sentence_texts(stimuli):
    spans = stimuli.regions.loc[stimuli.regions["region"] == "sentence"].merge(
        stimuli.table[["stimulus_id", "text"]], on="stimulus_id")
    sentences = [text[a:b] for text, a, b in zip(spans["text"], spans["char_start"],
                                                  spans["char_end"], strict=True)]
    return pd.DataFrame({"stimulus_id": spans["stimulus_id"].to_numpy(), "sentence": sentences})


def _sentence_scores(stimuli, tokens, counts):
    scores = sentence_logprobs(tokens, stimuli.regions).merge(
        stimuli.table[["stimulus_id", "rating"]], on="stimulus_id").merge(
        _sentence_texts(stimuli), on="stimulus_id")
    unigram = compute_unigram_logprob(scores["sentence"], counts=counts)
    return pd.concat([scores.drop(columns="sentence"), unigram], axis=1)


def _ratings(stimuli, tokens, n_boot, seed, *, how):
    scores = _sentence_scores(stimuli, tokens, how["counts"])
    measures = build_acceptability(scores, length=how["length"])
    ratings = scores[["stimulus_id", "rating"]]
    summary = pd.concat([
        correlate(measures, ratings=ratings, n_boot=n_boot, random_state=seed),
        score_calibration(calibrate_predictions(measures, ratings=ratings, random_state=seed),
                          n_boot=n_boot, random_state=seed)], ignore_index=True)
    wide = measures.pivot(index="stimulus_id", columns="measure", values="estimate").reset_index()
    detail = scores.merge(wide, on="stimulus_id")
    return detail, summary


def _ratings_layer(stimuli, tokens, n_boot, seed, *, how):
    scores = _sentence_scores(stimuli, tokens, how["counts"])
    measures = build_acceptability(scores, length=how["length"])
    summary = correlate(measures, ratings=scores[["stimulus_id", "rating"]], n_boot=n_boot,
                        random_state=seed)
    wide = measures.pivot(index="stimulus_id", columns="measure", values="estimate").reset_index()
    return wide, summary
