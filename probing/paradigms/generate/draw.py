"""Draw items until the design is full: distinct, matched, reproducible."""

from __future__ import annotations

from probing._core.errors import ConstraintError
from probing._core.words import count_words
from probing.paradigms.generate.fill import RedrawItem

MAX_TRIES_PER_ITEM = 25


def draw_items(filler, n_items, render, *, match=None):
    """Fill and render ``n_items`` items, rejecting duplicates and unmatched lengths.

    Parameters
    ----------
    filler : SlotFiller
        Draws one item's slot fillers across all cells.
    n_items : int
        How many items to produce.
    render : callable
        ``render(chosen) -> list of records``; each record is a dict with at least
        ``condition``, ``text`` and optionally ``role``.
    match : Match or None
        Length matching across the records of one item.

    Returns
    -------
    list of list of dict
        The records of each accepted item.
    """
    seen, items, tries, redraw = set(), [], 0, None
    while len(items) < n_items:
        tries += 1
        if tries > n_items * MAX_TRIES_PER_ITEM:
            if redraw is not None and not items:
                raise redraw.error
            raise ConstraintError(
                f"could generate only {len(items)} of {n_items} distinct"
                f"{_matched_words(match)} items per cell after {tries - 1} draws; "
                "add lexicon entries or lower items_per_cell",
                file=filler.spec.path, field="items_per_cell")
        try:
            records = render(filler.fill_item())
        except RedrawItem as err:
            redraw = err
            continue
        keys = {(r["condition"], r.get("role"), r["text"]) for r in records}
        if keys & seen or len(keys) < len(records) or not _matched(records, match):
            continue
        seen |= keys
        items.append(records)
    return items


def _matched(records, match):
    if match is None:
        return True
    if match.length:
        measure = count_words if match.length == "words" else len
        lengths = [measure(r["text"]) for r in records]
        if max(lengths) - min(lengths) > match.tolerance:
            return False
    for slot, tolerance in match.frequency:
        zipf = [r["slot_rows"][slot]["zipf"] for r in records if slot in r.get("slot_rows", {})]
        # a small epsilon: Zipf values are stored with two decimals
        if zipf and max(zipf) - min(zipf) > tolerance + 1e-9:
            return False
    return True


def _matched_words(match):
    if match is None:
        return ""
    kinds = (["length"] if match.length else []) + (["frequency"] if match.frequency else [])
    return " " + "- and ".join(kinds) + "-matched"
