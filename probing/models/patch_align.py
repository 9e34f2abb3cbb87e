"""Which token of one member of a minimal pair stands for which token of the other.

Patching copies an activation from one member (the source) into the other (the target)
at "the same place". Token indices are not places: "The may|ors ... hesitate" and "The
mayor ... hesit|ates" have as many tokens, but token 3 is a subject noun in one and a
verb in the other. So members are aligned through their whitespace words, each member on
its own (a token belongs to the word holding its first character):

* the members must have the same number of words, and no token may straddle two words;
* a word split into as many tokens in both members aligns token by token;
* a word split differently aligns the tokens of the longest common prefix of its token
  ids (" y|ell" and " y|ell|s" share " y|ell": the same tokens after the same text),
  then its last tokens and then its first tokens where neither is taken yet ("mayor"
  against "may|ors" aligns the word-final "mayor" and "ors");
* the rule of the pair is ``token`` when every word splits the same way (the members'
  token sequences then correspond one to one) and ``word`` otherwise.

A pair that cannot be aligned is refused with a one-line reason, never mixed.

The *answer* of a pair is where its members' continuations part: from the start of the
last word that differs (the verb of an agreement pair), the first token that differs.
In " y|ell" against " y|ells" the first token is shared and the decision is made on
reading " y"; in " cough" against " cough|s" it is " quite" against "s", predicted on
reading " cough". The answer position of a member is the input position that predicts
its answer token (the token before it). :func:`answer_tokens` gives both, in each
member separately.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing._core.values import READOUTS
from probing.interventions import whitespace_words
from probing.models.token_alignment import encode_texts

__all__ = ["READOUTS", "PairAlignment", "align_all", "align_pair", "answer_tokens",
           "read_plans", "word_tokens"]

#: Values of ``readout`` (:func:`~probing.models.patch_pairs`).

#: Values of the ``alignment`` column.
ALIGNMENT_RULES = ("token", "word")


@dataclasses.dataclass(frozen=True)
class PairAlignment:
    """The aligned input positions of a pair's members (token indices) and the rule."""

    source: list
    target: list
    rule: str

    def to_source(self, target_position):
        """The source position aligned with a target position (None when none is)."""
        lookup = dict(zip(self.target, self.source, strict=True))
        return lookup.get(int(target_position))


def word_tokens(encoded, text):
    """Per whitespace word of ``text``, the indices of its tokens (in order).

    Raises
    ------
    ProbingError
        When a token reaches past the end of its word (it straddles two words) or lies
        outside every word (whitespace outside every word, a chat template's newline,
        joins the word before it).

    Examples
    --------
    >>> from probing.models.token_alignment import Encoded
    >>> word_tokens(Encoded([1, 2, 3], [(0, 2), (3, 4), (4, 5)], [0, 1, 1]), "ab cd")
    [[0], [1, 2]]
    """
    words = whitespace_words(text)
    out = [[] for _ in words]
    for index, (start, end) in enumerate(encoded.spans):
        found = [k for k, (a, b) in enumerate(words) if a <= start < b or start == end == a]
        if not found and not text[start:end].strip():
            # a chat template's whitespace (the newline after an end-of-turn marker) joins
            # the word before it, the same in both members
            found = [max([k for k, (a, _) in enumerate(words) if a <= start] or [0])]
            out[found[0]].append(index)
            continue
        if not found:
            raise ProbingError(f"token {index} ({text[start:end]!r}) is in no word of the text")
        a, b = words[found[0]]
        if end > b:
            raise ProbingError(f"token {index} ({text[start:end]!r}) straddles two words")
        out[found[0]].append(index)
    return out


def align_pair(source_encoded, target_encoded, source, target):
    """Aligned input positions of two members (see the module docstring).

    Only positions that are inputs of a causal scoring run (every token but the last) are
    kept.

    Returns
    -------
    PairAlignment

    Raises
    ------
    ProbingError
        With the reason the members cannot be aligned one to one.

    Examples
    --------
    >>> from probing.models.token_alignment import Encoded
    >>> s = Encoded([1, 2, 3, 4], [(0, 3), (4, 7), (7, 8), (9, 12)], [0, 1, 1, 2])
    >>> t = Encoded([1, 5, 6, 7], [(0, 3), (4, 7), (8, 10), (10, 12)], [0, 1, 2, 2])
    >>> align_pair(s, t, "The cat. sat", "The cat sats")
    PairAlignment(source=[0, 2], target=[0, 1], rule='word')
    """
    s_words, t_words = word_tokens(source_encoded, source), word_tokens(target_encoded, target)
    if len(s_words) != len(t_words):
        raise ProbingError(f"the members have {len(s_words)} and {len(t_words)} words")
    s_pos, t_pos, same = [], [], True
    for k, (s, t) in enumerate(zip(s_words, t_words, strict=True)):
        if not s or not t:
            raise ProbingError(f"word {k + 1} has no token of its own in one member")
        if len(s) == len(t):
            s_pos += s
            t_pos += t
            continue
        same = False
        common = next((j for j, (a, b) in enumerate(zip(s, t, strict=False))
                       if source_encoded.token_ids[a] != target_encoded.token_ids[b]),
                      min(len(s), len(t)))
        pairs = [(s[j], t[j]) for j in range(common)]
        for a, b in ((s[-1], t[-1]), (s[0], t[0])):
            if all(a != x and b != y for x, y in pairs):
                pairs.append((a, b))
        pairs.sort()
        s_pos += [a for a, _ in pairs]
        t_pos += [b for _, b in pairs]
    n_s, n_t = len(source_encoded.token_ids), len(target_encoded.token_ids)
    keep = [k for k, (a, b) in enumerate(zip(s_pos, t_pos, strict=True))
            if a < n_s - 1 and b < n_t - 1]
    return PairAlignment([s_pos[k] for k in keep], [t_pos[k] for k in keep],
                         "token" if same else "word")


def answer_tokens(source_encoded, target_encoded, source, target):
    """``(source_index, target_index)``: each member's answer token (module docstring).

    Raises
    ------
    ProbingError
        When the members have the same words, or when one member's tokens from the
        answer word on are a prefix of the other's (no token tells them apart).

    Examples
    --------
    >>> from probing.models.token_alignment import Encoded
    >>> s = Encoded([1, 2, 3], [(0, 3), (4, 5), (5, 8)], [0, 1, 1])
    >>> t = Encoded([1, 2, 4], [(0, 3), (4, 5), (5, 9)], [0, 1, 1])
    >>> answer_tokens(s, t, "The yell", "The yells")
    (2, 2)
    """
    s_words, t_words = word_tokens(source_encoded, source), word_tokens(target_encoded, target)
    s_text = [source[a:b] for a, b in whitespace_words(source)]
    t_text = [target[a:b] for a, b in whitespace_words(target)]
    if len(s_words) != len(t_words):
        raise ProbingError(f"the members have {len(s_words)} and {len(t_words)} words")
    differ = [k for k, (a, b) in enumerate(zip(s_text, t_text, strict=True)) if a != b]
    if not differ:
        raise ProbingError("the members have the same words: no answer")
    i, j = s_words[differ[-1]][0], t_words[differ[-1]][0]
    s_ids, t_ids = source_encoded.token_ids, target_encoded.token_ids
    while i < len(s_ids) and j < len(t_ids):
        if s_ids[i] != t_ids[j]:
            return i, j
        i, j = i + 1, j + 1
    raise ProbingError(f"answer word {differ[-1] + 1} ({s_text[differ[-1]]!r} / "
                       f"{t_text[differ[-1]]!r}): one member's tokens end where the other's "
                       f"go on; no token tells them apart")


def _check_pairs(pairs):
    if not isinstance(pairs, pd.DataFrame) or not {"pair_id", "source", "target"} <= set(
            pairs.columns):
        raise ProbingError("pairs must be a table with columns pair_id, source, target")
    if pairs["pair_id"].duplicated().any():
        raise ProbingError(f"pairs: pair_id {pairs['pair_id'][pairs['pair_id'].duplicated()].iloc[0]!r} repeats")
    for column in ("source", "target"):
        bad = [p for p, t in zip(pairs["pair_id"], pairs[column], strict=True)
               if not isinstance(t, str) or not t.strip()]
        if bad:
            raise ProbingError(f"pair {bad[0]!r}: {column} text is empty")


def read_plans(source, target, rule, readout, answer=None):
    """How each run of one pair is read: ``{run: (indices, source ids, target ids)}``.

    ``indices`` are the run member's token indices whose predictions are read (input
    ``k`` predicts token ``k``); the ids are the tokens read there (None: not readable
    on that run, NaN).
    """
    s_ids, t_ids = np.asarray(source.token_ids), np.asarray(target.token_ids)
    if readout == "logit_diff":
        a_s, a_t = answer
        ids = (s_ids[[a_s]], t_ids[[a_t]])
        return {"source": (np.array([a_s]), *ids), "target": (np.array([a_t]), *ids)}
    same = rule == "token"  # then the two token sequences correspond one to one
    return {"source": (np.arange(len(s_ids)), s_ids, t_ids if same else None),
            "target": (np.arange(len(t_ids)), s_ids if same else None, t_ids)}


def align_all(lm, pairs, readout="sentence"):
    """Encode both members of every pair and align them (refusing, with the pair's id)."""
    _check_pairs(pairs)
    if readout not in READOUTS:
        raise ProbingError(f"readout must be one of {', '.join(READOUTS)}; got {readout!r}")
    sources = encode_texts(lm.tokenizer, pairs["source"].tolist())
    targets = encode_texts(lm.tokenizer, pairs["target"].tolist())
    aligned, reads = [], []
    for s, t, st, tt, pid in zip(sources, targets, pairs["source"], pairs["target"],
                                 pairs["pair_id"], strict=True):
        try:
            a = align_pair(s, t, st, tt)
            answer = answer_tokens(s, t, st, tt) if readout == "logit_diff" else None
        except ProbingError as err:
            raise ProbingError(f"pair {pid!r}: {err}") from None
        aligned.append((a.source, a.target, a.rule))
        reads.append(read_plans(s, t, a.rule, readout, answer))
    return sources, targets, aligned, reads
