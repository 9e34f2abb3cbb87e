"""The analyses an experiment file can name: one :class:`Analysis` entry each.

An entry says how to run the analysis on one paradigm file with one model into a step
folder, which options it takes (a frozen dataclass that validates itself), which
paradigm kinds it runs on by default, which tables pool over seeds, and how the report's
methods section describes it. A new analysis (interventions, localizers,
human-alignment...) plugs in with one call to :func:`register`::

    register(Analysis(kind="localize", run=_run_localize, options=LocalizeOptions,
                      kinds=("localizer",), pool=(("units", ("layer",), "estimate"),),
                      describe="...", references=("...",)))

``run(paradigm_path, lm, out, *, options)`` writes tables (CSV) and figures (PNG) into
``out``; ``lm`` is a loaded model or a zero-argument loader, called only after the
inputs are checked (see :mod:`probing.pipeline._loading`).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable

from probing._core.errors import ProbingError

__all__ = ["ANALYSES", "Analysis", "register"]


@dataclasses.dataclass(frozen=True)
class Analysis:
    """One kind of analysis an experiment can run.

    Parameters
    ----------
    kind : str
        The name experiment files use (``kind: probe``).
    run : callable
        ``run(paradigm_path, lm, out, *, options)``; writes the step folder ``out``.
    options : type
        Frozen dataclass of options; its fields are the allowed ``options:`` keys.
    kinds : tuple of str, optional
        Paradigm kinds it runs on when the file does not list paradigms (None: all).
    strict : bool
        Also refuse other kinds when the file lists paradigms explicitly.
    pool : tuple of (table, by, value)
        Tables pooled over seeds: per seed, ``estimate`` is averaged within ``by``; then the
        seeds' mean, sd, min and max are reported.
    describe : str
        The methods sentence for every paradigm kind (the report adds the options in use).
    references : tuple of str
        References for every paradigm kind.
    by_kind : tuple of (kinds, describe, references)
        Methods sentences and references that apply only when the analysis ran on a
        paradigm of one of ``kinds``: the report cites what ran, not all it could run.
    report : tuple of str
        Tables the report shows, concatenated over the analysis's steps.
    summaries : tuple of (table, callable)
        Per-row tables the report summarises first: ``summarize(frame) -> frame``.
    figures : tuple of callable
        ``figure(tables) -> list of (title, matplotlib Figure)``, where ``tables`` maps a
        table name to its concatenation over the analysis's steps (with ``seed``).
    units_table : callable, optional
        ``units_table(options) -> file name or None``: the unit table (``layer, site,
        unit``) a step of this analysis writes, which ``units_from`` of another analysis
        may read (``localize``: ``units.csv``).
    needs_units : bool
        The options have ``units`` (a file, relative to the experiment file) and
        ``units_from`` (an analysis with a ``units_table``, run first on the same model);
        the executor passes the resolved file as ``options.units``.
    """

    kind: str
    run: Callable
    options: type
    kinds: tuple | None = None
    strict: bool = False
    pool: tuple = ()
    describe: str = ""
    references: tuple = ()
    report: tuple = ()
    summaries: tuple = ()
    figures: tuple = ()
    units_table: Callable | None = None
    needs_units: bool = False
    by_kind: tuple = ()

    def option_names(self):
        """The options' field names, then the old names of renamed fields (still read)."""
        return (*(f.name for f in dataclasses.fields(self.options)),
                *getattr(self.options, "__renamed__", {}))

    def build_options(self, values, *, seed=None, random_state=None):
        """The options dataclass from file values (lists become tuples; old names renamed)."""
        renames = getattr(self.options, "__renamed__", {})
        values = {renames.get(k, k): tuple(v) if isinstance(v, list) else v
                  for k, v in values.items()}
        if "seed" in self.option_names():
            values["seed"] = seed if seed is not None else values.get("seed")
        if random_state is not None:
            values["random_state"] = random_state
        hints = typing.get_type_hints(self.options)
        for key, value in values.items():
            _check_type(key, value, hints.get(key))
        return self.options(**values)

    def methods(self, paradigm_kinds):
        """``(describe, references)`` for the paradigm kinds the analysis ran on.

        Examples
        --------
        >>> entry = Analysis("x", run=print, options=object, describe="Scores.",
        ...                  by_kind=((("ratings",), "Ratings correlated.", ("Lau 2020",)),
        ...                           (("reading_times",), "Reading times.", ("Futrell",))))
        >>> entry.methods(["ratings"])
        ('Scores. Ratings correlated.', ('Lau 2020',))
        """
        sentences, references = [self.describe], list(self.references)
        for kinds, describe, refs in self.by_kind:
            if set(kinds) & set(paradigm_kinds):
                sentences.append(describe)
                references += refs
        return " ".join(s for s in sentences if s), tuple(dict.fromkeys(references))

    def accepts(self, paradigm_kind, *, explicit=False):
        if self.kinds is None or (explicit and not self.strict):
            return True
        return paradigm_kind in self.kinds


_TYPES = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
          tuple: "a list"}


def _type_ok(value, hint):
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, hint)


def _check_type(key, value, hint):
    """A one-line error when a file value has the wrong type for its option field."""
    allowed = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    if value is None and type(None) in typing.get_args(hint):
        return
    allowed = [a for a in allowed if a in _TYPES]
    if allowed and not any(_type_ok(value, a) for a in allowed):
        what = " or ".join(_TYPES[a] for a in allowed)
        if type(None) in typing.get_args(hint):
            what += " or null"
        raise ProbingError(f"{key}: must be {what}; got {value!r}"[:300])


ANALYSES: dict = {}


def register(analysis):
    """Add ``analysis`` to :data:`ANALYSES` (its ``kind`` must be new)."""
    if analysis.kind in ANALYSES:
        raise ValueError(f"analysis {analysis.kind!r} is already registered")
    ANALYSES[analysis.kind] = analysis
    return analysis


def _builtin():
    from probing.pipeline.experiment import builtin, builtin_causal, builtin_human

    for analysis in (*builtin.BUILTIN, *builtin_causal.CAUSAL, *builtin_human.HUMAN):
        register(analysis)


_builtin()
