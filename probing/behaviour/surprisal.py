"""Token-level scores -> sentence, word and region measures.

The input is the model adapter's tokens table, one row per scored token:
``stimulus_id, token_index, token_id, token, char_start, char_end, logprob, surprisal,
surprisal_bits`` (and, from causal models, ``logprob_eow``). ``char_start:char_end``
indexes the stimulus ``text`` and excludes the token's leading whitespace, so a token
belongs to the word or region in which its first visible character lies. A NaN score
makes every sum it enters NaN.

Word and region surprisal use the end-of-word correction by default when the tokens
carry ``logprob_eow`` (:mod:`probing.behaviour._eow`); each table says which convention
it used in its ``eow_corrected`` column, and ``eow_correction=False`` gives the plain
sum over tokens.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing._core.values import REDUCTIONS
from probing._core.words import words_table
from probing.behaviour._checks import require_columns, strict_sum
from probing.behaviour._eow import EOW_COLUMN, boundary_terms, resolve_eow, span_corrections
from probing.stimuli import REGION_COLUMNS

__all__ = ["build_region_surprisal", "build_sentence_scores", "build_word_surprisal"]

_SURPRISAL = ["surprisal", "surprisal_bits"]
_EOW_NEEDS = ("token_index", "char_start", "char_end", EOW_COLUMN)


def build_sentence_scores(tokens):
    """Sum and mean log-probability of each stimulus.

    Parameters
    ----------
    tokens : pandas.DataFrame
        Tokens table with at least ``stimulus_id, logprob``.

    Returns
    -------
    pandas.DataFrame
        ``stimulus_id, logprob_sum, logprob_mean, n_tokens``, one row per stimulus,
        sorted by ``stimulus_id``. ``logprob_mean = logprob_sum / n_tokens``.

    Examples
    --------
    >>> tokens = pd.DataFrame({"stimulus_id": ["s1", "s1", "s2"],
    ...                        "logprob": [-1.0, -2.0, -0.5]})
    >>> build_sentence_scores(tokens)
      stimulus_id  logprob_sum  logprob_mean  n_tokens
    0          s1         -3.0          -1.5         2
    1          s2         -0.5          -0.5         1
    """
    require_columns(tokens, ("stimulus_id", "logprob"), "tokens")
    sums = strict_sum(tokens, ["stimulus_id"], ["logprob"])["logprob"]
    counts = tokens.groupby("stimulus_id", sort=True).size()
    return pd.DataFrame({
        "stimulus_id": sums.index.to_numpy(),
        "logprob_sum": sums.to_numpy(dtype=float),
        "logprob_mean": (sums / counts).to_numpy(dtype=float),
        "n_tokens": counts.to_numpy(dtype=np.int64),
    })


def _split_words(stimuli_table, ids):
    texts = stimuli_table.loc[stimuli_table["stimulus_id"].isin(ids), ["stimulus_id", "text"]]
    return words_table(texts["stimulus_id"], texts["text"])


def _check_ids(tokens, stimuli_table):
    unknown = sorted(set(tokens["stimulus_id"]) - set(stimuli_table["stimulus_id"]), key=str)
    if unknown:
        raise ProbingError(f"tokens: stimulus_id(s) {unknown[:5]} are not in the stimuli table")


def _assign_words(tokens, words):
    """Each token's ``word_index``; raises if a token starts outside every word."""
    left = tokens.assign(char_start=tokens["char_start"].astype(np.int64),
                         _row=np.arange(len(tokens))).sort_values("char_start", kind="stable")
    right = words[["stimulus_id", "word_index", "char_start", "char_end"]].rename(
        columns={"char_start": "word_start", "char_end": "word_end"}).sort_values("word_start")
    merged = pd.merge_asof(left.drop(columns="char_end"), right, left_on="char_start",
                           right_on="word_start", by="stimulus_id", direction="backward")
    outside = merged["word_index"].isna() | (merged["char_start"] >= merged["word_end"])
    if outside.any():
        bad = merged.loc[outside].sort_values("_row").iloc[0]
        raise ProbingError(
            f"tokens: {int(outside.sum())} token(s) start outside every word, e.g. token "
            f"{bad['token']!r} (token_index {bad['token_index']}) of stimulus "
            f"{bad['stimulus_id']!r} at char_start {bad['char_start']}")
    return merged.sort_values("_row")["word_index"].to_numpy(dtype=np.int64)


def _correct(sums, tokens, keys, key_values):
    """Add each span's end-of-word terms to its summed surprisal (``sums`` indexed by keys)."""
    terms = boundary_terms(tokens).assign(**dict(zip(keys, key_values, strict=True)))
    corrections = span_corrections(terms.dropna(subset=keys), keys)
    out = sums.copy()
    out["surprisal"] = sums["surprisal"] + corrections.reindex(sums.index, fill_value=0.0)
    out["surprisal_bits"] = out["surprisal"] / np.log(2)
    return out


def build_word_surprisal(tokens, stimuli_table, *, eow_correction=None):
    """Surprisal of each whitespace-delimited word, with the end-of-word correction.

    Words are the maximal runs of non-whitespace characters of ``text`` (``\\S+``),
    so punctuation stays with the word it touches (``"dog."`` is one word). A token
    belongs to the word in which its ``char_start`` lies; every token must start
    inside a word. A word's surprisal is the sum over its tokens, corrected (when
    ``eow_correction``) by ``- logprob_eow`` of its last token and ``+ logprob_eow`` of
    the token before its first (none for a text's first word): ``-log P(word |
    context)`` with the word's end included (:mod:`probing.behaviour._eow`).

    Parameters
    ----------
    tokens : pandas.DataFrame
        Tokens table (module docstring); needs ``stimulus_id, token_index, token,
        char_start, surprisal, surprisal_bits``.
    stimuli_table : pandas.DataFrame
        Stimuli table with ``stimulus_id, text``.
    eow_correction : bool or None, default None
        None: correct when ``tokens`` has a finite ``logprob_eow`` (causal models).
        True needs ``token_index, char_start, char_end, logprob_eow``.

    Returns
    -------
    pandas.DataFrame
        ``stimulus_id, word_index, word, char_start, char_end, surprisal,
        surprisal_bits, n_tokens, eow_corrected``, one row per word of each stimulus in
        ``tokens``, sorted by ``stimulus_id, word_index`` (0-based). A word in which no
        token starts has NaN surprisal and ``n_tokens`` 0.

    Raises
    ------
    ProbingError
        If a column is missing, a ``stimulus_id`` is unknown, or a token starts
        outside every word (on whitespace or past the end of the text).

    Examples
    --------
    >>> stimuli = pd.DataFrame({"stimulus_id": ["s1"], "text": ["The dogs bark."]})
    >>> tokens = pd.DataFrame({
    ...     "stimulus_id": "s1", "token_index": [0, 1, 2, 3, 4],
    ...     "token": ["The", " dog", "s", " bark", "."],
    ...     "char_start": [0, 4, 7, 9, 13], "char_end": [3, 7, 8, 13, 14],
    ...     "surprisal": [1.0, 2.0, 0.5, 3.0, 0.25]}).assign(
    ...     surprisal_bits=lambda t: t["surprisal"] / np.log(2))
    >>> build_word_surprisal(tokens, stimuli)[["word", "surprisal", "n_tokens"]]
        word  surprisal  n_tokens
    0    The       1.00         1
    1   dogs       2.50         2
    2  bark.       3.25         2

    With end-of-word masses (log 0.5 after ``The``, log 0.25 after ``dog``, ...), the
    word ``dogs`` gains ``-log P(boundary | The dogs) + log P(boundary | The)``:

    >>> tokens["char_end"] = [3, 7, 8, 13, 14]
    >>> tokens["logprob_eow"] = np.log([0.5, 0.25, 0.5, 0.1, 1.0])
    >>> words = build_word_surprisal(tokens, stimuli)
    >>> words["surprisal"].round(4).tolist(), bool(words["eow_corrected"].all())
    ([1.6931, 2.5, 2.5569], True)
    """
    require_columns(tokens, ("stimulus_id", "token_index", "token", "char_start",
                             *_SURPRISAL), "tokens")
    require_columns(stimuli_table, ("stimulus_id", "text"), "stimuli")
    correct = resolve_eow(tokens, eow_correction, "build_word_surprisal")
    if correct:
        require_columns(tokens, _EOW_NEEDS, "tokens")
    _check_ids(tokens, stimuli_table)
    words = _split_words(stimuli_table, tokens["stimulus_id"].unique())
    word_index = _assign_words(tokens, words)
    assigned = tokens[["stimulus_id", *_SURPRISAL]].assign(word_index=word_index)
    sums = strict_sum(assigned, ["stimulus_id", "word_index"], _SURPRISAL)
    if correct:
        sums = _correct(sums, tokens, ["stimulus_id", "word_index"],
                        [tokens["stimulus_id"], word_index])
    sums["n_tokens"] = assigned.groupby(["stimulus_id", "word_index"], sort=True).size()
    out = words.merge(sums.reset_index(), on=["stimulus_id", "word_index"], how="left")
    out["n_tokens"] = out["n_tokens"].fillna(0).astype(np.int64)
    out["eow_corrected"] = correct
    return out.sort_values(["stimulus_id", "word_index"], ignore_index=True)


def build_region_surprisal(tokens, regions, *, reduction="sum", eow_correction=None):
    """Surprisal of each region: SyntaxGym's ``sum`` or ``mean`` over its tokens.

    A token belongs to every region ``[char_start, char_end)`` that contains its
    ``char_start``; tokens in no region (e.g. on text between slots) are left out.
    With ``eow_correction`` the summed surprisal gains the end-of-word terms on each
    side where the region meets a word boundary (:mod:`probing.behaviour._eow`), before
    a ``mean`` divides by the number of tokens.

    A region with no tokens, such as an empty region (``char_start == char_end``), gets
    ``n_tokens`` 0 and surprisal 0 under ``sum`` and NaN under ``mean``. This follows
    SyntaxGym: cpllab/syntaxgym-core, ``syntaxgym/suite.py`` (``Sentence.tokenize_regions``
    gives an empty region no tokens; ``Region.agg_surprisal`` applies the metric to that
    empty list) with ``syntaxgym/utils.py`` ``METRICS`` (``sum`` -> ``sum([]) == 0``,
    ``mean`` -> ``np.mean([])``, NaN).

    Parameters
    ----------
    tokens : pandas.DataFrame
        Tokens table; needs ``stimulus_id, char_start, surprisal, surprisal_bits``.
    regions : pandas.DataFrame
        Regions table: ``stimulus_id, region, region_number, char_start, char_end``.
    reduction : {"sum", "mean"}, default "sum"
        How token surprisals combine within a region.
    eow_correction : bool or None, default None
        As in :func:`build_word_surprisal`.

    Returns
    -------
    pandas.DataFrame
        ``stimulus_id, region, region_number, surprisal, surprisal_bits, n_tokens,
        eow_corrected``, one row per region of each stimulus in ``tokens``, sorted by
        ``stimulus_id, region_number``.

    Examples
    --------
    >>> regions = pd.DataFrame({"stimulus_id": "s1", "region": ["subj", "gap", "verb"],
    ...                         "region_number": [1, 2, 3], "char_start": [0, 9, 9],
    ...                         "char_end": [8, 9, 14]})
    >>> tokens = pd.DataFrame({"stimulus_id": "s1", "char_start": [0, 4, 7, 9, 13],
    ...                        "surprisal": [1.0, 2.0, 0.5, 3.0, 0.25]}).assign(
    ...     surprisal_bits=lambda t: t["surprisal"] / np.log(2))
    >>> build_region_surprisal(tokens, regions)[["region", "surprisal", "n_tokens"]]
      region  surprisal  n_tokens
    0   subj       3.50         3
    1    gap       0.00         0
    2   verb       3.25         2
    """
    if reduction not in REDUCTIONS:
        raise ProbingError(f"build_region_surprisal: reduction must be one of "
                           f"{list(REDUCTIONS)}, got {reduction!r}")
    require_columns(tokens, ("stimulus_id", "char_start", *_SURPRISAL), "tokens")
    require_columns(regions, REGION_COLUMNS, "regions")
    correct = resolve_eow(tokens, eow_correction, "build_region_surprisal")
    if correct:
        require_columns(tokens, _EOW_NEEDS, "tokens")
    spans = regions.loc[regions["stimulus_id"].isin(tokens["stimulus_id"]),
                        list(REGION_COLUMNS)].reset_index(drop=True)
    spans["_region"] = np.arange(len(spans))
    pairs = tokens[["stimulus_id", "char_start", *_SURPRISAL]].assign(
        _token=np.arange(len(tokens))).merge(
        spans[["stimulus_id", "_region", "char_start", "char_end"]], on="stimulus_id",
        suffixes=("", "_region"))
    inside = ((pairs["char_start_region"] <= pairs["char_start"])
              & (pairs["char_start"] < pairs["char_end"]))
    pairs = pairs.loc[inside]
    sums = strict_sum(pairs, ["_region"], _SURPRISAL)
    if correct:
        sums = _correct_regions(sums, tokens, pairs)
    sums = sums.reindex(spans["_region"], fill_value=0.0)
    counts = pairs.groupby("_region").size().reindex(spans["_region"], fill_value=0)
    if reduction == "mean":
        sums = sums.div(counts.replace(0, np.nan), axis=0)
    out = spans[["stimulus_id", "region", "region_number"]].assign(
        surprisal=sums["surprisal"].to_numpy(dtype=float),
        surprisal_bits=sums["surprisal_bits"].to_numpy(dtype=float),
        n_tokens=counts.to_numpy(dtype=np.int64), eow_corrected=correct)
    return out.sort_values(["stimulus_id", "region_number"], ignore_index=True)


def _correct_regions(sums, tokens, pairs):
    """End-of-word terms per region; a token may sit in several (overlapping) regions."""
    terms = boundary_terms(tokens).reset_index(drop=True)
    terms = terms.iloc[pairs["_token"].to_numpy()].assign(_region=pairs["_region"].to_numpy())
    corrections = span_corrections(terms, ["_region"])
    out = sums.copy()
    out["surprisal"] = sums["surprisal"] + corrections.reindex(sums.index, fill_value=0.0)
    out["surprisal_bits"] = out["surprisal"] / np.log(2)
    return out
