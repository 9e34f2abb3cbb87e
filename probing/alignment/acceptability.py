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
Twitter and Reddit); words it has never seen get the floor frequency ``minimum``. Or
they come from a corpus the user gives (:func:`count_unigrams`, as Lau et al. took theirs
from the model's training data): wordfreq's tokenizer splits it into the same words, and
a word's probability is add-one smoothed, ``(count + 1) / (n_tokens + n_types + 1)``
(the extra type is every unseen word), so an unseen word is rare but not impossible.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.metadata
from pathlib import Path

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError

__all__ = ["MEASURES", "build_acceptability", "compute_unigram_logprob", "count_unigrams",
           "unigram_source"]

MEASURES = ("LP", "MeanLP", "PenLP", "NormLP", "SLOR")
PEN_ALPHA = 0.8


def unigram_source(*, lang="en", wordlist="best", minimum=1e-9, counts=None):
    """Where the unigram probabilities come from, for provenance.

    Returns
    -------
    dict
        ``package, version, lang, wordlist, minimum``; with ``counts`` (from
        :func:`count_unigrams`) the corpus's ``corpus, sha256, n_tokens, n_types`` and
        ``smoothing``.
    """
    source = {"package": "wordfreq", "version": importlib.metadata.version("wordfreq"),
              "lang": lang}
    if counts is None:
        return {**source, "wordlist": wordlist, "minimum": minimum}
    return {**source, "tokenizer": "wordfreq.tokenize", **counts.attrs, "smoothing": "add-one"}


class UnigramCounts(collections.Counter):
    """Word counts of a corpus, with ``attrs`` (file, hash, sizes) for provenance."""

    attrs: dict


def count_unigrams(path, *, lang="en"):
    """Word counts of a UTF-8 text corpus, words as :func:`wordfreq.tokenize` splits them.

    Parameters
    ----------
    path : path-like
        A plain text file.
    lang : str, default "en"

    Returns
    -------
    UnigramCounts
        A :class:`collections.Counter` with ``attrs``: ``corpus, sha256, n_tokens, n_types``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
    >>> _ = path.write_text("The cat sat. The dog ran.")
    >>> counts = count_unigrams(path)
    >>> counts["the"], counts.attrs["n_tokens"], counts.attrs["n_types"]
    (2, 6, 5)
    """
    import wordfreq

    path = Path(path)
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ProbingError(f"{path}: unigram corpus cannot be read as UTF-8 text ({err})") from None
    counts = UnigramCounts()
    for line in text.splitlines():
        counts.update(wordfreq.tokenize(line, lang))
    if not counts:
        raise ProbingError(f"{path}: unigram corpus has no words")
    counts.attrs = {"corpus": str(path), "sha256": hashlib.sha256(data).hexdigest(),
                    "n_tokens": int(sum(counts.values())), "n_types": len(counts)}
    return counts


def _corpus_logprob(words, counts):
    denominator = counts.attrs["n_tokens"] + counts.attrs["n_types"] + 1
    return float(sum(np.log((counts.get(w, 0) + 1) / denominator) for w in words))


def compute_unigram_logprob(texts, *, lang="en", wordlist="best", minimum=1e-9, counts=None):
    """Unigram log-probability of each text and its number of words (wordfreq or a corpus).

    Parameters
    ----------
    texts : sequence of str
        ``n_texts`` texts.
    lang, wordlist : str
        Passed to :func:`wordfreq.word_frequency`.
    minimum : float, default 1e-9
        Frequency given to words wordfreq does not know (it returns 0 for them).
    counts : UnigramCounts, optional
        Corpus counts (:func:`count_unigrams`) used instead of wordfreq's frequencies,
        add-one smoothed.

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
        if counts is not None:
            rows.append((_corpus_logprob(words, counts), len(words)))
            continue
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
    >>> build_acceptability(scores)["estimate"].round(4).tolist()
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
    return pd.concat([pd.DataFrame({"stimulus_id": ids, "measure": m, "estimate": values[m]})
                      for m in MEASURES], ignore_index=True)
