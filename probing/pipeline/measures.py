"""Behavioural tables for one paradigm's stimuli, by kind (the public file contract)."""

from __future__ import annotations

import logging

from probing.behaviour import (
    build_pairs,
    build_region_surprisal,
    build_sentence_scores,
    build_word_surprisal,
    evaluate_predictions,
    fit_region_model,
    summarize_pairs,
)
from probing.paradigms.formula import parse_formula

log = logging.getLogger(__name__)

PAIR_COLUMNS = ["phenomenon", "pair_id", "good", "bad", "logprob_good", "logprob_bad", "correct",
                "identical"]
SUMMARY_COLUMNS = ["phenomenon", "n", "n_excluded", "accuracy", "ci_low", "ci_high", "p_val",
                   "p_corr", "correction"]
REGION_COLUMNS = ["suite", "item", "condition", "region_number", "region", "surprisal", "n_tokens",
                  "eow_corrected"]
PREDICTION_COLUMNS = ["suite", "item", "prediction", "correct"]


def behaviour_tables(stimuli, tokens, *, options):
    """All behavioural tables of a run, keyed by file stem.

    Parameters
    ----------
    stimuli : Stimuli
    tokens : pandas.DataFrame
        Token-level scores from the model adapter.
    options : RunOptions

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``scores`` and ``words`` always; ``pairs`` and ``summary`` for minimal pairs;
        ``regions``, ``predictions`` (and ``model`` for designs with factors) for
        factorial designs.
    """
    table = stimuli.table
    scores = build_sentence_scores(tokens)
    keep = [c for c in ("stimulus_id", "item_id", "condition", "role", "phenomenon") if c in table]
    tables = {"scores": table[keep].merge(scores, on="stimulus_id", how="left"),
              "words": build_word_surprisal(tokens, table)}
    if stimuli.kind == "minimal_pairs":
        tables.update(_pair_tables(scores, table, options))
    if stimuli.kind == "factorial":
        tables.update(_factorial_tables(stimuli, tokens, options))
    return tables


def _pair_tables(scores, table, options):
    pairs = build_pairs(scores, table, reduction=options.reduction, ties=options.ties)
    summary = summarize_pairs(pairs, n_boot=options.n_boot, correction=options.correction,
                              random_state=options.seed or 0)
    return {"pairs": pairs[PAIR_COLUMNS], "summary": summary[SUMMARY_COLUMNS]}


def _factorial_tables(stimuli, tokens, options):
    metric = stimuli.info.get("metric", "sum")
    table = stimuli.table
    regions = build_region_surprisal(tokens, stimuli.regions, reduction=metric)
    suite = table["suite"] if "suite" in table else stimuli.paradigm
    meta = table.assign(suite=suite)[["stimulus_id", "suite", "item_id", "condition"]]
    region_table = (meta.merge(regions, on="stimulus_id").rename(columns={"item_id": "item"})
                    [REGION_COLUMNS])
    out = {"regions": region_table}
    if stimuli.predictions:
        evaluated = evaluate_predictions(regions, list(stimuli.predictions), table)
        out["predictions"] = (evaluated.assign(suite=stimuli.paradigm)
                              .rename(columns={"item_id": "item"})[PREDICTION_COLUMNS])
        out["model"] = _region_models(stimuli, regions)
    return out


def _region_models(stimuli, regions):
    """Mixed models of each region a prediction names, factors as fixed effects."""
    import pandas as pd

    factors = list(stimuli.info.get("factors") or {}) or ["condition"]
    targets = dict.fromkeys(ref[0] for text in stimuli.predictions
                            for ref in parse_formula(text).references)
    fits = [fit_region_model(regions, stimuli.table, region=region, factors=factors)
            for region in targets]
    return pd.concat(fits, ignore_index=True) if fits else pd.DataFrame()
