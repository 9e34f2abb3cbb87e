"""Texts with ``{slot}`` placeholders given per condition: the rule regions and messages share."""

from __future__ import annotations

import collections
import string

from probing.paradigms.generate.fill import build_cells
from probing.paradigms.spec import ParadigmSpec, Region


def check_texts(ck, field, texts, factors, slot_names):
    """A text per condition: a string, or a mapping keyed by condition, level or default.

    Every condition must get exactly one text and every ``{placeholder}`` must name a
    slot. Shared by factorial regions and dialogue messages.

    Returns
    -------
    tuple of (key, text)
    """
    counts = collections.Counter(lvl for _, lvls in factors for lvl in lvls)
    levels = {lvl for lvl, n in counts.items() if n == 1}  # a shared level would be ambiguous
    design = ParadigmSpec("x", "factorial", factors=factors)
    conditions = set(design.conditions_of_factors)
    texts = {"default": texts} if isinstance(texts, str) else texts
    ck.typed(field, texts, dict, "a string or a mapping level: text")
    for key, text in texts.items():
        if key != "default" and key not in levels | conditions:
            ck.fail(f"{field}.{key}", "is neither a level of one factor, a condition "
                    "nor 'default'; "
                    f"allowed: {', '.join(sorted(levels | conditions))}, default")
        ck.typed(f"{field}.{key}", text, str, "a string")
        for slot in placeholders(ck, f"{field}.{key}", text):
            if slot not in slot_names:
                ck.fail(f"{field}.{key}", f"placeholder {{{slot}}} names no slot; "
                        f"allowed: {', '.join(slot_names)}")
    region = Region("x", tuple(texts.items()))
    for cell in build_cells(design):
        if region.text_for(cell.condition, cell.levels) is None:
            ck.fail(field, f"no single text for condition {cell.condition!r}: give "
                    "it a key (condition, one level, or 'default')")
    return tuple(texts.items())


def placeholders(ck, field, template):
    try:
        return [n for _, n, _, _ in string.Formatter().parse(template) if n is not None]
    except ValueError as err:
        ck.fail(field, f"malformed template ({err}); write slots as {{slot}}")
