"""Immutable paradigm specifications and their YAML round trip.

A :class:`ParadigmSpec` is what a validated paradigm file becomes. Every field is
hashable (tuples, frozen dataclasses), so a spec is immutable once built.
:func:`spec_to_dict` writes it back in the file's own vocabulary, so that
YAML -> spec -> YAML -> spec gives an equal spec.
"""

from __future__ import annotations

import dataclasses

SCHEMA_VERSION = 1
LENGTH_UNITS = ("words", "chars")


@dataclasses.dataclass(frozen=True)
class Constraint:
    """One feature constraint of a slot.

    ``how`` is ``is`` (value is one allowed value or several), ``not`` (a tuple of
    excluded values: any other value, or none, is allowed), ``factor`` (the cell's
    level of factor ``value``), ``same_as`` or ``differs_from`` (the feature of slot
    ``value`` in the same stimulus: agreement and mismatch).
    """

    feature: str
    how: str
    value: object

    def to_yaml(self):
        if self.how == "is":
            return list(self.value) if isinstance(self.value, tuple) else self.value
        if self.how == "factor":
            return f"${self.value}"
        if self.how == "not":
            return {"not": list(self.value)}
        return {self.how: self.value}


@dataclasses.dataclass(frozen=True)
class Slot:
    """A named slot of a template, filled from the lexicon under its constraints."""

    name: str
    constraints: tuple

    def to_yaml(self):
        return {c.feature: c.to_yaml() for c in self.constraints}


@dataclasses.dataclass(frozen=True)
class Contrast:
    """How the bad member of a minimal pair differs from the good one.

    The bad member replaces the word in ``slot`` by an entry whose ``feature`` differs
    while the ``keep`` features (and the part of speech) stay the same.
    """

    slot: str
    feature: str
    keep: tuple = ("lemma",)

    def to_yaml(self):
        return {"slot": self.slot, "feature": self.feature, "keep": list(self.keep)}


@dataclasses.dataclass(frozen=True)
class Match:
    """Match the stimuli of one item across conditions.

    ``length`` (``words`` or ``chars``, or None) bounds the spread of the texts' lengths
    by ``tolerance``; ``frequency`` holds ``(slot, tolerance)`` pairs bounding the spread
    of each slot filler's Zipf frequency across the item's conditions.
    """

    length: str | None
    tolerance: int = 0
    frequency: tuple = ()  # ((slot, tolerance in Zipf units), ...)

    def to_yaml(self):
        out = {"length": self.length, "tolerance": self.tolerance} if self.length else {}
        if self.frequency:
            out["frequency"] = dict(self.frequency)
        return out


@dataclasses.dataclass(frozen=True)
class Region:
    """A factorial region: its text per condition, level, or ``default``."""

    name: str
    texts: tuple  # ((key, text), ...); key "default" applies to all conditions

    def text_for(self, condition, levels):
        """Text in a condition: a condition key wins, then a level key, then ``default``.

        Returns None when nothing applies or when keys of two levels both apply.
        """
        texts = dict(self.texts)
        if condition in texts:
            return texts[condition]
        hits = [texts[level] for _, level in levels if level in texts]
        if len(hits) > 1:
            return None
        return hits[0] if hits else texts.get("default")

    def to_yaml(self):
        if len(self.texts) == 1 and self.texts[0][0] == "default":
            return {self.name: self.texts[0][1]}
        return {self.name: dict(self.texts)}


@dataclasses.dataclass(frozen=True)
class Message:
    """One message of a dialogue design: who sends it and its text per condition.

    ``role`` is a chat role (``system, user, assistant, tool``) or the name of an agent
    declared in the paradigm's ``agents``; ``texts`` work as a factorial region's do.
    """

    role: str
    texts: tuple  # ((key, text), ...); key "default" applies to all conditions

    def text_for(self, condition, levels):
        """The message's text in a condition (same rule as :meth:`Region.text_for`)."""
        return Region(self.role, self.texts).text_for(condition, levels)

    def to_yaml(self):
        texts = dict(self.texts)
        return {"role": self.role,
                "content": texts["default"] if list(texts) == ["default"] else texts}


@dataclasses.dataclass(frozen=True)
class Source:
    """A data set a paradigm reads instead of generating (``format`` + options)."""

    format: str
    path: str
    options: tuple = ()  # ((key, value), ...), values made hashable

    def to_yaml(self):
        out = {"format": self.format, "path": self.path}
        out.update({k: _unfreeze(v) for k, v in self.options})
        return out


@dataclasses.dataclass(frozen=True)
class ParadigmSpec:
    """A validated paradigm definition (see the README for every field)."""

    name: str
    kind: str
    version: int = SCHEMA_VERSION
    description: str = ""
    reference: str = ""
    seed: int = 0
    lexicon: str | None = None
    factors: tuple = ()  # ((factor, (level, ...)), ...)
    template: str | None = None
    templates: tuple = ()  # localizer sentence frames
    slots: tuple = ()  # (Slot, ...)
    contrast: Contrast | None = None
    phenomenon: str | None = None
    items_per_cell: int | None = None
    regions: tuple = ()  # (Region, ...) factorial
    predictions: tuple = ()  # formula strings
    prediction_names: tuple = ()  # ((formula, name), ...) for predictions given a name
    mixed_test: str | None = None  # factorial: the mixed model's test (MIXED_TESTS)
    conditions: tuple = ()  # localizer condition names
    model_rdms: tuple = ()  # ((name, factor), ...)
    labels: tuple = ()  # labels paradigm: features to label, "slot.feature" or "feature"
    messages: tuple = ()  # (Message, ...) dialogue
    agents: tuple = ()  # ((agent name, chat role it is rendered as), ...) dialogue
    generation_prompt: bool = False  # dialogue: end with the template's assistant header
    match: Match | None = None
    source: Source | None = None
    alignment: tuple = ()  # ((field, value), ...) human-data analysis options
    path: str | None = dataclasses.field(default=None, compare=False)

    @property
    def conditions_of_factors(self):
        """Condition names of the factorial crossing, levels joined by ``_``."""
        import itertools

        names = [levels for _, levels in self.factors]
        return tuple("_".join(combo) for combo in itertools.product(*names)) if names else ("all",)

    def slot(self, name):
        """The :class:`Slot` called ``name``."""
        return next(s for s in self.slots if s.name == name)


# Field order in written files: reads like a method section, top to bottom.
_ORDER = ("name", "version", "kind", "description", "reference", "seed", "source", "alignment", "lexicon",
          "factors", "conditions", "template", "templates", "slots", "regions", "contrast",
          "phenomenon", "items_per_cell", "match", "predictions", "mixed_test", "model_rdms",
          "labels", "agents", "messages", "generation_prompt")


def spec_to_dict(spec):
    """Write ``spec`` as a plain mapping in paradigm-file vocabulary (defaults omitted)."""
    out = {}
    for field in _ORDER:
        value = getattr(spec, field)
        if value in (None, "", ()) and field not in ("name", "kind") or value is False:
            continue
        out[field] = _field_to_yaml(field, value)
    if spec.prediction_names:  # named predictions are written back as {name, formula}
        names = dict(spec.prediction_names)
        out["predictions"] = [{"name": names[f], "formula": f} if f in names else f
                              for f in spec.predictions]
    return out


def _field_to_yaml(field, value):
    if field == "factors":
        return {name: list(levels) for name, levels in value}
    if field == "slots":
        return {slot.name: slot.to_yaml() for slot in value}
    if field in ("regions", "messages"):
        return [entry.to_yaml() for entry in value]
    if field == "agents":
        return dict(value)
    if field == "alignment":
        return {k: _unfreeze(v) for k, v in value}
    if field == "model_rdms":
        return {name: {"factor": factor} for name, factor in value}
    if field in ("templates", "predictions", "conditions", "labels"):
        return list(value)
    if hasattr(value, "to_yaml"):
        return value.to_yaml()
    return value


def freeze(value):
    """Make a YAML value hashable (lists -> tuples, dicts -> sorted item tuples)."""
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, freeze(v)) for k, v in value.items())
    return value


def _unfreeze(value):
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) and len(v) == 2
                                                  and isinstance(v[0], str) for v in value):
        return {k: _unfreeze(v) for k, v in value}
    if isinstance(value, tuple):
        return [_unfreeze(v) for v in value]
    return value
