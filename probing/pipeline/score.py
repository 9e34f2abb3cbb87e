"""The common case in one call: score sentences or minimal pairs from Python.

``probing run`` scores a paradigm file; these functions score a plain list with the same
start-token rule, the same word rule (whitespace words, punctuation with its word) and
the same pair rule (summed log-probabilities, ties reported by ``build_pairs``), and
return a tidy table with a ``model`` column, as every run table has.
"""

from __future__ import annotations

import pandas as pd

from probing._core.errors import ProbingError
from probing._core.vocabulary import table_columns
from probing.behaviour import build_pairs, build_sentence_scores, build_word_surprisal
from probing.pipeline._loading import resolve_model

__all__ = ["LEVELS", "score_pairs", "score_sentences"]

LEVELS = ("sentence", "word", "token")


def _model(model, load_options):
    if isinstance(model, str) or hasattr(model, "__fspath__"):
        from probing.models import load_model

        return load_model(model, **load_options)
    if load_options:
        raise ProbingError(f"score: {sorted(load_options)} only apply when model is a name or path")
    return resolve_model(model)


def _sentence_table(texts):
    if isinstance(texts, str):
        raise ProbingError("score_sentences: texts must be a list of sentences, not one string")
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
    if not texts or bad:
        raise ProbingError(f"score_sentences: texts must be non-empty strings; bad at {bad[:5]}"
                           if texts else "score_sentences: no texts given")
    return pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(len(texts))], "text": texts})


def score_sentences(texts, *, model="smollm2-135m", level="sentence", batch_size=32,
                    **load_options):
    """Log-probabilities of plain sentences, as a tidy table.

    Parameters
    ----------
    texts : list of str
        The sentences; ``stimulus_id`` is ``s0, s1, ...`` in this order.
    model : str, path-like or probing.models.LanguageModel, default "smollm2-135m"
        A name or path is loaded with :func:`probing.models.load_model` and
        ``load_options`` (``device``, ``dtype``, ``start_token`` ...).
    level : {"sentence", "word", "token"}, default "sentence"
    batch_size : int, default 32

    Returns
    -------
    pandas.DataFrame
        ``sentence``: ``stimulus_id, text, logprob_sum, logprob_mean, n_tokens, model``;
        ``word``: the words table of ``probing run`` (``stimulus_id, word_index, word,
        char_start, char_end, surprisal, surprisal_bits, n_tokens``) plus ``model``;
        ``token``: its tokens table plus ``model``.

    Examples
    --------
    >>> from probing import score_sentences                       # doctest: +SKIP
    >>> score_sentences(["The keys are here.", "The keys is here."])  # doctest: +SKIP
    """
    if level not in LEVELS:
        raise ProbingError(f"score_sentences: level must be one of {', '.join(LEVELS)}; "
                           f"got {level!r}")
    table = _sentence_table(texts)
    lm = _model(model, load_options)
    from probing.models import score_tokens

    tokens = score_tokens(lm, table, batch_size=batch_size)
    if level == "token":
        out = tokens
    elif level == "word":
        out = build_word_surprisal(tokens, table)
    else:
        out = table.merge(build_sentence_scores(tokens), on="stimulus_id", how="left")
    return out.assign(model=lm.name).reset_index(drop=True)


def _pair_table(pairs):
    if isinstance(pairs, pd.DataFrame):
        frame = pairs
    else:
        pairs = list(pairs)
        if not pairs or any(len(pair) != 2 for pair in pairs):
            raise ProbingError("score_pairs: pairs must be (good, bad) tuples or a table with "
                               "columns good and bad")
        frame = pd.DataFrame(pairs, columns=["good", "bad"])
    if not {"good", "bad"} <= set(frame) or frame.empty:
        raise ProbingError("score_pairs: pairs must be (good, bad) tuples or a table with "
                           "columns good and bad")
    frame = frame.reset_index(drop=True)
    phenomenon = frame["phenomenon"] if "phenomenon" in frame else "pairs"
    rows = []
    for role in ("good", "bad"):
        rows.append(pd.DataFrame({"stimulus_id": [f"p{i}_{role}" for i in range(len(frame))],
                                  "text": frame[role].to_numpy(), "pair_id": range(len(frame)),
                                  "phenomenon": phenomenon, "role": role}))
    return pd.concat(rows, ignore_index=True)


def score_pairs(pairs, *, model="smollm2-135m", reduction="sum", ties="incorrect",
                batch_size=32, **load_options):
    """Which member of each minimal pair a model prefers, as a tidy table.

    Parameters
    ----------
    pairs : list of (str, str) or pandas.DataFrame
        ``(good, bad)`` tuples, or a table with ``good, bad`` (and optional
        ``phenomenon``, ``item_id``, ``condition``) columns; ``pair_id`` is the row
        number.
    model : str, path-like or probing.models.LanguageModel, default "smollm2-135m"
    reduction, ties
        As in :func:`probing.behaviour.build_pairs`.

    Returns
    -------
    pandas.DataFrame
        The ``pairs.csv`` table of ``probing run`` (``phenomenon, pair_id, good, bad,
        logprob_good, logprob_bad, correct, tie, identical``; ``item_id`` and
        ``condition`` after ``pair_id`` when the table has them) plus ``model``.

    Examples
    --------
    >>> from probing import score_pairs                                    # doctest: +SKIP
    >>> score_pairs([("The keys are here.", "The keys is here.")])["correct"]  # doctest: +SKIP
    """
    table = _pair_table(pairs)
    bad = table.loc[~table["text"].map(lambda t: isinstance(t, str) and bool(t.strip())), "text"]
    if len(bad):
        raise ProbingError(f"score_pairs: every member must be a non-empty string; got {bad.iloc[0]!r}")
    lm = _model(model, load_options)
    from probing.models import score_tokens

    tokens = score_tokens(lm, table[["stimulus_id", "text"]], batch_size=batch_size)
    out = build_pairs(build_sentence_scores(tokens), table, reduction=reduction, ties=ties)
    given = [c for c in ("item_id", "condition") if isinstance(pairs, pd.DataFrame) and c in pairs]
    if given:  # the caller's design columns travel with each pair, as in probing run
        design = pairs.reset_index(drop=True)[given].assign(pair_id=range(len(pairs)))
        out = out.merge(design, on="pair_id", how="left", validate="one_to_one")
        out = out[[c for c in table_columns("pairs") if c in out]]
    return out.assign(model=lm.name).reset_index(drop=True)
