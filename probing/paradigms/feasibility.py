"""Checks that promise generation: what validation accepts, generation can fill.

Two stages. :func:`check_cells` runs on every load (it is cheap): each constraint value
must be a value the lexicon knows, and every slot must have entries in every cell, with
agreement resolved against every value its controller can take; the error names the
slot, the condition and how many entries survive each constraint. :func:`check_feasible`
(``probing validate``) also generates the design once with its seed, so that what
depends on the whole draw (enough distinct items, length and frequency matching,
lemmas shared across cells) is checked by the generator itself, and reports where in
the file a failure points.
"""

from __future__ import annotations

import math

import numpy as np

from probing._core.errors import ConstraintError
from probing.paradigms.generate.fill import build_cells, slot_order


def check_values(ck, slots, lexicon, factors):
    """Every value a constraint names (directly or as a factor level) is in the lexicon."""
    levels = dict(factors)
    for slot in slots:
        for c in slot.constraints:
            field = f"slots.{slot.name}.{c.feature}"
            known = set(lexicon.values(c.feature))
            if c.how in ("is", "not"):
                values = c.value if isinstance(c.value, tuple) else (c.value,)
                what = ""
                field += ".not" if c.how == "not" else ""
            elif c.how == "factor":
                values, what = levels[c.value], f" (a level of factor {c.value!r})"
            else:
                continue
            for value in values:
                if value not in known:
                    _fail(ck, field, f"{value!r}{what} is not a value of {c.feature!r} in the "
                          f"lexicon {lexicon.path}; allowed: {_shown(known)}")


def check_cells(ck, spec, lexicon):
    """Every slot has entries in every cell, for every value its controllers can take.

    Also bounds the number of distinct texts per cell (the product, over slots, of the
    forms each slot can take there) against ``items_per_cell``.
    """
    entries = lexicon.entries
    survivors = {}  # (slot, condition) -> boolean mask of entries
    for slot in slot_order(spec):
        for cell in build_cells(spec):
            survivors[slot.name, cell.condition] = _cell_mask(ck, slot, cell, entries, survivors)
    if spec.kind == "localizer" or not spec.items_per_cell:
        return
    for cell in build_cells(spec):
        counts = {s.name: entries.loc[survivors[s.name, cell.condition], "form"].nunique()
                  for s in spec.slots}
        if math.prod(counts.values()) < spec.items_per_cell:
            _fail(ck, "items_per_cell", f"condition {cell.condition!r} has at most "
                    f"{math.prod(counts.values())} distinct texts ("
                    + ", ".join(f"{s}: {n} form(s)" for s, n in counts.items())
                    + f") but items_per_cell is {spec.items_per_cell}; add lexicon entries or "
                    "lower items_per_cell")


def _cell_mask(ck, slot, cell, entries, survivors):
    mask = np.ones(len(entries), dtype=bool)
    steps = []
    levels = dict(cell.levels)
    for c in slot.constraints:
        column = entries[c.feature].to_numpy()
        if c.how in ("is", "factor"):
            allowed = ({levels[c.value]} if c.how == "factor" else
                       set(c.value) if isinstance(c.value, tuple) else {c.value})
            mask &= np.isin(column, list(allowed))
            steps.append(f"{c.feature} in {sorted(allowed)}: {int(mask.sum())}")
        elif c.how == "not":
            mask &= ~np.isin(column, list(c.value))
            steps.append(f"{c.feature} not in {sorted(c.value)}: {int(mask.sum())}")
        else:
            mask &= _agreeing(c, column, entries, survivors[c.value, cell.condition])
            steps.append(f"{c.feature} {c.how} {c.value} (any value it can take): {int(mask.sum())}")
        if not mask.any():
            _fail(ck, f"slots.{slot.name}", f"slot {slot.name!r} in condition {cell.condition!r}: "
                    f"no entry satisfies the constraints ({'; '.join(steps)} of {len(entries)} "
                    "entries)")
    return mask


def _agreeing(constraint, column, entries, controller_mask):
    """Entries that agree with *some* form the controller can take (empty agrees)."""
    values = set(entries.loc[controller_mask, constraint.feature])
    if "" in values:
        return np.ones(len(column), dtype=bool)
    if constraint.how == "same_as":
        return np.isin(column, list(values | {""}))
    known = set(column) - {""}
    return np.isin(column, [v for v in known if any(v != w for w in values)] + [""])


def _fail(ck, field, message):
    raise ConstraintError(message, file=ck.path, field=field, line=ck.lines.line(field))


def _shown(values):
    return ", ".join(sorted(values)) or "none (no entry has this feature)"


def check_feasible(spec, lines):
    """Generate ``spec`` once with its seed; re-raise a failure with its file line.

    Parameters
    ----------
    spec : ParadigmSpec
        A validated spec (:func:`probing.paradigms.load_paradigm`).
    lines : probing.paradigms.yamlio.Located
        Field path -> line of the file the spec came from.

    Returns
    -------
    Stimuli
        What generation produced (callers may report its size).
    """
    from probing.paradigms.generate import generate_stimuli  # generation sits above validation

    try:
        return generate_stimuli(spec)
    except ConstraintError as err:
        if err.line is not None or not err.field or err.file != spec.path:
            raise
        raise ConstraintError(err.message, file=err.file, field=err.field,
                              line=lines.line(err.field)) from None
