"""The baselines and exclusion rules of a reading-time regression, as the literature runs them.

Baselines (``baseline=``), each on the word and its ``spillover`` previous words:

``linear``
    length and frequency (and ``word_position``): Smith & Levy (2013), Wilcox et al. (2020).
``interaction``
    adds length x frequency (frequency effects shrink for long words; Kliegl et al. 2006).
``spline``
    natural cubic regression splines of length and frequency (patsy ``cr(x, df=4,
    constraints="center")``, knots at quantiles of the whole data set: GAM-style
    baselines with fixed degrees of freedom, as Goodkind & Bicknell 2018 and Wilcox et
    al. 2020 fit with mgcv). The knots read the predictors only, never the reading times.

Exclusions (``exclude=``), applied after the spillover columns are built, so an excluded
word still enters its followers' spillover terms (the reader did read it):

``text_edge``
    the first and last word of each text.
``sentence_edge``
    the first and last word of each sentence; a sentence ends at a word whose last
    letter-or-digit is followed by ``.``, ``!`` or ``?`` (closing quotes and brackets
    may follow).
``punctuation``
    words holding any character other than a letter, digit, apostrophe or hyphen
    (punctuation changes reading times at clause and sentence ends; Rayner 1998).

and reading times outside ``[rt_min, rt_max]`` (data units; either may be None).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.paradigms.alignment_options import BASELINES, EXCLUSIONS

__all__ = ["BASELINES", "EXCLUSIONS", "add_baseline_terms", "apply_exclusions"]

SPLINE_DF = 4
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
_PUNCTUATION = re.compile(r"[^\w'’-]")


def add_baseline_terms(design, names, *, baseline):
    """``design`` with the columns of ``baseline`` for the predictors ``names``; their names.

    Parameters
    ----------
    design : pandas.DataFrame
    names : list of str
        Pairs of length and frequency columns, the word's then each lag's:
        ``["length", "frequency", "length_lag1", "frequency_lag1", ...]``.
    baseline : {"linear", "interaction", "spline"}

    Returns
    -------
    design : pandas.DataFrame
    columns : list of str
        The baseline's predictor columns.

    Examples
    --------
    >>> design = pd.DataFrame({"length": [2, 3], "frequency": [-5.0, -7.0]})
    >>> add_baseline_terms(design, ["length", "frequency"], baseline="interaction")[1]
    ['length', 'frequency', 'length_x_frequency']
    """
    if baseline not in BASELINES:
        raise ProbingError(f"baseline {baseline!r}: allowed {', '.join(BASELINES)}")
    if baseline == "linear":
        return design, list(names)
    if baseline == "interaction":
        extra = {}
        for length, frequency in zip(names[::2], names[1::2], strict=True):
            extra[f"{length}_x_{frequency}"] = design[length] * design[frequency]
        return design.assign(**extra), [*names, *extra]
    return _splines(design, names)


def _splines(design, names):
    import patsy

    columns = {}
    for name in names:
        values = design[[name]].astype(float)
        if values[name].nunique() <= SPLINE_DF:
            columns[name] = values[name].to_numpy()  # too few values for a spline: linear
            continue
        basis = np.asarray(patsy.dmatrix(f"cr({name}, df={SPLINE_DF}, constraints='center') - 1",
                                         values, return_type="matrix"))
        for k in range(basis.shape[1]):
            columns[f"{name}_cr{k}"] = basis[:, k]
    extra = pd.DataFrame(columns, index=design.index)
    new = [c for c in extra if c not in design]
    return pd.concat([design, extra[new]], axis=1), list(extra.columns)


def _edges(design, keys):
    first = design.groupby(keys, sort=False)["word_position"].transform("min")
    last = design.groupby(keys, sort=False)["word_position"].transform("max")
    return (design["word_position"] == first) | (design["word_position"] == last)


def _sentence_ids(words):
    """A running sentence number per text, from sentence-final punctuation."""
    per_word = words.drop_duplicates(["item_id", "word_position"]).sort_values(
        ["item_id", "word_position"])
    ends = per_word["word"].astype(str).str.contains(_SENTENCE_END)
    # a sentence starts after an end: shift the end marks down by one word within each text
    starts = ends.groupby(per_word["item_id"]).shift(1, fill_value=False)
    number = starts.astype(int).groupby(per_word["item_id"]).cumsum()
    return per_word[["item_id", "word_position"]].assign(_sentence=number.to_numpy())


def apply_exclusions(design, words, *, exclude=(), rt_min=None, rt_max=None):
    """Drop the excluded words; count each rule's words.

    Parameters
    ----------
    design : pandas.DataFrame
        From :func:`~probing.alignment.build_reading_design` (``item_id,
        word_position, rt``).
    words : pandas.DataFrame
        All words, before spillover dropped any: ``item_id, word_position`` and, for
        ``sentence_edge`` and ``punctuation``, ``word``.
    exclude : sequence of str
        Rules from :data:`EXCLUSIONS`.
    rt_min, rt_max : float, optional
        Reading times below / above are excluded.

    Returns
    -------
    kept : pandas.DataFrame
    counts : pandas.DataFrame
        ``rule, subject, n_excluded, n``: rows of ``design`` each rule excludes (a row may
        meet several), then ``any`` (all excluded rows); ``n`` is the rows before
        exclusion. ``subject`` is empty on these totals; with a ``subject`` column in
        ``design`` the same rows follow for each subject.

    Examples
    --------
    >>> words = pd.DataFrame({"item_id": 1, "word_position": [1, 2, 3, 4],
    ...                       "word": ["A", "dog,", "ran.", "Yes"], "rt": [200.0, 900, 300, 310]})
    >>> kept, counts = apply_exclusions(words, words, exclude=["punctuation"], rt_max=800)
    >>> kept["word"].tolist(), counts["n_excluded"].tolist()
    (['A', 'Yes'], [2, 1, 2])
    """
    unknown = [rule for rule in exclude if rule not in EXCLUSIONS]
    if unknown:
        raise ProbingError(f"exclude {unknown}: allowed {', '.join(EXCLUSIONS)}")
    masks = {}
    if "text_edge" in exclude:
        positions = words[["item_id", "word_position"]].drop_duplicates()
        edge = positions.loc[_edges(positions, ["item_id"])]
        masks["text_edge"] = _member(design, edge)
    if "sentence_edge" in exclude or "punctuation" in exclude:
        if "word" not in words.columns:
            raise ProbingError("exclude: sentence_edge and punctuation need the words' text "
                               "(a 'word' column)")
    if "sentence_edge" in exclude:
        sentences = _sentence_ids(words)
        edge = sentences.loc[_edges(sentences, ["item_id", "_sentence"])]
        masks["sentence_edge"] = _member(design, edge)
    if "punctuation" in exclude:
        marked = words.loc[words["word"].astype(str).str.contains(_PUNCTUATION)]
        masks["punctuation"] = _member(design, marked)
    rt = design["rt"].to_numpy(float)
    if rt_min is not None:
        masks["rt_min"] = rt < rt_min
    if rt_max is not None:
        masks["rt_max"] = rt > rt_max
    drop = np.zeros(len(design), dtype=bool)
    for mask in masks.values():
        drop |= mask
    counts = [_counts(masks, drop, np.ones(len(design), dtype=bool), "")]
    if "subject" in design:  # per-subject rows: one reader's data may lose far more
        subjects = design["subject"].to_numpy()
        counts += [_counts(masks, drop, subjects == subject, str(subject))
                   for subject in pd.unique(subjects)]
    return design.loc[~drop].reset_index(drop=True), pd.concat(counts, ignore_index=True)


def _counts(masks, drop, rows, subject):
    return pd.DataFrame({"rule": [*masks, "any"], "subject": subject,
                         "n_excluded": [int(m[rows].sum()) for m in masks.values()]
                         + [int(drop[rows].sum())], "n": int(rows.sum())})


def _member(design, rows):
    keys = pd.MultiIndex.from_frame(rows[["item_id", "word_position"]])
    return pd.MultiIndex.from_frame(design[["item_id", "word_position"]]).isin(keys)
