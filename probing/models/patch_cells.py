"""What each patched copy of a sweep patches: its slice of the site, and its positions.

``patch_pairs`` runs one copy per (pair, position, slice); a slice is the whole site,
one head (``head_out``, ``q``, ``k``, ``v``, ``pattern``; key/value heads
for ``k``/``v``) or one unit of the site's vector, and the positions are every
aligned input position of a pair or the ones the caller chose.
"""

from __future__ import annotations

from probing._core.errors import ProbingError

__all__ = ["chosen_positions", "copy_slices"]


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
    Checked before any forward pass: every position asked must be an aligned input
    position of its pair.
    """
    if positions is None:
        return [list(range(len(a[1]))) for a in aligned]
    unknown = set(positions) - set(ids)
    if unknown:
        raise ProbingError(f"patch_pairs: positions names pair(s) {sorted(unknown, key=str)[:3]}"
                           f" that are not in pairs")
    chosen = []
    for pid, (_, t_pos, _) in zip(ids, aligned, strict=True):
        wanted = [int(p) for p in positions.get(pid, ())]
        missing = [p for p in wanted if p not in t_pos]
        if missing:
            raise ProbingError(f"pair {pid!r}: position {missing[0]} is not an aligned input "
                               f"position of the target (allowed {t_pos})")
        chosen.append([t_pos.index(p) for p in wanted])
    return chosen
