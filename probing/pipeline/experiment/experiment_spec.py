"""Experiment files: paradigms x models x analyses, validated with file:line errors.

An experiment file is YAML (read with :mod:`probing.paradigms.yamlio`, so every error
names the file, the line and the field). Paths inside it are relative to the file.
See ``docs/experiments.md`` for the format with a complete example.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

from probing._core.errors import ProbingError, SpecError
from probing._core.weights import check_model_source
from probing.paradigms import load_paradigm
from probing.paradigms.yamlio import read_yaml
from probing.pipeline.experiment.registry import ANALYSES

__all__ = ["AnalysisEntry", "ExperimentSpec", "ModelEntry", "ParadigmEntry", "load_experiment"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TOP = ("name", "description", "paradigms", "models", "analyses")
_PARADIGM_KEYS = ("path", "seeds")
_MODEL_KEYS = ("name", "path", "dtype", "reinitialize", "seed")
_ANALYSIS_KEYS = ("kind", "name", "paradigms", "models", "options", "seeds")


@dataclasses.dataclass(frozen=True)
class ParadigmEntry:
    """One paradigm file and the generation seeds to draw it with (None: the file's own)."""

    name: str
    path: Path
    kind: str
    seeds: tuple


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A model by name or path, or a control model: ``reinitialize`` names the trained one."""

    name: str
    path: str | None = None
    dtype: str | None = None
    reinitialize: str | None = None
    seed: int = 0

    @property
    def is_control(self):
        return self.reinitialize is not None


@dataclasses.dataclass(frozen=True)
class AnalysisEntry:
    """One analysis: a registry kind, its validated options and the analysis seeds."""

    name: str
    kind: str
    options: dict
    paradigms: tuple  # paradigm names it runs on
    models: tuple  # model names it runs on
    seeds: tuple  # analysis random_state values (None: the options' own)


@dataclasses.dataclass(frozen=True)
class ExperimentSpec:
    """A validated experiment file."""

    name: str
    description: str
    paradigms: tuple
    models: tuple
    analyses: tuple
    path: Path

    def model(self, name):
        return next(m for m in self.models if m.name == name)

    def paradigm(self, name):
        return next(p for p in self.paradigms if p.name == name)


class _Checker:
    """Raises :class:`SpecError` pointing at the line of a field."""

    def __init__(self, path, lines):
        self.path, self.lines = path, lines

    def fail(self, field, message):
        raise SpecError(message, file=self.path, field=field, line=self.lines.line(field))

    def mapping(self, value, field, allowed):
        if not isinstance(value, dict):
            self.fail(field, "must be a mapping (key: value lines)")
        for key in value:
            if key not in allowed:
                self.fail(f"{field}.{key}" if field else key,
                          f"unknown field; allowed: {', '.join(allowed)}")
        return value

    def items(self, data, field, required=True):
        value = data.get(field)
        if value is None and not required:
            return []
        if not isinstance(value, list) or (required and not value):
            self.fail(field, "must be a non-empty list")
        return value

    def name(self, value, field):
        if not isinstance(value, str) or not _NAME.match(value):
            self.fail(field, "must be a name of letters, digits, '_', '-' or '.'")
        return value

    def seeds(self, value, field):
        if value is None:
            return (None,)
        if not isinstance(value, list) or not value or not all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value):
            self.fail(field, "must be a non-empty list of non-negative integers")
        if len(set(value)) != len(value):
            self.fail(field, "seeds must be distinct")
        return tuple(value)

    def unique(self, names, field):
        seen = set()
        for index, name in enumerate(names):
            if name in seen:
                self.fail(f"{field}.{index}", f"duplicate name {name!r}")
            seen.add(name)


def load_experiment(path):
    """Read and validate an experiment file (no model is loaded).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    ExperimentSpec

    Raises
    ------
    SpecError
        ``file:line: field: message`` for the first problem found.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "exp.yaml").write_text("name: x\\nparadigms: []\\n")
    >>> load_experiment(folder / "exp.yaml")
    Traceback (most recent call last):
    ...
    probing._core.errors.SpecError: ...exp.yaml:2: paradigms: must be a non-empty list
    """
    path = Path(path)
    data, lines = read_yaml(path)
    check = _Checker(path, lines)
    check.mapping(data, "", _TOP)
    name = check.name(data.get("name"), "name")
    paradigms = tuple(_paradigm(check, entry, f"paradigms.{i}", path.parent)
                      for i, entry in enumerate(check.items(data, "paradigms")))
    check.unique([p.name for p in paradigms], "paradigms")
    models = tuple(_model(check, entry, f"models.{i}", path.parent)
                   for i, entry in enumerate(check.items(data, "models")))
    check.unique([m.name for m in models], "models")
    trained = {m.name for m in models if not m.is_control}
    for i, model in enumerate(models):
        if model.is_control and model.reinitialize not in trained:
            check.fail(f"models.{i}.reinitialize",
                       f"names no trained model of this file; models: {sorted(trained)}")
    analyses = tuple(_analysis(check, entry, f"analyses.{i}", paradigms, models)
                     for i, entry in enumerate(check.items(data, "analyses")))
    check.unique([a.name for a in analyses], "analyses")
    _check_size(check, analyses, paradigms)
    for i, entry in enumerate(analyses):
        if entry.options.get("units_from") is not None:
            _check_units_from(check, entry, f"analyses.{i}.options.units_from", analyses,
                              paradigms)
    return ExperimentSpec(name, str(data.get("description") or ""), paradigms, models,
                          analyses, path)


def _paradigm(check, entry, field, folder):
    if isinstance(entry, str):
        entry = {"path": entry}
    check.mapping(entry, field, _PARADIGM_KEYS)
    if not isinstance(entry.get("path"), str):
        check.fail(f"{field}.path", "required: the paradigm file, relative to this file")
    file = (folder / entry["path"]).resolve()
    try:
        spec = load_paradigm(file)
    except ProbingError as err:
        check.fail(f"{field}.path", f"paradigm does not load: {err}")
    return ParadigmEntry(spec.name, file, spec.kind, check.seeds(entry.get("seeds"), f"{field}.seeds"))


def _model(check, entry, field, folder):
    check.mapping(entry, field, _MODEL_KEYS)
    name = check.name(entry.get("name"), f"{field}.name")
    has_path, control = entry.get("path") is not None, entry.get("reinitialize") is not None
    if has_path == control:
        check.fail(field, "give exactly one of path (a model) or reinitialize (a control model)")
    key = "path" if has_path else "reinitialize"
    if not isinstance(entry[key], str) or not entry[key].strip():
        check.fail(f"{field}.{key}", "must be a non-empty string (a model name, alias or "
                   "path)" if has_path else "must be the name of a trained model of this file")
    if has_path:
        try:  # an alias, a local file or folder, or a hub id: checked before any write
            check_model_source(entry["path"], folder, how=_HOW_MODEL)
        except ProbingError as err:
            check.fail(f"{field}.path", str(err))
    seed = entry.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        check.fail(f"{field}.seed", "must be a non-negative integer")
    dtype = entry.get("dtype")
    if dtype is not None and dtype not in ("float32", "float16", "bfloat16", "float64"):
        check.fail(f"{field}.dtype", "allowed: float32, float16, bfloat16, float64")
    return ModelEntry(name, None if control else str(entry["path"]), dtype,
                      entry.get("reinitialize"), seed)


def _analysis(check, entry, field, paradigms, models):
    check.mapping(entry, field, _ANALYSIS_KEYS)
    kind = entry.get("kind")
    if not isinstance(kind, str) or kind not in ANALYSES:
        check.fail(f"{field}.kind", f"unknown analysis {kind!r}; allowed: {', '.join(ANALYSES)}")
    analysis = ANALYSES[kind]
    name = check.name(entry.get("name", kind), f"{field}.name")
    options = entry.get("options") or {}
    check.mapping(options, f"{field}.options", analysis.option_names())
    for old, new in getattr(analysis.options, "__renamed__", {}).items():
        if old in options:  # a file written before the rename still runs, and says so
            warnings.warn(f"{field}.options.{old}: renamed {new!r} (the old name is read for "
                          f"one release)", FutureWarning, stacklevel=2)
    if "seed" in options:
        check.fail(f"{field}.options.seed", "generation seeds go under paradigms: (seeds: [...])")
    try:
        analysis.build_options(options)
    except (ProbingError, TypeError, ValueError) as err:
        check.fail(f"{field}.options", str(err))
    if options.get("units") is not None:
        _check_units_file(check, options["units"], f"{field}.options.units", check.path.parent)
    chosen = _select(check, entry, f"{field}.paradigms", [p.name for p in paradigms])
    if entry.get("paradigms") is None:
        chosen = [p.name for p in paradigms if analysis.accepts(p.kind)]
    for index, pname in enumerate(chosen):
        kind_of = next(p.kind for p in paradigms if p.name == pname)
        if not analysis.accepts(kind_of, explicit=True):
            check.fail(f"{field}.paradigms.{index}", f"{pname} is kind {kind_of}; {kind} runs "
                       f"on {', '.join(analysis.kinds)}")
    if not chosen:
        check.fail(field, f"{kind} runs on {', '.join(analysis.kinds or ())} paradigms and "
                   f"this file has none")
    chosen_models = _select(check, entry, f"{field}.models", [m.name for m in models])
    seeds = check.seeds(entry.get("seeds"), f"{field}.seeds")
    if seeds != (None,) and "random_state" not in analysis.option_names():
        check.fail(f"{field}.seeds", f"{kind} has no random_state option to seed")
    return AnalysisEntry(name, kind, dict(options), tuple(chosen), tuple(chosen_models), seeds)


MAX_STEPS = 10_000
_HOW_MODEL = ("give an alias, a .gguf file or a model folder (relative to this file), or a "
              "hub id (org/name)")


def _check_size(check, analyses, paradigms):
    """Refuse a plan too large to be meant (a file can multiply lists into millions)."""
    seeds = {p.name: len(p.seeds) for p in paradigms}
    n = sum(len(a.models) * sum(seeds[p] for p in a.paradigms) * len(a.seeds) for a in analyses)
    if n > MAX_STEPS:
        check.fail("analyses", f"the plan has {n} model steps (more than {MAX_STEPS}); split "
                   f"the experiment into several files")


def _check_units_file(check, relative, field, folder):
    """A unit table file (relative to the experiment file) that loads as one."""
    from probing.pipeline.causal_inputs import load_unit_table

    try:
        load_unit_table(folder / relative)
    except ProbingError as err:
        check.fail(field, str(err).replace(f"--units {folder / relative}", repr(relative)))


def _check_units_from(check, entry, field, analyses, paradigms):
    """``units_from`` names an analysis that writes one unit table per model of ``entry``."""
    name = entry.options["units_from"]
    source = next((a for a in analyses if a.name == name and a is not entry), None)
    providers = [a.name for a in analyses if ANALYSES[a.kind].units_table is not None]
    if source is None or source.name not in providers:
        check.fail(field, f"{name!r} is no analysis of this file that writes units; "
                   f"allowed: {', '.join(providers) or 'none (add a localize or mediate)'}")
    table = ANALYSES[source.kind].units_table(ANALYSES[source.kind].build_options(
        source.options))
    if table is None:
        check.fail(field, f"{name} writes no unit table with these options (mediate writes "
                   f"top_units.csv with mediators: heads or units)")
    missing = [m for m in entry.models if m not in source.models]
    if missing:
        check.fail(field, f"{name} does not run on model(s) {', '.join(missing)}; units are "
                   f"taken from the same model")
    seeds = [len(next(p for p in paradigms if p.name == n).seeds) for n in source.paradigms]
    if len(source.paradigms) != 1 or seeds != [1] or len(source.seeds) != 1:
        check.fail(field, f"{name} runs {sum(seeds) * len(source.seeds)} steps per model; "
                   f"units_from needs one (give it one paradigm, one seed)")


def _select(check, entry, field, known):
    key = field.rpartition(".")[2]
    value = entry.get(key)
    if value is None:
        return list(known)
    if not isinstance(value, list) or not value:
        check.fail(field, f"must be a non-empty list of names; known: {', '.join(known)}")
    for index, item in enumerate(value):
        if item not in known:
            check.fail(f"{field}.{index}", f"unknown name {item!r}; known: {', '.join(known)}")
    return list(value)
