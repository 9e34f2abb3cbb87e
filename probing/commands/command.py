"""The declaration of a command, the paradigm it receives and the result it returns."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import MappingProxyType

from probing._core.errors import ProbingError
from probing.commands.options import ModelSettings, Options, RunFolderSettings

__all__ = ["Command", "Paradigm", "Part", "Parts", "Result", "Utility", "identify"]


@dataclasses.dataclass(frozen=True)
class Paradigm:
    """A paradigm loaded and generated once, then passed down (never re-loaded).

    Attributes
    ----------
    spec : object or None
        The validated paradigm spec (None when the stimuli came from a table).
    stimuli : probing.stimuli.Stimuli
    path : pathlib.Path
    sha256 : str
        Of the file at ``path``.
    seed : int or None
        The generation seed (None for a table).
    """

    spec: object
    stimuli: object
    path: object
    sha256: str
    seed: int | None

    @property
    def name(self):
        return self.stimuli.paradigm

    @property
    def kind(self):
        return self.stimuli.kind


@dataclasses.dataclass(frozen=True)
class Result:
    """What ``run`` returns: tidy tables, matplotlib figures and manifest notes.

    ``paradigm_tables`` carry the paradigm's own columns (a stimuli table with its design
    factors, which no vocabulary can list): they end with the identity columns like every
    table, and their other columns are written as the paradigm named them.
    """

    tables: dict = dataclasses.field(default_factory=dict)
    figures: dict = dataclasses.field(default_factory=dict)
    notes: dict = dataclasses.field(default_factory=dict)
    paradigm_tables: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):  # read-only views: a result is not changed after run
        for name in ("tables", "figures", "notes", "paradigm_tables"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    @property
    def all_tables(self):
        """Every table written, the paradigm's own first (``name -> DataFrame``)."""
        return {**self.paradigm_tables, **self.tables}


@dataclasses.dataclass(frozen=True)
class Part:
    """One part of a study: its sub-folder ``name``, paradigm, plan and recorded options."""

    name: str
    paradigm: Paradigm
    plan: object
    options: object


@dataclasses.dataclass(frozen=True)
class Parts:
    """How a command runs in resumable parts, one complete run folder each (``OUT/<name>/``).

    ``run(part.plan, lm)`` runs one part; the study's own tables are combined from every
    part's. A part whose folder holds a manifest is finished: with ``resume`` it is read
    back (after ``check_finished``), not recomputed, and the model is loaded only when a
    part is left to run.

    Parameters
    ----------
    split : callable
        ``split(plan) -> tuple of Part``.
    tables : tuple of str
        The tables read back from a finished part.
    check_finished : callable
        ``check_finished(part, manifest, folder)``: raise a ProbingError when the finished
        folder may not be reused (other options, other inputs).
    combine : callable
        ``combine(plan, {name: {table: DataFrame}}) -> Result``: the study's own tables.
    """

    split: Callable
    tables: tuple
    check_finished: Callable
    combine: Callable


@dataclasses.dataclass(frozen=True)
class Command:
    """One command, declared once.

    Parameters
    ----------
    name : str
        The subcommand (``probing NAME``).
    help, description : str
        One line for ``probing --help``; a paragraph for ``probing NAME --help``.
    options : type
        A frozen :class:`~probing.commands.Options` subclass: the analysis's options.
    prepare : callable
        ``prepare(paradigm, options) -> plan``: every check that needs no model.
    run : callable
        ``run(plan, lm) -> Result``: the only function that sees a model.
    settings : tuple of type
        Options classes of how it runs (model loading, cache, run folder), shared by
        every command and kept out of the analysis's options and its manifest entry.
    kinds : tuple of str
        Paradigm kinds it reads (empty: any).
    report : callable, optional
        ``report(result, out) -> str``: what the CLI prints when it is done.
    example : dict, optional
        A small run: ``paradigm`` (a shipped paradigm file's name, or a tuple of them for
        a command that reads several) and option values. The guard tests run every
        command's example and check what it writes.
    check_model : callable, optional
        ``check_model(plan, shape)``: the checks that need the model's shape (layer
        count, site widths: a :class:`probing.interventions.ModelShape`), run on the shape
        read from the model's configuration before its weights load.
    many : bool
        The command reads several paradigm files (``FILE...``); ``prepare`` then receives
        a tuple of :class:`Paradigm`.
    folder : str
        The default run folder under ``runs/``, filled with ``paradigm`` and ``command``.
    before_model : callable, optional
        ``before_model(plan, model_name)``: a check that needs the model's name or
        tokenizer but not its weights (a chat template), run before the model loads.
    parts : Parts, optional
        The command runs in resumable parts (``run`` is then one part's run).
    reads_paradigm : bool
        The command reads a paradigm file (``FILE``); when False its inputs are its
        options (some positional), ``prepare`` receives None and the plan names the file
        the manifest records (``plan.source``).
    """

    name: str
    help: str
    description: str
    options: type
    prepare: Callable
    run: Callable
    settings: tuple = (ModelSettings,)
    kinds: tuple = ()
    report: Callable | None = None
    example: dict = dataclasses.field(default_factory=dict)
    check_model: Callable | None = None
    many: bool = False
    folder: str = "{paradigm}-{command}"
    before_model: Callable | None = None
    parts: Parts | None = None
    reads_paradigm: bool = True

    def __post_init__(self):
        for cls in (self.options, *self.settings):
            if not (isinstance(cls, type) and issubclass(cls, Options)):
                raise ProbingError(f"command {self.name}: {cls!r} is not an Options class")

    @property
    def writes_run_folder(self):
        return any(issubclass(cls, RunFolderSettings) for cls in self.settings)

    def check_kind(self, paradigm):
        """Refuse a paradigm (or, for ``many``, any of several) of a kind the command does
        not read."""
        for one in paradigm if isinstance(paradigm, tuple) else (paradigm,):
            if self.kinds and one.kind not in self.kinds:
                raise ProbingError(f"{one.path}: kind: is {one.kind!r}; probing "
                                   f"{self.name} needs kind: {' or '.join(self.kinds)}")


@dataclasses.dataclass(frozen=True)
class Utility:
    """A small command declared once that loads no model and writes no run folder of its
    own (``probing list``, ``validate``, ``experiment`` ...): its options (positional ones
    included) are declared fields, so its flags, checks and docs come from one place.

    Parameters
    ----------
    name, help, description : str
        As for :class:`Command`.
    options : type
        A frozen :class:`~probing.commands.Options` subclass.
    run : callable
        ``run(options, *settings) -> int or None``: the exit status.
    settings : tuple of type
        Shared settings classes (``probing demo`` loads a model: :class:`ModelSettings`).
    """

    name: str
    help: str
    description: str
    options: type
    run: Callable
    settings: tuple = ()
    kinds: tuple = ()
    many: bool = False
    reads_paradigm: bool = False  # its files, if any, are positional options

    def __post_init__(self):
        for cls in (self.options, *self.settings):
            if not (isinstance(cls, type) and issubclass(cls, Options)):
                raise ProbingError(f"utility {self.name}: {cls!r} is not an Options class")


def identify(tables, *, model, paradigm):
    """Every table of ``tables`` with ``model, paradigm`` as its last columns.

    Examples
    --------
    >>> import pandas as pd
    >>> out = identify({"t": pd.DataFrame({"estimate": [1.0]})}, model="m", paradigm="p")
    >>> out["t"].columns.tolist()
    ['estimate', 'model', 'paradigm']
    """
    from probing._core.vocabulary import add_identity

    return {name: add_identity(frame, model=model, paradigm=paradigm)
            for name, frame in tables.items()}
