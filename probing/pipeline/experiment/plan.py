"""The step graph of an experiment, each step keyed by the content hash of its inputs.

A model step is one analysis of one paradigm (one generation seed, one analysis seed)
with one model; its key hashes the analysis kind and options, the paradigm file and every
data file it reads (lexicon, source), the model's identity (the bytes of a local model
folder or file; an alias's file hash and the version of the package that ships it; a hub
id's cached revision; the trained model's identity and the seed for a control model), the names that end up in the tables, and the package version. A pool
step (several seeds of one paradigm) hashes the keys of the steps it pools.

When a step completes, ``step.json`` records its key and the SHA-256 of every file it
wrote (``outputs``). A step folder is cached (``done``) only when its ``step.json``
records the same key and every output still has its recorded hash: a table edited by
hand (or a file added or removed) makes the step ``changed``, and a rerun recomputes it,
as ``dvc repro`` does with a changed output. :func:`step_state` tells the states apart.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path

import probing
from probing._core.weights import weights_identity
from probing.paradigms import load_paradigm
from probing.pipeline.experiment.registry import ANALYSES

__all__ = ["STATES", "STEP_FILE", "Step", "hash_outputs", "hash_path", "plan_experiment",
           "step_is_cached", "step_state"]

STEP_FILE = "step.json"
#: What :func:`step_state` returns: the step's outputs are as written (``done``), the
#: folder or its ``step.json`` is absent (``missing``), the step's inputs changed since
#: (``stale``), or an output was edited, added or removed by hand (``changed``).
STATES = ("done", "missing", "stale", "changed")


@dataclasses.dataclass(frozen=True)
class Step:
    """One node of the graph. ``kind`` is ``model`` (needs a model) or ``pool``."""

    key: str
    kind: str
    analysis: str
    model: str
    paradigm: str
    seed: int | None
    random_state: int | None
    folder: str
    inputs: dict
    deps: tuple = ()

    def record(self):
        """What ``step.json`` holds (no timestamps: the same inputs give the same bytes)."""
        return {"key": self.key, "kind": self.kind, "analysis": self.analysis,
                "model": self.model, "paradigm": self.paradigm, "seed": self.seed,
                "random_state": self.random_state, "inputs": self.inputs, "deps": list(self.deps)}


def _digest(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


@functools.lru_cache(maxsize=8192)  # every output of a large plan, checked several times
def _hash_cached(path, size, mtime_ns):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hash_path(path):
    """SHA-256 of a file, or of a folder's files (relative names and contents, sorted).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_text("x")
    >>> hash_path(folder) == hash_path(folder), len(hash_path(folder / "a.txt"))
    (True, 64)
    """
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    parts = []
    for file in files:
        stat = file.stat()
        parts.append([file.relative_to(path).as_posix() if path.is_dir() else file.name,
                      _hash_cached(str(file), stat.st_size, stat.st_mtime_ns)])
    return _digest(parts)


def paradigm_inputs(path):
    """The paradigm file's hash and the hashes of the data files it reads."""
    spec = load_paradigm(path)
    folder = Path(path).parent
    data = {}
    for relative in (spec.lexicon, spec.source.path if spec.source else None):
        if relative and (folder / relative).exists():
            data[relative] = hash_path(folder / relative)
    if spec.source is not None and spec.source.format == "paradigm":
        # labels read off another paradigm: its file and its data, all the way down
        data[spec.source.path] = paradigm_inputs(folder / spec.source.path)
    return {"file": hash_path(path), "data": data}


def model_identity(spec, name):
    """What identifies a model's weights without loading it: the bytes of a local file
    or folder, an alias's file hash and package version, a hub id's cached revision
    (:func:`probing._core.weights.weights_identity`); never the name alone."""
    entry = spec.model(name)
    if entry.is_control:
        return {"reinitialize": model_identity(spec, entry.reinitialize), "seed": entry.seed}
    local = local_model(spec, entry)
    identity = {"path": entry.path, "dtype": entry.dtype}
    if local is not None:
        identity["sha256"] = hash_path(local)
    else:
        identity["weights"] = weights_identity(entry.path)
    return identity


def local_model(spec, entry):
    """The model file or folder (with a ``config.json``) a path names, relative to the
    experiment file; None when it names an alias or a hub id (or is no model folder:
    ``/`` is not hashed whole)."""
    local = spec.path.parent / entry.path
    try:
        if local.is_file() or (local / "config.json").is_file():
            return local
    except OSError:  # a name too long for a path, a component that is a file...
        pass
    return None


def hash_outputs(folder):
    """``{relative path: sha256}`` of every file of a step folder but ``step.json``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "summary.csv").write_text("a\\n1\\n")
    >>> list(hash_outputs(folder))
    ['summary.csv']
    """
    folder = Path(folder)
    # report.html: a page written from the outputs (probing report DIR), not one of them
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and p.relative_to(folder).as_posix() not in (STEP_FILE, "report.html"))
    return {p.relative_to(folder).as_posix(): _hash_cached(str(p), p.stat().st_size,
                                                           p.stat().st_mtime_ns)
            for p in files}


def step_state(out, step):
    """One of :data:`STATES` for ``step`` in the results folder ``out``.

    Examples
    --------
    >>> import tempfile
    >>> step = Step("k", "model", "a", "m", "p", None, None, "a/m/p/seed-default", {})
    >>> step_state(tempfile.mkdtemp(), step)
    'missing'
    """
    folder = Path(out) / step.folder
    try:
        record = json.loads((folder / STEP_FILE).read_text())
    except (OSError, ValueError):
        return "missing"
    if record.get("key") != step.key:
        return "stale"
    try:
        outputs = hash_outputs(folder)
    except OSError:  # a file removed while we read
        return "changed"
    return "done" if record.get("outputs") == outputs else "changed"


def step_is_cached(out, step):
    """Whether ``step`` is done in ``out``: its key and every output hash as recorded."""
    return step_state(out, step) == "done"


def plan_experiment(spec):
    """Every step of ``spec``: model steps, then the pool steps that depend on them.

    Parameters
    ----------
    spec : ExperimentSpec

    Returns
    -------
    list of Step
        In a valid execution order; keys are content hashes (see the module docstring).
        Analyses that read another analysis's units (``units_from``) come after it; their
        steps list the source step's key in ``deps`` and in their inputs.
    """
    paradigms = {p.name: paradigm_inputs(p.path) for p in spec.paradigms}
    models = {m.name: model_identity(spec, m.name) for m in spec.models}
    steps, pools, by_analysis = [], [], {}
    # one level of dependency: a units_from source never reads units_from itself
    ordered = sorted(spec.analyses, key=lambda a: a.options.get("units_from") is not None)
    for entry in ordered:
        analysis = ANALYSES[entry.kind]
        for model in entry.models:
            units = _units_input(spec, entry, model, by_analysis)
            for pname in entry.paradigms:
                group = [_model_step(spec, entry, analysis, model, pname, seed, rs,
                                     paradigms[pname], models[model], units)
                         for seed in spec.paradigm(pname).seeds for rs in entry.seeds]
                steps.extend(group)
                by_analysis.setdefault((entry.name, model), []).extend(group)
                if len(group) > 1 and analysis.pool:
                    pools.append(_pool_step(entry, analysis, model, pname, group))
    return steps + pools


def _units_input(spec, entry, model, by_analysis):
    """What a step's unit table is: a file's hash, or the step that writes it (or None)."""
    if entry.options.get("units") is not None:
        return {"file": entry.options["units"],
                "sha256": hash_path(spec.path.parent / entry.options["units"])}, ()
    source = entry.options.get("units_from")
    if source is None:
        return None, ()
    (step,) = by_analysis[(source, model)]  # the spec checked there is exactly one
    return {"step": step.key}, (step.key,)


def _model_step(spec, entry, analysis, model, pname, seed, rs, paradigm, identity, units):
    options = analysis.build_options(entry.options, seed=seed, random_state=rs)
    inputs = {"analysis": entry.kind, "options": dataclasses.asdict(options),
              "paradigm": {"name": pname, **paradigm}, "model": {"name": model, **identity},
              "version": probing.__version__}
    units, deps = units or (None, ())
    if units is not None:
        inputs["units"] = units
    folder = f"{entry.name}/{model}/{pname}/seed-{'default' if seed is None else seed}"
    if rs is not None:
        folder += f"_rs-{rs}"
    return Step(_digest(inputs), "model", entry.name, model, pname, seed, rs, folder, inputs,
                deps)


def _pool_step(entry, analysis, model, pname, group):
    inputs = {"pool": [list(p) for p in analysis.pool], "deps": [s.key for s in group],
              "version": probing.__version__}
    return Step(_digest(inputs), "pool", entry.name, model, pname, None, None,
                f"{entry.name}/{model}/{pname}/pooled", inputs, tuple(s.key for s in group))
