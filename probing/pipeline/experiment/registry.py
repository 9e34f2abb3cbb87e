"""The analyses an experiment file can name: one :class:`Analysis` entry each.

An entry says how to run the analysis on one paradigm file with one model into a step
folder, which options it takes (a frozen dataclass that validates itself), which
paradigm kinds it runs on by default, which tables pool over seeds, and how the report's
methods section describes it. A new analysis (interventions, localizers,
human-alignment...) plugs in with one call to :func:`register`::

    register(Analysis(kind="localize", run=_run_localize, options=LocalizeOptions,
                      kinds=("localizer",), pool=(("units", ("layer",), "value"),),
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
        Tables pooled over seeds: per seed, ``value`` is averaged within ``by``; then the
        seeds' mean, sd, min and max are reported.
    describe : str
        One methods sentence (the report adds the options in use).
    references : tuple of str
    report : tuple of str
        Tables the report shows, concatenated over the analysis's steps.
    summaries : tuple of (table, callable)
        Per-row tables the report summarises first: ``summarize(frame) -> frame``.
    figures : tuple of callable
        ``figure(tables) -> list of (title, matplotlib Figure)``, where ``tables`` maps a
        table name to its concatenation over the analysis's steps (with ``seed``).
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

    def option_names(self):
        return tuple(f.name for f in dataclasses.fields(self.options))

    def build_options(self, values, *, seed=None, random_state=None):
        """The options dataclass from file values (lists become tuples)."""
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        if "seed" in self.option_names():
            values["seed"] = seed if seed is not None else values.get("seed")
        if random_state is not None:
            values["random_state"] = random_state
        hints = typing.get_type_hints(self.options)
        for key, value in values.items():
            if hints.get(key) is int and not isinstance(value, int):
                raise ProbingError(f"{key}: must be an integer; got {value!r}")
        return self.options(**values)

    def accepts(self, paradigm_kind, *, explicit=False):
        if self.kinds is None or (explicit and not self.strict):
            return True
        return paradigm_kind in self.kinds


ANALYSES: dict = {}


def register(analysis):
    """Add ``analysis`` to :data:`ANALYSES` (its ``kind`` must be new)."""
    if analysis.kind in ANALYSES:
        raise ValueError(f"analysis {analysis.kind!r} is already registered")
    ANALYSES[analysis.kind] = analysis
    return analysis


def _builtin():
    from probing.pipeline.experiment import builtin

    for analysis in builtin.BUILTIN:
        register(analysis)


_builtin()
