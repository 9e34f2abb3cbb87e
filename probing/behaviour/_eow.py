"""The end-of-word correction of word and region surprisal (Pimentel & Meister, 2024).

Under tokenizers that spell a word's leading space on its first token, the tokens of
a word do not say that the word has ended: ``Ġyawn`` is a prefix of ``Ġyawn s``. The
probability of a word ``w`` after a context ``c`` is

    P(w | c) = P(tokens of w | c) * P(boundary | c, w) / P(boundary | c)

where ``P(boundary | x)`` is the probability that the next token starts a new word or
ends the text (the tokens table's ``logprob_eow``, read after each token). In
surprisal: ``-sum log p(tokens) - logprob_eow(last token) + logprob_eow(token before)``.
The start of a text is a boundary by definition, so the first word has no ``before``
term. For regions the terms apply only on a side where the region meets a word
boundary (whitespace or the end of the text, read from the tokens' character spans:
the next token starts past this token's end); a region that ends inside a word (``bark``
before ``.``) is left uncorrected on that side, and the corrected regions of a text
still sum to the text's surprisal plus its final end-of-word term.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError

EOW_COLUMN = "logprob_eow"


def resolve_eow(tokens, eow_correction, what):
    """Whether to correct: ``None`` -> when ``tokens`` carries finite ``logprob_eow``."""
    has = EOW_COLUMN in tokens.columns and bool(np.isfinite(tokens[EOW_COLUMN]).any())
    if eow_correction is None:
        return has
    if eow_correction not in (True, False):
        raise ProbingError(f"{what}: eow_correction must be True, False or None; "
                           f"got {eow_correction!r}")
    if eow_correction and EOW_COLUMN not in tokens.columns:
        raise ProbingError(f"{what}: eow_correction=True needs the tokens column "
                           f"{EOW_COLUMN!r} (causal models write it)")
    return bool(eow_correction)


def boundary_terms(tokens):
    """Per token: the surprisal term it adds when it opens / closes a word-bounded span.

    Returns
    -------
    pandas.DataFrame
        Index aligned with ``tokens``: ``token_index``, ``open_term`` (``+logprob_eow`` of
        the previous token when this token starts a word and is not the first; else 0)
        and ``close_term`` (``-logprob_eow`` of this token when the next token starts a
        word or there is none; else 0).
    """
    order = tokens.sort_values(["stimulus_id", "token_index"], kind="stable")
    by_stim = order.groupby("stimulus_id", sort=False)
    prev_end = by_stim["char_end"].shift(1)
    next_start = by_stim["char_start"].shift(-1)
    prev_eow = by_stim[EOW_COLUMN].shift(1)
    opens = prev_end.notna() & (order["char_start"] > prev_end)
    closes = next_start.isna() | (next_start > order["char_end"])
    terms = pd.DataFrame({
        "token_index": order["token_index"],
        "open_term": np.where(opens, prev_eow, 0.0),
        "close_term": np.where(closes, -order[EOW_COLUMN], 0.0),
    }, index=order.index)
    return terms.loc[tokens.index]


def span_corrections(terms, keys):
    """Correction per span: the open term of its first token plus the close term of its last.

    Parameters
    ----------
    terms : pandas.DataFrame
        :func:`boundary_terms` with the span key columns ``keys`` added.
    keys : list of str

    Returns
    -------
    pandas.Series
        Indexed by ``keys`` (sorted), in nats; NaN where a needed term is NaN.
    """
    ordered = terms.sort_values([*keys, "token_index"], kind="stable")
    # drop_duplicates, not groupby().first(): first() would skip a NaN term
    first = ordered.drop_duplicates(keys, keep="first").set_index(keys)["open_term"]
    last = ordered.drop_duplicates(keys, keep="last").set_index(keys)["close_term"]
    return (first + last).sort_index()
