"""Tokenize texts once and map every token to an exact character span of its text.

Spans follow one convention, shared with :mod:`probing.behaviour`:
``text[char_start:char_end]`` is the token's visible text *without* its leading
whitespace (byte-level BPE ``Ġ``, SentencePiece ``▁``), clamped to the text. A token
with no visible text (a lone ``Ġ`` or ``▁``, a newline) gets an empty span placed just
before the next visible character. A byte-fallback token that holds only part of a
character's UTF-8 bytes gets the span of that whole character.

Fast tokenizers report offsets directly. Slow (Python) tokenizers have none; for them
:func:`encode_texts` matches each token's decoded text against the text from left to
right, and raises :class:`~probing._core.errors.ProbingError` when a token cannot be
placed (for example when the tokenizer strips accents), rather than guessing.
"""

from __future__ import annotations

import copy
import dataclasses

from probing._core.errors import ProbingError

__all__ = ["Encoded", "encode_texts", "normalise_span"]

# Characters that byte-level BPE and SentencePiece use to spell whitespace.
_BLANK = "\u0120\u010a\u0109\u2581 \t\n\r"
_REPLACEMENT = "\ufffd"


@dataclasses.dataclass(frozen=True)
class Encoded:
    """One text's tokens (no special tokens).

    Parameters
    ----------
    token_ids : list of int
        Vocabulary ids, length ``n_tokens``.
    spans : list of (int, int)
        ``(char_start, char_end)`` per token (convention in the module docstring).
    word_ids : list of int
        Index of the word each token belongs to (the tokenizer's pre-tokenizer words
        when it reports them, else whitespace-delimited words).
    """

    token_ids: list
    spans: list
    word_ids: list


def _is_blank(token):
    return token.strip(_BLANK) == ""


def normalise_span(text, token, start, end):
    """Clamp a raw offset to ``text`` and drop the token's leading whitespace.

    Parameters
    ----------
    text : str
        The tokenized text.
    token : str
        The token's vocabulary string (used to spot tokens with no visible text).
    start, end : int
        Raw offsets from the tokenizer.

    Returns
    -------
    tuple of int
        ``(char_start, char_end)`` with ``0 <= char_start <= char_end <= len(text)``.

    Examples
    --------
    >>> normalise_span("Hello world", "\u0120world", 5, 11)
    (6, 11)
    >>> normalise_span("Cat", "\u2581", 0, 1)
    (0, 0)
    """
    end = min(max(end, 0), len(text))
    start = min(max(start, 0), end)
    if _is_blank(token):
        while start < len(text) and text[start].isspace():
            start += 1
        return start, start
    while start < end and text[start].isspace():
        start += 1
    return start, end


def _whitespace_word_ids(text, spans):
    """Word index per token: a word boundary is whitespace between two tokens."""
    word_ids, word, last_end = [], -1, None
    for start, end in spans:
        if last_end is None or any(ch.isspace() for ch in text[last_end:start]) or start == end:
            word += 1
        word_ids.append(word)
        last_end = max(end, start)
    return word_ids


def _stateless(tokenizer):
    """The tokenizer, or a copy of it when calling it would change its state.

    Calling a fast tokenizer resets any padding or truncation its backend carries
    (``set_truncation_and_padding``); a tokenizer we were given must stay as it was.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and (backend.padding is not None or backend.truncation is not None):
        return copy.deepcopy(tokenizer)
    return tokenizer


def _encode_fast(tokenizer, texts):
    batch = _stateless(tokenizer)(
        list(texts),
        add_special_tokens=False,
        return_offsets_mapping=True,
        return_attention_mask=False,
    )
    encoded = []
    for i, text in enumerate(texts):
        ids = list(batch["input_ids"][i])
        tokens = tokenizer.convert_ids_to_tokens(ids)
        spans = [
            normalise_span(text, tok, s, e)
            for tok, (s, e) in zip(tokens, batch["offset_mapping"][i], strict=True)
        ]
        words = batch.word_ids(i)
        if any(w is None for w in words):
            words = _whitespace_word_ids(text, spans)
        encoded.append(Encoded(ids, spans, list(words)))
    return encoded


def _piece(tokenizer, tokens):
    """Visible text of consecutive tokens, without surrounding whitespace."""
    text = tokenizer.convert_tokens_to_string(tokens)
    return text.replace("##", "", 1).strip() if text.startswith("##") else text.strip()


def _place(text, cursor, piece):
    """Start index of ``piece`` at ``cursor`` (after whitespace), or None."""
    while cursor < len(text) and text[cursor].isspace():
        cursor += 1
    if text[cursor : cursor + len(piece)].casefold() == piece.casefold():
        return cursor
    return None


def _group_spans(tokenizer, tokens, start, piece):
    """Spans of tokens that together spell ``piece`` (found at ``start``).

    All but the last end inside a multi-byte character; each gets its visible text up
    to and including the character it holds part of, the last the rest of ``piece``.
    """
    spans, begin = [], start
    for k in range(1, len(tokens)):
        visible = _piece(tokenizer, tokens[:k]).rstrip(_REPLACEMENT)
        end = min(start + len(visible) + 1, start + len(piece))
        spans.append((begin, end))
        begin = end - 1
    spans.append((begin, start + len(piece)) if piece else (start, start))
    return spans


def _align_slow(tokenizer, text, ids):
    """Spans for a tokenizer without offsets, by left-to-right matching."""
    tokens = tokenizer.convert_ids_to_tokens(ids)
    spans, group, cursor = [], [], 0
    for token in tokens:
        group.append(token)
        piece = _piece(tokenizer, group)
        if _REPLACEMENT in piece and _REPLACEMENT not in text:
            continue  # a partial UTF-8 character: wait for its other bytes
        start = _place(text, cursor, piece)
        if start is None:
            raise ProbingError(
                f"cannot align token {token!r} of {type(tokenizer).__name__} to the text "
                f"{text!r} at character {cursor}; use a fast tokenizer (with offsets)"
            )
        spans.extend(_group_spans(tokenizer, group, start, piece))
        group, cursor = [], start + len(piece)
    if group:
        raise ProbingError(f"cannot align the trailing bytes of {text!r}; use a fast tokenizer")
    return spans


def _encode_slow(tokenizer, texts):
    encoded = []
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        spans = _align_slow(tokenizer, text, ids)
        encoded.append(Encoded(list(ids), spans, _whitespace_word_ids(text, spans)))
    return encoded


def encode_texts(tokenizer, texts):
    """Tokenize texts without special tokens and align each token to its characters.

    Parameters
    ----------
    tokenizer : transformers tokenizer
        Fast tokenizers use their offsets; slow ones are aligned by matching (module
        docstring). Never modified.
    texts : sequence of str
        ``n_texts`` texts.

    Returns
    -------
    list of Encoded
        One per text, in order.

    Raises
    ------
    ProbingError
        If a slow tokenizer's tokens cannot be placed in the text.
    """
    if getattr(tokenizer, "is_fast", False):
        return _encode_fast(tokenizer, texts)
    return _encode_slow(tokenizer, texts)
