"""Behavioural tables for one paradigm's stimuli, by kind (the public file contract)."""

from __future__ import annotations

import logging

from probing._core.defaults import MIXED_TEST
from probing._core.errors import ProbingError
from probing._core.vocabulary import table_columns
from probing.behaviour import (
    build_pairs,
    build_region_surprisal,
    build_sentence_scores,
    build_word_surprisal,
    evaluate_predictions,
    fit_region_model,
    summarize_pairs,
)
from probing.behaviour.pairs import SUMMARY_COLUMNS
from probing.paradigms.formula import parse_formula
from probing.stats import MIXED_COLUMNS

log = logging.getLogger(__name__)


def behaviour_tables(stimuli, tokens, *, options, random_state):
    """All behavioural tables of a run, keyed by file stem.

    Parameters
    ----------
    stimuli : Stimuli
    tokens : pandas.DataFrame
        Token-level scores from the model adapter.
    options : RunOptions
    random_state : int
        Seed of the bootstrap intervals: the run's seed (the paradigm's ``seed``, or
        ``--seed``), so that one seed reproduces the whole run folder.

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``scores`` always, ``words`` except for dialogues; ``pairs`` and ``summary`` for minimal pairs;
        ``regions``, ``predictions`` (and ``model`` for designs with factors) for
        factorial designs; ``regions`` (each message and slot) for dialogues.
    """
    table = stimuli.table
    scores = build_sentence_scores(tokens)
    keep = [c for c in ("stimulus_id", "item_id", "condition", "role", "phenomenon") if c in table]
    tables = {"scores": table[keep].merge(scores, on="stimulus_id", how="left")}
    if stimuli.kind != "dialogue":  # a chat template's markup is not words: regions cover messages
        tables["words"] = build_word_surprisal(tokens, table)
    if stimuli.kind == "minimal_pairs":
        tables.update(_pair_tables(scores, table, options, random_state))
        human = stimuli.info.get("human_agreement")
        if human:  # BLiMP: the published human agreement next to the model's accuracy
            tables["summary"]["human_agreement"] = tables["summary"]["phenomenon"].map(human)
    if stimuli.kind in ("factorial", "dialogue"):  # dialogues: surprisal per message and slot
        tables.update(_factorial_tables(stimuli, tokens, options))
    return tables


def _pair_tables(scores, table, options, random_state):
    pairs = build_pairs(scores, table, reduction=options.reduction, ties=options.ties)
    # the design cell and item of each pair, so accuracy per condition needs no parsing
    cells = (table.loc[table["role"] == "good", ["phenomenon", "pair_id", "item_id", "condition"]]
             .drop_duplicates(["phenomenon", "pair_id"]))
    pairs = pairs.merge(cells, on=["phenomenon", "pair_id"], how="left")
    # with item_id joined, pairs that share an item are summarised with items as units
    summary = summarize_pairs(pairs, n_boot=options.n_boot, correction=options.correction,
                              random_state=random_state)
    return {"pairs": pairs[table_columns("pairs")], "summary": summary[list(SUMMARY_COLUMNS)]}


def _factorial_tables(stimuli, tokens, options):
    # a region's reduction over its tokens; "metric" is what stimuli saved before 0.2 called it
    reduction = stimuli.info.get("reduction", stimuli.info.get("metric", "sum"))
    table = stimuli.table
    regions = build_region_surprisal(tokens, stimuli.regions, reduction=reduction)
    suite = table["suite"] if "suite" in table else stimuli.paradigm
    meta = table.assign(suite=suite)[["stimulus_id", "suite", "item_id", "condition"]]
    region_table = meta.merge(regions, on="stimulus_id")[table_columns("regions")]
    out = {"regions": region_table}
    if stimuli.predictions:
        evaluated = evaluate_predictions(regions, list(stimuli.predictions), table)
        names = stimuli.info.get("prediction_names", {})  # a named prediction reads as its name
        evaluated["prediction"] = evaluated["prediction"].map(lambda f: names.get(f, f))
        out["predictions"] = evaluated.assign(suite=stimuli.paradigm)[table_columns("predictions")]
        test = options.mixed_test or stimuli.info.get("mixed_test") or MIXED_TEST
        out["model"] = _region_models(stimuli, regions, test)
    return out


def _region_models(stimuli, regions, test):
    """Mixed models of each region a prediction names, factors as fixed effects."""
    import pandas as pd

    factors = list(stimuli.info.get("factors") or {}) or ["condition"]
    targets = dict.fromkeys(ref[0] for text in stimuli.predictions
                            for ref in parse_formula(text).references)
    fits = [_fit_or_note(regions, stimuli.table, region, factors, test) for region in targets]
    return pd.concat(fits, ignore_index=True) if fits else pd.DataFrame()


def _fit_or_note(regions, table, region, factors, test):
    """A fitted model, or one row saying why the data cannot fit one (one item, one level).

    A model the data cannot support is a finding about the data, not a failed run: the
    row keeps ``region`` and the counts, NaN estimates, and the reason in ``note``.
    """
    import numpy as np
    import pandas as pd

    try:
        fitted = fit_region_model(regions, table, region=region, factors=factors, test=test)
    except ProbingError as err:
        log.warning("region %r: mixed model not fitted (%s)", region, err)
        return pd.DataFrame([{"region": region, "term": "(not fitted)",
                              **{c: np.nan for c in MIXED_COLUMNS[1:7]}, "converged": False,
                              "n_obs": len(table), "n_groups": int(table["item_id"].nunique()),
                              "test": test,
                              "note": f"not fitted: {err}"}])
    return fitted.assign(note="")
