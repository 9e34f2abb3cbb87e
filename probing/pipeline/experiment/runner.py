"""``probing experiment``: validate, plan, run (or only show the plan), record the run.

Every input (paradigms, data files, model names and paths, options) is checked and every
step keyed before the results folder is created. A run then holds the folder's lock
(:mod:`~probing.pipeline.experiment.lock`), runs what is not done, adds its record to
``DIR/history/`` (:mod:`~probing.pipeline.experiment.history`) and rewrites
``DIR/manifest.json``, the folder's state as this run left it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import probing
from probing._core.errors import ProbingError
from probing._core.io import make_folder, write_text_atomic
from probing._core.values import EXECUTORS
from probing.paradigms import generate, load_paradigm
from probing.pipeline.experiment.experiment_spec import load_experiment
from probing.pipeline.experiment.history import build_record, write_record
from probing.pipeline.experiment.lock import folder_lock
from probing.pipeline.experiment.plan import plan_experiment, step_state
from probing.pipeline.experiment.registry import ANALYSES
from probing.pipeline.experiment.step_runner import run_serial
from probing.pipeline.manifest import file_sha256, git_commit, hardware, now, package_versions

__all__ = ["EXECUTORS", "describe_plan", "run_experiment"]

MANIFEST = "manifest.json"
_PLAN_WORDS = {"done": "cached", "missing": "run", "stale": "run", "changed": "rerun"}


def describe_plan(steps, out):
    """One line per step: ``cached``, ``run`` or ``rerun`` (outputs changed by hand), its
    kind, folder and short key."""
    lines, counts = [], {}
    for step in steps:
        state = _PLAN_WORDS[step_state(out, step)]
        counts[state] = counts.get(state, 0) + 1
        lines.append(f"{state:6} {step.kind:5} {step.folder}  [{step.key[:12]}]")
    n_cached = counts.get("cached", 0)
    lines.append(f"{len(steps)} steps: {n_cached} cached, {len(steps) - n_cached} to run"
                 + (f" ({counts['rerun']} changed by hand)" if "rerun" in counts else ""))
    return "\n".join(lines)


def run_experiment(path, out, *, executor="serial", n_jobs=2, retries=1, threads=None,
                   dry_run=False, wait=False, load=None, echo=print):
    """Run an experiment file into the results folder ``out``.

    Parameters
    ----------
    path : str or path-like
        The experiment file (``docs/experiments.md``).
    out : str or path-like
        Results folder; created if missing, reused (cached steps) if present.
    executor : {"serial", "processes", "ray"}
    n_jobs : int
        Worker processes for ``processes``.
    retries : int
        Extra tries for a step that raises (not for input errors).
    threads : int, optional
        torch's CPU threads per model worker (Ray default 1). CPU results can differ in
        the last bits between thread counts: give the same value to runs that must agree
        byte for byte.
    dry_run : bool
        Print the plan (and what is cached) and stop.
    wait : bool
        When another run holds ``out``, wait for it instead of refusing.
    load : callable, optional
        ``load(path_or_name, dtype)``, serial executor only (tests count loads with it).
    echo : callable

    Returns
    -------
    GroupResult or None
        ``ran``, ``cached``, ``failed`` step folders and the models loaded (None for a
        dry run).

    Raises
    ------
    ProbingError
        A bad input (before anything is written), or ``out`` is held by another run and
        ``wait`` is False.
    """
    if executor not in EXECUTORS:
        raise ProbingError(f"--executor {executor!r}: allowed {', '.join(EXECUTORS)}")
    spec = load_experiment(path)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ProbingError(f"--out {out}: exists and is not a folder")
    steps = plan_experiment(spec)
    if dry_run:
        echo(describe_plan(steps, out))
        return None
    make_folder(out)
    with folder_lock(out, wait=wait, echo=echo):
        recomputed = [s.folder for s in steps if step_state(out, s) == "changed"]
        if recomputed:
            echo(f"recomputing {len(recomputed)} step(s) whose outputs were changed by hand: "
                 f"{', '.join(recomputed[:5])}{' ...' if len(recomputed) > 5 else ''}")
        started = now()
        result = _execute(spec, out, steps, executor=executor, n_jobs=n_jobs,
                          retries=retries, load=load, threads=threads)
        shutil.copyfile(spec.path, out / "experiment.yaml")
        record = build_record(spec, out, result, started=started, executor=executor,
                              threads=threads, recomputed=recomputed)
        write_record(out, record)
        manifest = build_experiment_manifest(spec, steps, result, record)
        write_text_atomic(out / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")
    return result


def _execute(spec, out, steps, *, executor, n_jobs, retries, load, threads):
    if executor == "serial":
        return run_serial(spec, out, steps, retries=retries, load=load, threads=threads)
    if executor == "processes":
        from probing.pipeline.experiment.distributed import run_processes

        return run_processes(spec, out, steps, n_jobs=n_jobs, retries=retries, threads=threads)
    from probing.pipeline.experiment.distributed import run_ray

    return run_ray(spec, out, steps, retries=retries, threads=threads)


def build_experiment_manifest(spec, steps, result, record):
    """The folder's state after a run: the experiment, its steps and this run's record.

    ``record`` is the run's history record (its command, times, models loaded...); the
    report combines the records of ``DIR/history/`` rather than trusting this one run.
    """
    status = {**dict.fromkeys(result.cached, "cached"), **dict.fromkeys(result.ran, "ran"),
              **dict.fromkeys(result.failed, "failed")}
    return {
        "experiment": {"name": spec.name, "description": spec.description,
                       "path": str(Path(spec.path).resolve()), "sha256": file_sha256(spec.path)},
        "started": record["started"], "finished": record["finished"],
        "executor": record["executor"], "threads": record["threads"],
        "command": record["command"], "cwd": record["cwd"],
        "paradigms": [_paradigm_record(p) for p in spec.paradigms],
        "models": [{"name": m.name, "path": m.path, "dtype": m.dtype,
                    "reinitialize": m.reinitialize,
                    "seed": m.seed if m.is_control else None} for m in spec.models],
        "analyses": [_analysis_record(spec, a) for a in spec.analyses],
        "steps": [{**s.record(), "folder": s.folder, "status": status.get(s.folder, "skipped"),
                   "error": result.failed.get(s.folder)} for s in steps],
        "models_loaded": sorted(result.models), "devices": result.devices,
        "tasks": result.tasks, "probing_version": probing.__version__,
        "git_commit": git_commit(), "packages": package_versions(), "hardware": hardware(),
    }


def _analysis_record(spec, entry):
    analysis = ANALYSES[entry.kind]
    options = analysis.build_options(entry.options)
    kinds = sorted({spec.paradigm(p).kind for p in entry.paradigms})
    describe, references = analysis.methods(kinds)
    return {"name": entry.name, "kind": entry.kind, "options": entry.options,
            "resolved_options": _jsonable(options), "seeds": list(entry.seeds),
            "paradigms": list(entry.paradigms), "paradigm_kinds": kinds,
            "models": list(entry.models), "describe": describe,
            "references": list(references)}


def _jsonable(options):
    import dataclasses

    return json.loads(json.dumps(dataclasses.asdict(options), default=str))


def _paradigm_record(entry):
    """The paradigm's file, reference and design as generated for each seed it ran with."""
    spec = load_paradigm(entry.path)
    seeds = [spec.seed if s is None else s for s in entry.seeds]
    tables = {str(seed): generate(spec, seed=seed).table for seed in seeds}
    table = next(iter(tables.values()))
    factors = {name: list(levels) for name, levels in spec.factors}
    design = {"kind": spec.kind, "factors": factors,
              "n_items": int(table["item_id"].nunique()) if "item_id" in table else None,
              "n_conditions": int(table["condition"].nunique()) if "condition" in table
              else None, "predictions": list(spec.predictions)}
    return {"name": entry.name, "path": str(entry.path), "sha256": file_sha256(entry.path),
            "kind": entry.kind, "description": spec.description, "reference": spec.reference,
            "seeds": seeds, "n_stimuli": {s: len(t) for s, t in tables.items()},
            "factors": factors, "design": design}
