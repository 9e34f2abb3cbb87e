"""Sentence acceptability measures from LM probabilities (Lau et al., 2017, 2020).

For a sentence ``s`` with model log-probability ``LP = log P(s)``, length ``|s|`` and
unigram log-probability ``log P_u(s)`` (the sum of its words' unigram log-probabilities):

========  ==========================================
LP        ``log P(s)``
MeanLP    ``log P(s) / |s|``
PenLP     ``log P(s) / ((5 + |s|) / (5 + 1)) ** 0.8``
NormLP    ``-log P(s) / log P_u(s)``
SLOR      ``(log P(s) - log P_u(s)) / |s|``
========  ==========================================

(Lau, Armendariz, Lappin, Purver & Shu, 2020, Table 1.) Every measure grows with
acceptability. Unigram log-probabilities come from ``wordfreq`` (Speer, 2022; its
``best`` English word list, a blend of subtitles, Wikipedia, books, news, web text,
Twitter and Reddit); words it has never seen get the floor frequency ``minimum``.
"""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError

__all__ = ["MEASURES", "build_acceptability", "compute_unigram_logprob", "unigram_source"]

MEASURES = ("LP", "MeanLP", "PenLP", "NormLP", "SLOR")
PEN_ALPHA = 0.8


def unigram_source(*, lang="en", wordlist="best", minimum=1e-9):
    """Where the unigram probabilities come from, for provenance.

    Returns
    -------
    dict
        ``package, version, lang, wordlist, minimum``.
    """
    return {"package": "wordfreq", "version": importlib.metadata.version("wordfreq"),
            "lang": lang, "wordlist": wordlist, "minimum": minimum}


def compute_unigram_logprob(texts, *, lang="en", wordlist="best", minimum=1e-9):
    """Unigram log-probability of each text and its number of words (wordfreq).

    Parameters
    ----------
    texts : sequence of str
        ``n_texts`` texts.
    lang, wordlist : str
        Passed to :func:`wordfreq.word_frequency`.
    minimum : float, default 1e-9
        Frequency given to words wordfreq does not know (it returns 0 for them).

    Returns
    -------
    pandas.DataFrame
        ``unigram_logprob`` (natural log) and ``n_words`` (wordfreq's own tokens: lower
        case, punctuation removed), one row per text.

    Examples
    --------
    >>> table = compute_unigram_logprob(["The cat sat.", "Zzqxv"])
    >>> table["n_words"].tolist(), bool(table["unigram_logprob"].iloc[1] == np.log(1e-9))
    ([3, 1], True)
    """
    import wordfreq

    rows = []
    for text in texts:
        words = wordfreq.tokenize(text, lang)
        freqs = [wordfreq.word_frequency(w, lang, wordlist=wordlist, minimum=minimum)
                 for w in words]
        rows.append((float(np.sum(np.log(freqs))), len(words)))
    return pd.DataFrame(rows, columns=["unigram_logprob", "n_words"])


def build_acceptability(scores, *, length="n_words"):
    """The five acceptability measures of each sentence.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per sentence: ``stimulus_id, logprob_sum, unigram_logprob`` and the
        ``length`` column.
    length : str, default "n_words"
        Column holding ``|s|``: ``n_words`` (wordfreq words, the same for every model,
        the unit of the unigram term) or ``n_tokens`` (the model's tokens, as Lau et al.).

    Returns
    -------
    pandas.DataFrame
        ``stimulus_id, measure, value``: one row per sentence and measure
        (:data:`MEASURES` order).

    Examples
    --------
    >>> scores = pd.DataFrame({"stimulus_id": ["s"], "logprob_sum": [-20.0],
    ...                        "unigram_logprob": [-25.0], "n_words": [4]})
    >>> build_acceptability(scores)["value"].round(4).tolist()
    [-20.0, -5.0, -14.4596, -0.8, 1.25]
    """
    needed = ["stimulus_id", "logprob_sum", "unigram_logprob", length]
    missing = [c for c in needed if c not in scores.columns]
    if missing:
        raise ProbingError(f"build_acceptability: scores lack column(s) {missing}; "
                           f"required: {needed}")
    lp = scores["logprob_sum"].to_numpy(float)
    uni = scores["unigram_logprob"].to_numpy(float)
    n = scores[length].to_numpy(float)
    if (n <= 0).any():
        bad = scores["stimulus_id"].iloc[int(np.argmax(n <= 0))]
        raise ProbingError(f"build_acceptability: sentence {bad!r} has {length} 0; "
                           "every sentence needs at least one word")
    values = {"LP": lp, "MeanLP": lp / n, "PenLP": lp / ((5 + n) / 6) ** PEN_ALPHA,
              "NormLP": -lp / uni, "SLOR": (lp - uni) / n}
    ids = scores["stimulus_id"].to_numpy()
    return pd.concat([pd.DataFrame({"stimulus_id": ids, "measure": m, "value": values[m]})
                      for m in MEASURES], ignore_index=True)
