"""Fill template slots from a lexicon, item by item, across all cells of a design.

Counterbalancing rule: within an item, all cells whose *lexical* requirements for a
slot agree (they differ only in inflectional features such as number) share one lemma;
``author`` appears as ``author`` in the singular cells and ``authors`` in the plural
cells of the same item. Which features are inflectional is decided per slot, over the
entries its fixed constraints admit (so ``gender``, inflectional for reflexives, stays
lexical for nouns). Lemmas are drawn without replacement (per slot and lexical
requirement), so no lemma repeats before every eligible lemma has been used once.
Within one stimulus a lemma is used by one slot only, unless a later slot agrees with it
in ``lemma`` (``lemma: {same_as: start}``: the same place named again).
Free inflectional features (say, tense when the slot does not constrain it) are held
fixed across the cells of an item, so cells differ only where the design says.

Agreement rule: a feature that does not apply (an empty cell) satisfies ``same_as`` and
``differs_from``: a past-tense verb, which has no ``number``, agrees with any subject,
and anything agrees with a controller the feature does not apply to. A value constraint
(``number: sg`` or ``number: $n``) still requires that value.
"""

from __future__ import annotations

import dataclasses
import itertools

from probing._core.errors import ConstraintError, SpecError
from probing.paradigms.lexicon import inflectional_features


@dataclasses.dataclass(frozen=True)
class Cell:
    """One cell of the design: its condition name and factor levels."""

    condition: str
    levels: tuple  # ((factor, level), ...)


def build_cells(spec):
    """All cells of the factorial crossing (one ``all`` cell when there are no factors)."""
    if not spec.factors:
        return (Cell("all", ()),)
    names = [name for name, _ in spec.factors]
    combos = itertools.product(*[levels for _, levels in spec.factors])
    return tuple(Cell("_".join(c), tuple(zip(names, c, strict=True))) for c in combos)


def slot_order(spec):
    """Slots ordered so that a slot comes after the slots it agrees with."""
    deps = {s.name: {c.value for c in s.constraints if c.how in ("same_as", "differs_from")}
            for s in spec.slots}
    ordered = []
    while len(ordered) < len(deps):
        ready = [n for n in deps if n not in ordered and deps[n] <= set(ordered)]
        if not ready:
            cycle = sorted(n for n in deps if n not in ordered)
            raise SpecError(f"agreement constraints form a cycle among slots {cycle}",
                            file=spec.path, field="slots")
        ordered.extend(ready)
    return [spec.slot(name) for name in ordered]


class RedrawItem(Exception):
    """This draw of an item cannot be completed; ``error`` says why (drawn again)."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def slot_inflectional(slot, lexicon):
    """Features inflectional among the entries a slot's fixed (``is``) constraints admit.

    Decided per slot rather than over the whole lexicon: the reflexive ``self`` varying
    in gender (*himself*/*herself*) does not make gender inflectional for a noun slot.
    """
    fixed = {c.feature: c.value if isinstance(c.value, tuple) else (c.value,)
             for c in slot.constraints if c.how == "is"}
    entries = lexicon.select(**fixed) if fixed else lexicon.entries
    for c in slot.constraints:
        if c.how == "not":
            entries = entries[~entries[c.feature].isin(c.value)]
    return inflectional_features(entries, lexicon.features)


class SlotFiller:
    """Draws lexicon entries for the slots of one design.

    Parameters
    ----------
    spec : ParadigmSpec
        A validated template paradigm.
    lexicon : Lexicon
        The lexicon it names.
    rng : numpy.random.Generator
        Source of all randomness (seeded by the caller).
    """

    def __init__(self, spec, lexicon, rng):
        self.spec, self.rng = spec, rng
        self.rows = lexicon.entries.to_dict("records")
        self.slots = slot_order(spec)
        self.cells = build_cells(spec)
        self.inflectional = {s.name: slot_inflectional(s, lexicon) for s in self.slots}
        self._by_lemma = {}
        for row in self.rows:
            self._by_lemma.setdefault((row["pos"], row["lemma"]), []).append(row)
        self._queues, self._partners, self._eligible_cache = {}, {}, {}
        self._values = {f: frozenset(lexicon.values(f)) for f in lexicon.features}

    # -- constraints -------------------------------------------------------------------
    def allowed(self, constraint, cell, chosen):
        """The set of values ``constraint`` allows in ``cell`` given earlier slots' forms."""
        if constraint.how == "is":
            value = constraint.value
            return frozenset(value if isinstance(value, tuple) else (value,))
        if constraint.how == "factor":
            return frozenset({dict(cell.levels)[constraint.value]})
        if constraint.how == "not":
            return (self._values[constraint.feature] | {""}) - set(constraint.value)
        other = chosen[constraint.value][constraint.feature]
        if not other:  # does not apply to the controller: nothing to agree with
            return self._values[constraint.feature] | {""}
        if constraint.how == "same_as":
            return frozenset({other, ""})
        return frozenset(v for v in self._values[constraint.feature] if v != other) | {""}

    def requirements(self, slot, cell, chosen):
        """Resolved ``{feature: allowed values}`` of ``slot`` in ``cell``."""
        return {c.feature: self.allowed(c, cell, chosen) for c in slot.constraints}

    @staticmethod
    def matches(row, requirements):
        return all(row[f] in values for f, values in requirements.items())

    # -- contrast ----------------------------------------------------------------------
    def contrast_partners(self, row):
        """Entries that differ from ``row`` in the contrast feature and keep the rest."""
        contrast = self.spec.contrast
        keep = ("pos", *contrast.keep)
        if not self._partners:  # index once: rows by their kept features
            for r in self.rows:
                self._partners.setdefault(tuple(r[f] for f in keep), []).append(r)
        return [r for r in self._partners.get(tuple(row[f] for f in keep), [])
                if r[contrast.feature] and r[contrast.feature] != row[contrast.feature]]

    # -- drawing -----------------------------------------------------------------------
    def fill_item(self):
        """Choose one form per slot per cell for a new item.

        Returns
        -------
        dict
            ``{condition: {slot: row}}`` where ``row`` is a lexicon entry (a dict).
        """
        chosen = {cell.condition: {} for cell in self.cells}
        used = set()
        for slot in self.slots:
            reqs = {c.condition: self.requirements(slot, c, chosen[c.condition]) for c in self.cells}
            for key, cells in self._group_cells(slot, reqs).items():
                try:
                    lemma = self._draw_lemma(slot, key, cells, reqs,
                                             used - self._repeated(slot, chosen[cells[0]]))
                except ConstraintError as err:
                    # what agrees with (or avoids) the earlier slots' draw may be empty
                    # for this draw only: the item is drawn again (draw_items counts it)
                    if not any(c.how in ("same_as", "differs_from") for c in slot.constraints):
                        raise
                    raise RedrawItem(err) from None
                used.add(lemma)
                self._choose_forms(slot, lemma, cells, reqs, chosen)
        return chosen

    @staticmethod
    def _repeated(slot, chosen):
        """Lemmas ``slot`` may repeat: those of the slots it names in ``lemma: {same_as}``.

        Lemmas are otherwise used once per stimulus; a slot that agrees in lemma with an
        earlier slot names the same thing again (*the basket* ... *in the basket*).
        """
        return {(chosen[c.value]["pos"], chosen[c.value]["lemma"]) for c in slot.constraints
                if c.how == "same_as" and c.feature == "lemma"}

    def _group_cells(self, slot, reqs):
        groups = {}
        for condition, req in reqs.items():
            key = tuple(sorted((f, tuple(sorted(v))) for f, v in req.items()
                               if f not in self.inflectional[slot.name]))
            groups.setdefault(key, []).append(condition)
        return groups

    def _eligible(self, slot, cells, reqs):
        """Lemmas with a fitting form (and contrast partner) in every cell of the group."""
        cache_key = (slot.name, tuple((c, tuple(sorted(reqs[c].items()))) for c in cells))
        if cache_key not in self._eligible_cache:  # the scan is O(lexicon); requirements repeat
            try:
                self._eligible_cache[cache_key] = self._scan_eligible(slot, cells, reqs)
            except ConstraintError as err:
                self._eligible_cache[cache_key] = err
        found = self._eligible_cache[cache_key]
        if isinstance(found, ConstraintError):
            raise found
        return found

    def _scan_eligible(self, slot, cells, reqs):
        lemmas = None
        for condition in cells:
            ok = {(r["pos"], r["lemma"]) for r in self.rows if self.matches(r, reqs[condition])
                  and (not self._is_contrast(slot) or self.contrast_partners(r))}
            lemmas = ok if lemmas is None else lemmas & ok
            if not lemmas:
                self._explain_empty(slot, condition, reqs[condition])
        return sorted(lemmas)

    def _is_contrast(self, slot):
        return self.spec.contrast is not None and self.spec.contrast.slot == slot.name

    def _draw_lemma(self, slot, key, cells, reqs, used):
        queue_key = (slot.name, key, tuple(cells))
        candidates = self._eligible(slot, cells, reqs)
        queue = self._queues.get(queue_key)
        for _ in range(2):  # the current queue, then one fresh permutation
            if not queue:
                queue = [candidates[i] for i in self.rng.permutation(len(candidates))]
            for i, lemma in enumerate(queue):
                if lemma in candidates and lemma not in used:
                    self._queues[queue_key] = queue[:i] + queue[i + 1:]
                    return lemma
            queue = None
        raise ConstraintError(
            f"slot {slot.name!r}: all {len(candidates)} eligible lemma(s) are already used by "
            "other slots of the same stimulus; add lexicon entries", file=self.spec.path,
            field=f"slots.{slot.name}")

    def _choose_forms(self, slot, lemma, cells, reqs, chosen):
        free = sorted(f for f in self.inflectional[slot.name] if f not in reqs[cells[0]])
        fixed = None
        for condition in cells:
            forms = [r for r in self._by_lemma[lemma] if self.matches(r, reqs[condition])]
            if fixed is not None:
                forms = [r for r in forms if all(r[f] == fixed[f] for f in free)] or forms
            row = forms[0] if fixed is not None else forms[self.rng.integers(len(forms))]
            fixed = fixed or row
            chosen[condition][slot.name] = row

    def _explain_empty(self, slot, condition, req):
        remaining = self.rows
        steps = []
        for feature, values in req.items():
            remaining = [r for r in remaining if r[feature] in values]
            shown = sorted(v or "(does not apply)" for v in values)
            steps.append(f"{feature} in {shown}: {len(remaining)}")
        if self._is_contrast(slot) and remaining:
            steps.append(f"with a contrast partner differing in {self.spec.contrast.feature!r}: 0")
        raise ConstraintError(
            f"slot {slot.name!r} in condition {condition!r}: no lemma satisfies the constraints "
            f"in every cell ({'; '.join(steps)} of {len(self.rows)} entries)",
            file=self.spec.path, field=f"slots.{slot.name}")
