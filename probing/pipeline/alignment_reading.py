"""The reading-times half of :mod:`probing.pipeline.alignment_run`.

Per run: word surprisal (end-of-word corrected), length and unigram frequency; the
held-out delta log-likelihood with the paradigm's (or the command line's) spillover,
RT scale, baseline and exclusions (:class:`~probing.paradigms.alignment_options.AlignmentOptions`);
the surprisal effect per bit; per logit-lens layer, the same delta LL and a paired test
of the layer against the model's own prediction on the same words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.vocabulary import table_columns
from probing.alignment import compute_delta_loglik, compute_unigram_logprob, summarize_delta
from probing.alignment.reading import prepare_reading_design
from probing.alignment.reading_effects import compare_delta_loglik, compute_surprisal_effect
from probing.behaviour import build_word_surprisal

READING_COLUMNS = table_columns("reading")  # reading.csv
_DESIGN = ["item_id", "word_position", "word", "rt", "surprisal", "length", "frequency"]
_KEYS = ["item_id", "word_position"]


def _subject(data):
    """``["subject"]`` for per-subject times (the paradigm's ``subject`` role), else ``[]``:
    with it compute_delta_loglik fits crossed random effects by subject and by word."""
    return ["subject"] if "subject" in data else []


def _design_options(analysis):
    return {"spillover": analysis.spillover, "log_rt": analysis.log_rt,
            "baseline": analysis.baseline, "exclude": analysis.exclude,
            "rt_min": analysis.rt_min, "rt_max": analysis.rt_max}


def reading_notes(analysis):
    """Manifest notes of the regression design."""
    return {**_design_options(analysis), "word_surprisal": "end-of-word corrected",
            "cv": "leave one text out",
            "interval": "percentile bootstrap over texts (cluster: whole texts resampled)",
            "estimate": "OLS on all kept words, standard errors clustered by text, per bit"}


def _word_surprisal(stimuli, tokens):
    words = build_word_surprisal(tokens, stimuli.table)
    return stimuli.words.merge(words[["stimulus_id", "word_index", "surprisal", "eow_corrected"]],
                               on=["stimulus_id", "word_index"], validate="many_to_one")


def _delta(data, n_boot, seed, analysis):
    keys = [*_KEYS, *_subject(data)]
    scored = compute_delta_loglik(data[_DESIGN + _subject(data)], **_design_options(analysis))
    summary = summarize_delta(scored, n_boot=n_boot, random_state=seed)
    detail = data.merge(scored[[*keys, "fold", "delta_loglik"]], on=keys, how="left")
    return detail, summary, scored


def reading_tables(stimuli, tokens, n_boot, seed, *, analysis, counts):
    """``(reading, summary rows, exclusions)`` of the model's own surprisal."""
    data = _word_surprisal(stimuli, tokens)
    letters = data["word"].str.replace(r"[^\w]", "", regex=True)
    data["length"] = letters.str.len().to_numpy(np.int64)
    data["frequency"] = compute_unigram_logprob(data["word"], counts=counts)[
        "unigram_logprob"].to_numpy()
    detail, summary, scored = _delta(data, n_boot, seed, analysis)
    prepared = prepare_reading_design(data[_DESIGN + _subject(data)], **_design_options(analysis))
    effect = compute_surprisal_effect(prepared, log_rt=analysis.log_rt)
    summary = pd.concat([summary, effect], ignore_index=True)
    detail = detail.assign(subject=detail["subject"] if _subject(detail) else "")
    return detail[READING_COLUMNS], summary, pd.DataFrame(scored.attrs["exclusions"])


def reading_layer(stimuli, tokens, n_boot, seed, *, baseline, analysis):
    """One layer's read-out in place of the surprisal; baselines from the plain run.

    Adds a paired comparison (``delta_loglik_difference``: layer minus the model's own
    prediction, on the same words) to the layer's delta LL row.
    """
    data = _word_surprisal(stimuli, tokens).merge(
        baseline[["stimulus_id", "word_index", "length", "frequency"]],
        on=["stimulus_id", "word_index"], validate="one_to_one")
    detail, summary, _ = _delta(data, n_boot, seed, analysis)
    paired = compare_delta_loglik(detail, baseline, names=("layer", "model"), n_boot=n_boot,
                                  random_state=seed).assign(measure="surprisal")
    summary = pd.concat([summary, paired], ignore_index=True)
    return detail[["item_id", "word_position", "surprisal", "fold", "delta_loglik"]], summary


def compare_reading_runs(first, second, *, n_boot, random_state):
    """Paired delta-LL comparison of two run folders' ``reading.csv`` on the same words.

    Returns
    -------
    pandas.DataFrame
        One row of :func:`~probing.alignment.reading_effects.compare_delta_loglik`, the
        runs' models named in ``measure``.
    """
    from pathlib import Path

    from probing._core.errors import ProbingError

    tables = []
    for folder in (first, second):
        path = Path(folder) / "reading.csv"
        if not path.is_file():
            raise ProbingError(f"{folder}: no reading.csv; give the run folder of a "
                               "reading-times paradigm")
        tables.append(pd.read_csv(path))
    names = tuple(f"{t['model'].iloc[0]} ({Path(f).name})" if "model" in t and len(t) else
                  Path(f).name for t, f in zip(tables, (first, second), strict=True))
    return compare_delta_loglik(tables[0], tables[1], names=names, n_boot=n_boot,
                                random_state=random_state)
