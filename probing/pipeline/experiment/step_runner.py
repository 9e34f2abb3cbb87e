"""Run the steps of a plan: model steps grouped by model, then pool steps.

All the steps of one trained model and of its control models form one group, run by one
worker that loads the model once (and only if some step of the group is not cached)
and derives each control model from it. Every step writes its folder atomically and
records its key last, so an interrupted run leaves only complete, trusted steps and the
next run resumes from them. Failed steps are retried; an input error
(:class:`~probing._core.errors.ProbingError`) is not, since it would fail again.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

from probing._core.config import config_context
from probing._core.errors import ProbingError
from probing._core.io import atomic_folder
from probing.pipeline.experiment.plan import STEP_FILE, hash_outputs, local_model, step_is_cached
from probing.pipeline.experiment.pool import pool_step_tables
from probing.pipeline.experiment.registry import ANALYSES

__all__ = ["GroupResult", "group_steps", "run_model_group", "run_pool_step", "run_serial"]

log = logging.getLogger(__name__)


@dataclasses.dataclass
class GroupResult:
    """What a worker did: ``ran``/``cached`` step folders, ``failed`` folder -> error,
    the names of the models it loaded (``loads``) and their provenance records
    (``models``: exact weights, hash, dtype, device), the device each model ran on
    (``devices``) and, under Ray, one record per task (``tasks``: its steps, ``gpu_ids``
    Ray gave it)."""

    ran: list = dataclasses.field(default_factory=list)
    cached: list = dataclasses.field(default_factory=list)
    failed: dict = dataclasses.field(default_factory=dict)
    loads: list = dataclasses.field(default_factory=list)
    devices: dict = dataclasses.field(default_factory=dict)
    tasks: list = dataclasses.field(default_factory=list)
    models: dict = dataclasses.field(default_factory=dict)

    def merge(self, other):
        self.ran += other.ran
        self.cached += other.cached
        self.failed.update(other.failed)
        self.loads += other.loads
        self.devices.update(other.devices)
        self.tasks += other.tasks
        self.models.update(other.models)
        return self


def default_load(path, dtype):
    """Load a model by path or name (imported here: only workers that need it pay)."""
    from probing.models import load_model

    return load_model(path, dtype=dtype)


class _Models:
    """Loads each trained model at most once; control models are derived from it."""

    def __init__(self, spec, load, result):
        self.spec, self.load, self.memo = spec, load or default_load, {}
        self.loads, self.devices, self.records = result.loads, result.devices, result.models

    def get(self, name):
        if name not in self.memo:
            entry = self.spec.model(name)
            if entry.is_control:
                from probing.models import reinitialize

                lm = reinitialize(self.get(entry.reinitialize), random_state=entry.seed)
            else:
                local = local_model(self.spec, entry)
                lm = self.load(entry.path if local is None else str(local), entry.dtype)
                self.loads.append(name)  # only once it loaded
            self.memo[name] = dataclasses.replace(lm, name=name)
            self.devices[name] = _device(lm)
            self.records[name] = _jsonable(getattr(lm, "provenance", None) or {})
        return self.memo[name]


def _jsonable(record):
    """A provenance record as plain JSON values (it travels between processes)."""
    return json.loads(json.dumps(record, default=str))


def _device(lm):
    """Where a model's weights are (``cpu``, ``cuda:0``), for the manifest."""
    try:
        return str(next(lm.model.parameters()).device)
    except (AttributeError, StopIteration, TypeError):
        return "unknown"


def base_model(spec, name):
    """The trained model a model step needs loaded (itself, or what a control reinitialises)."""
    entry = spec.model(name)
    return entry.reinitialize if entry.is_control else name


def group_steps(spec, steps):
    """Model steps by the trained model they need, in plan order."""
    groups = {}
    for step in steps:
        if step.kind == "model":
            groups.setdefault(base_model(spec, step.model), []).append(step)
    return groups


def _attempt(run, retries, what):
    """None when ``run()`` succeeds within ``1 + retries`` tries, else the last error."""
    error = None
    for attempt in range(retries + 1):
        try:
            run()
            return None
        except ProbingError as err:
            return f"ProbingError: {err}"
        except Exception as err:  # a failed step must not stop the others
            error = f"{type(err).__name__}: {err}"
            log.warning("%s failed (try %d of %d): %s", what, attempt + 1, retries + 1, error)
    return error


def _remove_leftovers(folder):
    """Temporary folders a killed run left beside ``folder`` (no cleanup ran there).

    A step runs in one worker at a time, so no live writer owns them.
    """
    import shutil

    prefixes = (f".{folder.name}.partial-", f"..{folder.name}.partial-")
    for path in folder.parent.iterdir():
        if path.name.startswith(prefixes) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def _write_step(step, out, write):
    folder = Path(out) / step.folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(folder)
    with config_context(cache_dir=str(Path(out) / ".cache")), atomic_folder(folder) as tmp:
        write(tmp)
        # the key and the outputs' hashes go in last: a folder without them is never trusted
        record = {**step.record(), "outputs": hash_outputs(tmp)}
        (tmp / STEP_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def run_model_group(spec, out, steps, *, retries=1, load=None, threads=None):
    """Run (or find cached) each model step of one group, loading its model at most once.

    Parameters
    ----------
    spec : ExperimentSpec or path-like
        A path is re-read (workers of a process pool or of Ray get the path).
    out : path-like
        The results folder.
    steps : list of Step
    retries : int
    load : callable, optional
        ``load(path_or_name, dtype) -> LanguageModel`` (default: ``load_model``).
    threads : int, optional
        torch's CPU threads for the group (see :mod:`probing.models.threads`).

    Returns
    -------
    GroupResult
    """
    from probing.pipeline.experiment.experiment_spec import load_experiment

    spec = spec if hasattr(spec, "analyses") else load_experiment(spec)
    todo = [s for s in steps if not step_is_cached(out, s)]
    result = GroupResult(cached=[s.folder for s in steps if s not in todo])
    if todo:
        from probing.models.threads import torch_threads

        with torch_threads(threads):
            _run_steps(spec, out, todo, result, retries=retries, load=load,
                       by_key={s.key: s for s in steps})
    return result


def _units_path(spec, out, entry, step, by_key):
    """The unit table a ``needs_units`` step reads: its file, or its source step's table."""
    if entry.options.get("units") is not None:
        return spec.path.parent / entry.options["units"]
    (source,) = (by_key[k] for k in step.deps)  # the same model: always in this group
    source_entry = next(a for a in spec.analyses if a.name == source.analysis)
    analysis = ANALYSES[source_entry.kind]
    return Path(out) / source.folder / analysis.units_table(
        analysis.build_options(source_entry.options))


def _run_steps(spec, out, steps, result, *, retries, load, by_key):
    models = _Models(spec, load, result)
    entries = {a.name: a for a in spec.analyses}
    for step in steps:
        entry = entries[step.analysis]
        analysis = ANALYSES[entry.kind]
        options = analysis.build_options(entry.options, seed=step.seed,
                                         random_state=step.random_state)
        if any(by_key[k].folder in result.failed for k in step.deps):
            result.failed[step.folder] = "a step it depends on failed"
            continue
        if analysis.needs_units:
            units = _units_path(spec, out, entry, step, by_key)
            options = dataclasses.replace(options, units=str(units), units_from=None)
        paradigm = spec.paradigm(step.paradigm).path

        def write(tmp, analysis=analysis, options=options, paradigm=paradigm, model=step.model):
            analysis.run(paradigm, lambda: models.get(model), tmp, options=options)

        error = _attempt(lambda step=step, write=write: _write_step(step, out, write),
                         retries, step.folder)
        if error is None:
            result.ran.append(step.folder)
        else:
            result.failed[step.folder] = error


def run_pool_step(spec, out, step, deps, *, retries=1):
    """Pool the seeds of one analysis x model x paradigm (no model needed)."""
    from probing.pipeline.experiment.experiment_spec import load_experiment

    spec = spec if hasattr(spec, "analyses") else load_experiment(spec)
    result = GroupResult()
    if step_is_cached(out, step):
        result.cached.append(step.folder)
        return result
    entry = next(a for a in spec.analyses if a.name == step.analysis)
    pool = ANALYSES[entry.kind].pool
    folders = [Path(out) / d.folder for d in deps]
    labels = [d.folder.rpartition("/")[2] for d in deps]

    def write(tmp):
        pool_step_tables(folders, labels, pool, model=step.model, paradigm=step.paradigm, out=tmp)

    error = _attempt(lambda: _write_step(step, out, write), retries, step.folder)
    if error is None:
        result.ran.append(step.folder)
    else:
        result.failed[step.folder] = error
    return result


def pool_ready(step, by_key, result):
    """The dependencies of a pool step, or None when one of them failed."""
    deps = [by_key[k] for k in step.deps]
    if any(d.folder in result.failed for d in deps):
        result.failed[step.folder] = "a step it pools failed"
        return None
    return deps


def run_serial(spec, out, steps, *, retries=1, load=None, threads=None):
    """Run the plan in this process: one group after another, then the pools."""
    result = GroupResult()
    for group in group_steps(spec, steps).values():
        result.merge(run_model_group(spec, out, group, retries=retries, load=load,
                                     threads=threads))
    by_key = {s.key: s for s in steps}
    for step in (s for s in steps if s.kind == "pool"):
        deps = pool_ready(step, by_key, result)
        if deps is not None:
            result.merge(run_pool_step(spec, out, step, deps, retries=retries))
    return result
