"""How well the conditions of a generated design are balanced on frequency and length.

A psycholinguistics reviewer asks whether the conditions differ in the frequency or the
length of the words that fill them. :func:`build_balance` answers with the mean per
condition and a one-way ANOVA across conditions (scipy's ``f_oneway``), for each slot
whose fillers differ between conditions, and for the whole text's length.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from probing._core.words import count_words

BALANCE_COLUMNS = ("slot", "measure", "condition", "n", "mean", "sd", "test", "stat", "p_val")
TEXT = "(text)"


def build_balance(stimuli):
    """Means per condition and an ANOVA across conditions, per slot and measure.

    Parameters
    ----------
    stimuli : Stimuli
        Generated stimuli with a ``words`` table (slot fillers and their lexicon
        features, ``zipf`` among them when the lexicon has it).

    Returns
    -------
    pandas.DataFrame
        One row per slot, measure and condition: ``slot`` (``(text)`` for the whole
        stimulus), ``measure`` (``zipf``, ``chars``, or ``words`` for the text), ``condition``,
        ``n``, ``mean``, ``sd`` (ddof 1), and the test across conditions repeated on each
        row of the slot and measure: ``test`` (``anova``), ``stat`` (F), ``p_val``
        (NaN when every value is the same). Slots whose filler is the same word in every
        condition of every item are left out (nothing to balance).

    Examples
    --------
    >>> from probing.stimuli import Stimuli
    >>> table = pd.DataFrame({"stimulus_id": ["a1", "b1", "a2", "b2"], "item_id": [1, 1, 2, 2],
    ...                       "condition": ["a", "b", "a", "b"],
    ...                       "text": ["A cat.", "A dog.", "A cow.", "An ox."]})
    >>> words = pd.DataFrame({"stimulus_id": ["a1", "b1", "a2", "b2"], "word_index": 1,
    ...                       "word": ["cat", "dog", "cow", "ox"], "char_start": 2,
    ...                       "char_end": [5, 5, 5, 5], "slot": "noun",
    ...                       "zipf": [4.7, 5.1, 4.2, 3.0]})
    >>> s = Stimuli(paradigm="p", kind="rsa", table=table, regions=pd.DataFrame(
    ...     columns=["stimulus_id", "region", "region_number", "char_start", "char_end"]),
    ...     words=words)
    >>> build_balance(s).query("measure == 'zipf'")[["condition", "mean"]].round(2).values.tolist()
    [['a', 4.45], ['b', 4.05]]
    """
    table = stimuli.table[["stimulus_id", "item_id", "condition", "text"]]
    frames = [_text_lengths(table)]
    if stimuli.words is not None and len(stimuli.words):
        words = stimuli.words.merge(table, on="stimulus_id")
        for slot, group in words.groupby("slot", sort=False):
            if (group.groupby("item_id")["word"].nunique() > 1).any():
                frames.append(_slot_measures(slot, group))
    rows = [_summarize(slot, measure, g) for frame in frames
            for (slot, measure), g in frame.groupby(["slot", "measure"], sort=False)]
    return pd.concat(rows, ignore_index=True)[list(BALANCE_COLUMNS)]


def _text_lengths(table):
    return pd.DataFrame({"slot": TEXT, "measure": "words", "condition": table["condition"],
                         "estimate": table["text"].map(count_words).astype(float)})


def _slot_measures(slot, group):
    out = [pd.DataFrame({"slot": slot, "measure": "chars", "condition": group["condition"],
                         "estimate": group["word"].str.len().astype(float)})]
    if "zipf" in group:
        out.insert(0, pd.DataFrame({"slot": slot, "measure": "zipf", "condition": group["condition"],
                                    "estimate": group["zipf"].astype(float)}))
    return pd.concat(out)


def _summarize(slot, measure, frame):
    from scipy import stats  # loaded when a design is generated, not on import

    summary = frame.groupby("condition", sort=False)["estimate"].agg(["size", "mean", "std"])
    samples = [g.to_numpy() for _, g in frame.groupby("condition", sort=False)["estimate"]]
    stat, p_val = np.nan, np.nan
    if len(samples) > 1 and frame["estimate"].nunique() > 1 and all(len(x) > 1 for x in samples):
        with warnings.catch_warnings():  # constant groups: scipy warns, F is inf or NaN
            warnings.simplefilter("ignore")
            stat, p_val = stats.f_oneway(*samples)
    return pd.DataFrame({"slot": slot, "measure": measure, "condition": summary.index,
                         "n": summary["size"].to_numpy(), "mean": summary["mean"].to_numpy(),
                         "sd": summary["std"].to_numpy(), "test": "anova", "stat": float(stat),
                         "p_val": float(p_val)})
