"""``probing experiment``: validate, plan, run (or only show the plan), write the manifest."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

import probing
from probing._core.errors import ProbingError
from probing._core.io import write_text_atomic
from probing.paradigms import generate, load_paradigm
from probing.pipeline.experiment.execute import run_serial
from probing.pipeline.experiment.plan import plan_experiment, step_is_cached
from probing.pipeline.experiment.registry import ANALYSES
from probing.pipeline.experiment.spec import load_experiment
from probing.pipeline.manifest import file_sha256, now, package_versions

__all__ = ["EXECUTORS", "describe_plan", "run_experiment"]

EXECUTORS = ("serial", "processes", "ray")
MANIFEST = "manifest.json"


def describe_plan(steps, out):
    """One line per step: ``cached`` or ``run``, its kind, folder and short key."""
    lines = []
    for step in steps:
        state = "cached" if step_is_cached(out, step) else "run"
        lines.append(f"{state:6} {step.kind:5} {step.folder}  [{step.key[:12]}]")
    n_cached = sum(line.startswith("cached") for line in lines)
    lines.append(f"{len(steps)} steps: {n_cached} cached, {len(steps) - n_cached} to run")
    return "\n".join(lines)


def run_experiment(path, out, *, executor="serial", n_jobs=2, retries=1, threads=None,
                   dry_run=False, load=None, echo=print):
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
    load : callable, optional
        ``load(path_or_name, dtype)``, serial executor only (tests count loads with it).
    echo : callable

    Returns
    -------
    GroupResult or None
        ``ran``, ``cached``, ``failed`` step folders and the models loaded (None for a
        dry run).
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
    out.mkdir(parents=True, exist_ok=True)
    started = now()
    if executor == "serial":
        result = run_serial(spec, out, steps, retries=retries, load=load, threads=threads)
    elif executor == "processes":
        from probing.pipeline.experiment.sweep import run_processes

        result = run_processes(spec, out, steps, n_jobs=n_jobs, retries=retries,
                               threads=threads)
    else:
        from probing.pipeline.experiment.sweep import run_ray

        result = run_ray(spec, out, steps, retries=retries, threads=threads)
    shutil.copyfile(spec.path, out / "experiment.yaml")
    manifest = build_experiment_manifest(spec, steps, result, started=started, executor=executor)
    manifest["threads"] = threads
    write_text_atomic(out / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")
    return result


def build_experiment_manifest(spec, steps, result, *, started, executor):
    """Everything the report and a reader need to know what produced the folder."""
    status = {**dict.fromkeys(result.cached, "cached"), **dict.fromkeys(result.ran, "ran"),
              **dict.fromkeys(result.failed, "failed")}
    return {
        "experiment": {"name": spec.name, "description": spec.description,
                       "path": str(spec.path), "sha256": file_sha256(spec.path)},
        "started": started, "finished": now(), "executor": executor,
        "paradigms": [_paradigm_record(p) for p in spec.paradigms],
        "models": [{"name": m.name, "path": m.path, "dtype": m.dtype,
                    "reinitialize": m.reinitialize,
                    "seed": m.seed if m.is_control else None} for m in spec.models],
        "analyses": [{"name": a.name, "kind": a.kind, "options": a.options,
                      "seeds": list(a.seeds), "paradigms": list(a.paradigms),
                      "models": list(a.models), "describe": ANALYSES[a.kind].describe,
                      "references": list(ANALYSES[a.kind].references)} for a in spec.analyses],
        "steps": [{**s.record(), "folder": s.folder, "status": status.get(s.folder, "skipped"),
                   "error": result.failed.get(s.folder)} for s in steps],
        "models_loaded": result.loads, "devices": result.devices, "tasks": result.tasks,
        "probing_version": probing.__version__, "git_commit": git_commit(),
        "packages": package_versions(), "hardware": hardware(),
    }


def _paradigm_record(entry):
    spec = load_paradigm(entry.path)
    counts = {str(seed): len(generate(spec, seed=seed).table) for seed in entry.seeds}
    return {"name": entry.name, "path": str(entry.path), "sha256": file_sha256(entry.path),
            "kind": entry.kind, "description": spec.description, "reference": spec.reference,
            "seeds": list(entry.seeds), "n_stimuli": counts,
            "factors": {name: list(levels) for name, levels in spec.factors}}


def git_commit():
    """The commit of the checkout ``probing`` runs from (None when it is not a checkout)."""
    root = Path(probing.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], check=True,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def hardware():
    """CPU count, machine, memory and GPUs (``nvidia-smi`` names, when there is one)."""
    record = {"machine": platform.machine(), "platform": platform.platform(),
              "python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        record["memory_gib"] = round(pages / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    try:
        names = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                               check=True, capture_output=True, text=True, timeout=10).stdout
        record["gpus"] = [n.strip() for n in names.splitlines() if n.strip()]
    except (OSError, subprocess.SubprocessError):
        record["gpus"] = []
    return record
