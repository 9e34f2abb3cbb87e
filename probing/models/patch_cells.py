"""What each patched copy of a sweep patches: its slice of the site, and its positions.

``patch_pairs`` runs one copy per (pair, position, slice); a slice is the whole site,
one head (``head_out``, ``q``, ``k``, ``v``, ``pattern``; key/value heads
for ``k``/``v``) or one unit of the site's vector, and the positions are every
aligned input position of a pair or the ones the caller chose. A chosen entry may be a
*span*, a tuple of positions patched together in one copy (a whole region: ``probing
patch --region-token all``).
"""

from __future__ import annotations

import numpy as np

from probing._core.errors import ProbingError

__all__ = ["chosen_positions", "copy_position", "copy_slices",
           "entry_indices"]


def copy_slices(shape, site, per_head, units):
    """``(head, unit)`` of each patched copy of a cell: (-1, -1) patches the whole site."""
    if units is None:
        return [(h, -1) for h in range(shape.heads_of(site))] if per_head else [(-1, -1)]
    if per_head:
        raise ProbingError("patch_pairs: per_head and units exclude each other; patch heads "
                           "or units")
    if site == "pattern":
        raise ProbingError("patch_pairs: site 'pattern' has no units; patch heads (per_head)")
    units = [int(u) for u in units]
    width = shape.width(site)
    bad = [u for u in units if not 0 <= u < width]
    if not units or bad:
        raise ProbingError(f"patch_pairs: units must be indices in [0, {width}) of site "
                           f"{site!r}; got {bad[:3] or 'none'}")
    return [(-1, u) for u in units]


def chosen_positions(ids, aligned, positions):
    """Per pair, the indices into its aligned target positions that are swept.

    ``ids``: the pairs' ids; ``aligned``: per pair ``(source, target, rule)`` positions.
    An entry is an index, or a tuple of indices for a span (positions patched together).
    Checked before any forward pass: every position asked must be an aligned input
    position of its pair, and a span must be non-empty without repeats.
    """
    if positions is None:
        return [list(range(len(a[1]))) for a in aligned]
    unknown = set(positions) - set(ids)
    if unknown:
        raise ProbingError(f"patch_pairs: positions names pair(s) {sorted(unknown, key=str)[:3]}"
                           f" that are not in pairs")
    chosen = []
    for pid, (_, t_pos, _) in zip(ids, aligned, strict=True):
        entries = []
        for wanted in positions.get(pid, ()):
            span = _span(pid, wanted)
            missing = [p for p in (span or (wanted,)) if int(p) not in t_pos]
            if missing:
                raise ProbingError(f"pair {pid!r}: position {missing[0]} is not an aligned "
                                   f"input position of the target (allowed {t_pos})")
            entries.append(int(t_pos.index(int(wanted))) if span is None
                           else tuple(t_pos.index(p) for p in span))
        chosen.append(entries)
    return chosen


def _span(pid, wanted):
    """``wanted`` as a tuple of ints when it is a span (a sequence), else None."""
    if isinstance(wanted, int | np.integer | str):
        return None
    span = tuple(int(p) for p in wanted)
    if not span or len(set(span)) < len(span):
        raise ProbingError(f"pair {pid!r}: a span of positions must be non-empty without "
                           f"repeats; got {list(span)}")
    return span


def entry_indices(entry):
    """The indices into the aligned positions that a swept entry patches (a tuple)."""
    return entry if isinstance(entry, tuple) else (entry,)


def copy_position(entry, target_positions):
    """A swept entry's ``position`` value: its target position, or the tuple of them for a
    span."""
    if isinstance(entry, tuple):
        return tuple(int(target_positions[j]) for j in entry)
    return int(target_positions[entry])
