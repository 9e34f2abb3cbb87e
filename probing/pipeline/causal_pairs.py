"""Which pairs ``probing patch | mediate`` can use, and where each region is in each member.

Every pair is aligned through its words (:mod:`probing.models.patch_align`); a region's
position is found in each member on its own (its last token, or its first with
``region_token="first"``) and must be one aligned position of the two; the *answer*
position (the input that predicts the first differing token of the last differing word,
labelled ``<n>:answer`` after the region ``n`` holding that word) is added where the two
members' answer positions are aligned. With ``region_token="all"`` every token of a
region is patched at once, token for token: the region must have as many tokens in both
members, each aligned with its counterpart. A pair that
fails any of this is excluded with a one-line reason (``excluded_pairs.csv``), never
patched at positions that mix words. With the sentence read-out the members must also
split every word alike (their token sequences then correspond one to one); the
``logit_diff`` read-out only needs the answer tokens.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError

__all__ = ["ScreenedPairs", "require_contrast", "screen_pairs"]

EXCLUDED_COLUMNS = ("pair_id", "item_id", "reason")
_WHERE_FIELDS = ("pair_id", "label", "source_position", "target_position")


@dataclasses.dataclass(frozen=True)
class ScreenedPairs:
    """The pairs kept (in order), their region positions and the excluded pairs."""

    pairs: pd.DataFrame
    where: pd.DataFrame | None
    excluded: pd.DataFrame
    spans: dict


def require_contrast(pairs, stimuli, options, name):
    """Refuse own pairs that differ in one word only: no patch can move their read-out.

    Their members share every token before the differing word, and every token after it
    cancels within a run, so the answer is known before any model work: 0 everywhere.
    """
    if options.contrast is not None:
        return
    one_word = all(sum(a != b for a, b in zip(s.split(), t.split(), strict=False)) <= 1
                   and len(s.split()) == len(t.split())
                   for s, t in zip(pairs["source"], pairs["target"], strict=True))
    if not one_word:
        return
    table = stimuli.table
    factors = [f for f in (stimuli.factors or []) if f in table.columns
               and table[f].nunique() == 2]
    allowed = ", ".join(factors) if factors else "none (the paradigm has no two-level factor)"
    raise ProbingError(f"{name}: --contrast FACTOR is required (the good and bad members of "
                       f"each pair differ in one word, so no patch can change their "
                       f"read-out; --contrast pairs the grammatical sentences of a two-level "
                       f"factor within an item); allowed: {allowed}")


def _split_mismatch(s, t, s_text, t_text):
    from probing.models.patch_align import word_tokens

    s_words, t_words = word_tokens(s, s_text), word_tokens(t, t_text)
    for k, (a, b) in enumerate(zip(s_words, t_words, strict=True)):
        if len(a) != len(b):
            word = s_text.split()[k], t_text.split()[k]
            return (f"word {k + 1} ({word[0]!r} / {word[1]!r}) has {len(a)} and {len(b)} "
                    f"tokens: the sentence read-out needs every word split alike (use "
                    f"--readout logit_diff)")
    return None


def _inside(encoded, region):
    starts = np.array([a for a, _ in encoded.spans])
    return np.flatnonzero((starts >= region.char_start) & (starts < region.char_end))


def _answer_word_start(source, target):
    """Character where the target's last word that differs from the source's starts."""
    from probing.interventions import whitespace_words

    s_words, t_words = whitespace_words(source), whitespace_words(target)
    differ = [b for a, b in zip(s_words, t_words, strict=True)
              if source[a[0]:a[1]] != target[b[0]:b[1]]]
    return differ[-1][0]


def _member_positions(pair, regions, s, t, aligned, answer, which):
    """``_WHERE_FIELDS`` rows of one pair; a ProbingError names what is not aligned.

    A region's position is its last (``which="first"``: first) token in the target that
    is an aligned input position; the source position aligned with it must lie in the
    source's same region. ``which="all"``: every token of the region, a span of each
    member's positions (a tuple), patched token for token.
    """
    rows = []
    s_regions, t_regions = regions
    if list(s_regions["region"]) != list(t_regions["region"]):
        raise ProbingError("the members have different regions")
    for rs, rt in zip(s_regions.itertuples(index=False), t_regions.itertuples(index=False),
                      strict=True):
        in_s, in_t = _inside(s, rs), _inside(t, rt)
        if not in_s.size or not in_t.size:
            raise ProbingError(f"region {rt.region} has no token in one member")
        label = f"{int(rt.region_number)}:{rt.region}"
        if which == "all":
            span = _region_span(rt.region, in_s, in_t, aligned, len(t.token_ids))
            if span is not None:
                rows.append((pair.pair_id, label, *span))
            continue
        usable = [p for p in in_t if aligned.to_source(p) is not None]
        if not usable:  # e.g. the region ends the sentence: no input to patch
            continue
        pt = int(usable[-1] if which == "last" else usable[0])
        ps = aligned.to_source(pt)
        if ps not in in_s:
            raise ProbingError(f"region {rt.region}: target token {pt} is aligned with "
                               f"source token {ps}, outside the source's region")
        rows.append((pair.pair_id, label, ps, pt))
    if answer is not None and min(answer) >= 1:
        rows += _answer_row(pair, t_regions, aligned, answer, which)
    return rows


def _region_span(region, in_s, in_t, aligned, n_target):
    """``(source positions, target positions)`` of a whole region, token for token (None:
    the region has no input position, e.g. it is the last token)."""
    if len(in_s) != len(in_t):
        raise ProbingError(f"region {region} has {len(in_s)} and {len(in_t)} tokens in the "
                           f"two members: --region-token all patches a region token for token")
    span = [(int(ps), int(pt)) for ps, pt in zip(in_s, in_t, strict=True)
            if pt < n_target - 1]  # the last token is no input of the run
    for ps, pt in span:
        if aligned.to_source(pt) != ps:
            raise ProbingError(f"region {region}: target token {pt} is not aligned with "
                               f"source token {ps} (its words split differently); "
                               f"--region-token all patches a region token for token")
    if not span:
        return None
    return tuple(ps for ps, _ in span), tuple(pt for _, pt in span)


def _answer_row(pair, t_regions, aligned, answer, which):
    """The ``<n>:answer`` row when the members' answer positions are aligned (a span of
    one position with ``which="all"``, so every position of the run is a span)."""
    ps, pt = answer[0] - 1, answer[1] - 1
    char = _answer_word_start(pair.source, pair.target)
    holding = t_regions[(t_regions["char_start"] <= char) & (char < t_regions["char_end"])]
    number = int(holding["region_number"].iloc[0]) if len(holding) else len(t_regions)
    if aligned.to_source(pt) != ps:
        return []
    if which == "all":
        ps, pt = (ps,), (pt,)
    return [(pair.pair_id, f"{number}:answer", ps, pt)]


def _screen_one(pair, s, t, regions, options):
    """``(where rows, reason)``: the pair's positions, or why it is excluded."""
    from probing.models.patch_align import align_pair, answer_tokens

    try:
        aligned = align_pair(s, t, pair.source, pair.target)
        if options.readout == "sentence" and aligned.rule != "token":
            return [], _split_mismatch(s, t, pair.source, pair.target)
        try:
            answer = answer_tokens(s, t, pair.source, pair.target)
        except ProbingError:
            if options.readout == "logit_diff":
                raise
            answer = None
        if regions is None:
            return [], None
        return _member_positions(pair, regions, s, t, aligned, answer,
                                 options.region_token), None
    except ProbingError as err:
        return [], str(err)


def screen_pairs(lm, pairs, stimuli, options):
    """Encode, align and locate every pair; keep the first ``options.limit`` usable ones.

    Returns
    -------
    ScreenedPairs
        ``pairs`` kept, ``where`` (``_WHERE_FIELDS``; None with ``positions="tokens"``),
        ``excluded`` (``EXCLUDED_COLUMNS``: the pairs seen before the limit was reached
        that cannot be used, one reason each) and ``spans`` of the kept members.
    """
    from probing.models import encode_texts

    sources = encode_texts(lm.tokenizer, pairs["source"].tolist())
    targets = encode_texts(lm.tokenizer, pairs["target"].tolist())
    by_stimulus = None
    if options.positions == "regions":
        by_stimulus = {sid: g for sid, g in stimuli.regions.groupby("stimulus_id", sort=False)}
    keep, where, excluded = [], [], []
    for i, pair in enumerate(pairs.itertuples(index=False)):
        if options.limit is not None and len(keep) >= options.limit:
            break
        regions = None if by_stimulus is None else (by_stimulus[pair.source_id],
                                                    by_stimulus[pair.target_id])
        rows, reason = _screen_one(pair, sources[i], targets[i], regions, options)
        if reason is None:
            keep.append(i)
            where += rows
        else:
            excluded.append((pair.pair_id, pair.item_id, reason))
    if not keep:
        first = excluded[0][2] if excluded else "no pairs"
        raise ProbingError(f"no pair can be aligned word by word and read out ({len(excluded)} "
                           f"excluded; first reason: {first})")
    spans = {"source": [sources[i].spans for i in keep],
             "target": [targets[i].spans for i in keep]}
    where = None if by_stimulus is None else pd.DataFrame(where, columns=list(_WHERE_FIELDS))
    return ScreenedPairs(pairs.iloc[keep].reset_index(drop=True), where,
                         pd.DataFrame(excluded, columns=list(EXCLUDED_COLUMNS)), spans)
