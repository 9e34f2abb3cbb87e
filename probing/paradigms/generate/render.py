"""Render filled slots into text with exact character spans."""

from __future__ import annotations

import string

# Region texts that start with one of these attach to the previous region without a
# space, so a final "." region does not read "... food ." (documented in the README).
ATTACHING = tuple(".,;:!?)'\"")


def render_template(template, words, *, capitalize=True):
    """Fill ``{slot}`` placeholders and return the text and each slot's span.

    Parameters
    ----------
    template : str
        Text with ``{slot}`` placeholders.
    words : dict
        Slot name -> word form.
    capitalize : bool
        Upper-case the first letter when the text starts with a slot.

    Returns
    -------
    text : str
    spans : dict
        Slot name -> ``(char_start, char_end)``; ``text[start:end]`` is the slot's word.

    Examples
    --------
    >>> render_template("{subject} {verb}.", {"subject": "authors", "verb": "smile"})
    ('Authors smile.', {'subject': (0, 7), 'verb': (8, 13)})
    """
    pieces, spans, pos = [], {}, 0
    for literal, field, _, _ in string.Formatter().parse(template):
        pieces.append(literal)
        pos += len(literal)
        if field is not None:
            word = words[field]
            spans[field] = (pos, pos + len(word))
            pieces.append(word)
            pos += len(word)
    text = "".join(pieces)
    if capitalize and text and template.startswith("{"):
        text = text[0].upper() + text[1:]
    return text, spans


def join_regions(region_texts):
    """Join rendered regions into one text.

    Parameters
    ----------
    region_texts : list of (name, text, slot_spans)
        Regions in order; ``slot_spans`` are relative to the region's own text.

    Returns
    -------
    text : str
    region_spans : list of (name, start, end)
    slot_spans : dict
        Slot name -> absolute ``(start, end)``.

    Examples
    --------
    >>> join_regions([("a", "I know", {}), ("b", "", {}), ("c", "who", {}), ("d", ".", {})])[:2]
    ('I know who.', [('a', 0, 6), ('b', 6, 6), ('c', 7, 10), ('d', 10, 11)])
    """
    text, region_spans, slot_spans = "", [], {}
    for name, piece, spans in region_texts:
        if piece and text and not piece.startswith(ATTACHING):
            text += " "
        start = len(text)
        text += piece
        region_spans.append((name, start, len(text)))
        slot_spans.update({slot: (start + a, start + b) for slot, (a, b) in spans.items()})
    return text, region_spans, slot_spans
