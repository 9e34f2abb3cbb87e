"""Which next tokens end the current word: the end-of-word (leading-space) set.

Tokenizers that spell a word's leading space on the word's *first* token (byte-level
BPE ``Ġ``, SentencePiece ``▁``) hide the end of a word in the *next* token: after
``Ġyawn`` the model's probability that the word is ``yawn`` (and not ``yawns``) is the
mass of the next tokens that start a new word. Pimentel & Meister (2024) and Oh &
Schuler (2024) show that word probabilities need this mass; the scorer reads it from
the same forward pass as the token log-probabilities.

The set is every vocabulary token whose string begins with whitespace or a whitespace
marker (``Ġ``, ``Ċ``, ``ĉ``, ``▁``, byte-fallback ``<0x20>``, ...) or that *decodes* to a
string beginning with whitespace as the package's word rule reads it (``\\s`` of
:data:`probing._core.words.WORD`: the no-break space U+00A0, spelled ``Âł`` by byte-level
BPE, the separators U+001C-U+001F, U+2000-U+200A, ...), plus the tokens that end a text
(the document separator and a non-chat ``eos_token``). Special tokens other than those
are never in it. Both tests are needed: a SentencePiece decoder drops the leading space of
a lone ``▁cat``, and a byte-level token such as ``Âł`` shows no marker.
"""

from __future__ import annotations

import re

import numpy as np

from probing.models.start_token import is_chat_marker

__all__ = ["boundary_token_ids", "end_token_ids"]

# Byte-level BPE spells whitespace bytes as these characters (space, \n, \t, \x0b, \x0c, \r);
# SentencePiece uses U+2581; plain vocabularies may keep the whitespace itself.
_MARKERS = "\u0120\u010a\u0109\u010b\u010c\u010d\u2581 \t\n\r\x0b\x0c"
_BYTE_FALLBACK = {f"<0x{b:02X}>" for b in (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20)}
_STARTS_WHITESPACE = re.compile(r"\s")  # the complement of the word rule's \S


def end_token_ids(lm):
    """Ids of the tokens that end a text for a causal LM.

    The ``eos_token`` unless it is a chat marker (``<|im_end|>`` ends a turn, not a
    document), and the start token when it is the document separator (GPT-2's
    ``<|endoftext|>`` both opens and closes documents).

    Parameters
    ----------
    lm : LanguageModel

    Returns
    -------
    list of int
    """
    tokenizer = lm.tokenizer
    ids = []
    eos = tokenizer.eos_token
    if eos and not is_chat_marker(tokenizer, eos) and tokenizer.eos_token_id is not None:
        ids.append(int(tokenizer.eos_token_id))
    if lm.start.policy == "endoftext":
        ids.append(int(lm.start.token_id))
    return sorted(set(ids))


def boundary_token_ids(tokenizer, *, end_ids=()):
    """Sorted ids of the tokens that start a new word, plus ``end_ids``.

    Parameters
    ----------
    tokenizer : transformers tokenizer
    end_ids : sequence of int
        Tokens that end a text (:func:`end_token_ids`).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_boundary,)``, int64, sorted, unique.

    Examples
    --------
    >>> class Tok:
    ...     all_special_ids = [0]
    ...     pieces = ["<|endoftext|>", "\u0120dog", "s", "\u2581cat", "\u00c2\u0142"]
    ...     def __len__(self): return 5
    ...     def convert_ids_to_tokens(self, ids): return [self.pieces[i] for i in ids]
    ...     def batch_decode(self, ids):  # byte-level BPE: "Âł" is the no-break space
    ...         return [{4: "\u00a0"}.get(i[0], self.pieces[i[0]]) for i in ids]
    >>> boundary_token_ids(Tok(), end_ids=[0]).tolist()
    [0, 1, 3, 4]
    """
    specials = set(getattr(tokenizer, "all_special_ids", ()) or ())
    tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    ids = {
        i
        for i, token in enumerate(tokens)
        if token and i not in specials and (token[0] in _MARKERS or token in _BYTE_FALLBACK)
    }
    rest = [i for i, token in enumerate(tokens) if token and i not in specials and i not in ids]
    decoded = tokenizer.batch_decode([[i] for i in rest]) if rest else []
    ids.update(i for i, text in zip(rest, decoded, strict=True)
               if text and _STARTS_WHITESPACE.match(text))
    return np.asarray(sorted(ids | {int(i) for i in end_ids}), dtype=np.int64)
