"""The utility commands, declared once: ``list``, ``validate``, ``generate``, ``cache``,
``demo``, ``experiment``, ``status`` and ``report``.

None of them writes a run folder through :func:`probing.commands.write_run_folder` (they
list, check, or run other commands), so each is a :class:`probing.commands.Utility`: a
frozen options class (positional arguments included) and one function. The CLI and the
options reference are generated from these declarations, as for the commands of
:mod:`probing.pipeline.commands`. Engine modules are imported inside each function so
that ``probing --help`` imports no pandas or torch.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from probing._core.errors import ProbingError
from probing._core.values import CACHE_ACTIONS, EXECUTORS
from probing.commands import Options, Utility, option
from probing.pipeline.commands.run import RunModelSettings, RunOptions

__all__ = ["UTILITIES"]


@dataclasses.dataclass(frozen=True)
class ListOptions(Options):
    dir: Path | None = option(None, "another folder of paradigm files", type=Path)


def run_list(options):
    from probing._core.locations import shipped_files
    from probing.paradigms import load_paradigm, shipped_paradigms

    for path in shipped_paradigms(options.dir):
        spec = load_paradigm(path)
        print(f"{spec.name:<28} {spec.kind:<14} {path}  {spec.description}")
    if options.dir is None:  # read, not planned: `probing experiment NAME --dry-run` checks one
        from probing.paradigms.yamlio import read_yaml

        for path in shipped_files("experiment").values():
            about = read_yaml(path)[0].get("description", "")
            print(f"{path.stem:<28} {'experiment':<14} {path}  {about}")


@dataclasses.dataclass(frozen=True)
class ValidateOptions(Options):
    files: tuple = option((), "paradigm files", type=Path, positional=True, nargs="+",
                          metavar="FILE")


def run_validate(options):
    from probing.paradigms import validate_paradigm

    failed = 0
    for path in options.files:
        try:  # validation generates once with the file's seed: what passes, generates
            spec, stimuli = validate_paradigm(path)
        except ProbingError as err:
            print(f"probing validate: error: {err}", file=sys.stderr)
            failed += 1
            continue
        print(f"ok {path} ({spec.kind}, {spec.name}; generates {len(stimuli.table)} stimuli)")
    return 2 if failed else 0


def _check_output_path(path):
    """Fail early (before any work) on an output path we cannot write."""
    if path.suffix not in (".csv", ".parquet"):
        raise ProbingError(f"--out {path}: must end in .csv or .parquet")
    if not path.parent.exists():
        raise ProbingError(f"--out {path}: folder {path.parent} does not exist")


@dataclasses.dataclass(frozen=True)
class GenerateOptions(Options):
    file: Path | None = option(None, "paradigm file", type=Path, positional=True, metavar="FILE")
    seed: int | None = option(None, "override the file's seed", type=int)
    out: Path | None = option(None, "output file (.csv or .parquet; default: the stimuli table "
                              "as CSV on stdout)", type=Path, check=_check_output_path)


def run_generate(options):
    from probing.paradigms import generate, load_paradigm
    from probing.stimuli import save_stimuli

    stimuli = generate(load_paradigm(options.file), seed=options.seed)
    if options.out is None:
        stimuli.table.to_csv(sys.stdout, index=False, lineterminator="\n")
        return 0
    written = save_stimuli(stimuli, options.out)
    print(f"{len(stimuli.table)} stimuli of {stimuli.paradigm} ({stimuli.kind}) -> "
          + ", ".join(str(p) for p in written))
    print(stimuli.summary().to_string(index=False))
    if stimuli.info.get("balance"):  # frequency and length per condition, with a test
        import pandas as pd

        print(pd.DataFrame(stimuli.info["balance"]).to_string(index=False, float_format="%.3g"))
    return 0


@dataclasses.dataclass(frozen=True)
class CacheOptions(Options):
    action: str = option("list", "list the entries, or clear them", positional=True,
                         choices=CACHE_ACTIONS, metavar="ACTION")
    keys: tuple = option((), "clear only the entries whose key starts with KEY", type=str,
                         positional=True, nargs="*", metavar="KEY")
    cache_dir: Path | None = option(None, "activations cache (default ~/.cache/probing)",
                                    type=Path)


def run_cache(options):
    from probing.store import clear_cache, list_cache

    if options.action == "clear":
        removed = clear_cache(options.cache_dir, keys=list(options.keys) or None)
        print(f"removed {len(removed)} entr{'y' if len(removed) == 1 else 'ies'}")
        return 0
    for e in list_cache(options.cache_dir):
        status = "complete" if e["complete"] else "partial"
        print(f"{e['key']}  {status:<8} {e['model']}  {e['site']}  {e['pooling']}  "
              f"{e['level']}  layers={e['layers']}  {e['dtype']}  rows={e['n_rows']}  "
              f"{e['bytes'] / 2**20:.1f} MiB")
    return 0


@dataclasses.dataclass(frozen=True)
class DemoOptions(RunOptions):
    """``probing run``'s options, applied to each demo paradigm, and the demo folder."""

    out: Path = option(Path("runs/demo"), "folder of the demo's run folders", type=Path)
    force: bool = option(False, "replace existing run folders (the demo always does)")


def run_demo(options, model):
    from probing.models import load_model
    from probing.paradigms import shipped_paradigms
    from probing.pipeline.demo import run_demo as demo

    lm = load_model(model.model, device=model.device, dtype=model.model_dtype,
                    start_token=model.start_token)
    fields = {f.name for f in dataclasses.fields(RunOptions)}
    run = RunOptions(**{k: v for k, v in dataclasses.asdict(options).items() if k in fields})
    table = demo(lm, options.out, paradigm_dir=shipped_paradigms()[0].parent, options=run)
    print(f"\nAccuracy of {lm.name} (run folders in {options.out}/):")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    return 0


@dataclasses.dataclass(frozen=True)
class ExperimentOptions(Options):
    file: Path | None = option(None, "experiment file", type=Path, positional=True,
                               metavar="EXPERIMENT")
    out: Path | None = option(None, "results folder", type=Path, required=True, metavar="DIR")
    dry_run: bool = option(False, "print the plan and what is cached; run nothing")
    wait: bool = option(False, "when another run holds DIR, wait for it to finish instead of "
                        "refusing")
    executor: str = option("serial", "serial, processes (a local pool) or ray (RAY_ADDRESS or "
                           "a local instance)", choices=EXECUTORS)
    n_jobs: int = option(2, "worker processes (processes executor)", minimum=1)
    retries: int = option(1, "extra tries for a failing step", minimum=0)
    threads: int | None = option(None, "torch CPU threads per model worker (ray: default 1); "
                                 "give runs that must agree byte for byte the same value",
                                 type=int, minimum=1)


def run_experiment(options):
    from probing.pipeline.experiment import run_experiment as run

    result = run(options.file, options.out, executor=options.executor, n_jobs=options.n_jobs,
                 retries=options.retries, threads=options.threads, dry_run=options.dry_run,
                 wait=options.wait)
    if result is None:
        return 0
    print(f"{len(result.ran)} steps run, {len(result.cached)} cached, {len(result.failed)} "
          f"failed; models loaded: {', '.join(result.loads) or 'none'}; results in "
          f"{options.out}")
    for folder, error in result.failed.items():
        print(f"failed: {folder}: {error}", file=sys.stderr)
    return 1 if result.failed else 0


@dataclasses.dataclass(frozen=True)
class FolderOptions(Options):
    folder: Path | None = option(None, "an experiment's (or a command's) --out folder",
                                 type=Path, positional=True, metavar="DIR")


@dataclasses.dataclass(frozen=True)
class StatusOptions(FolderOptions):
    experiment: Path | None = option(None, "the experiment file (default: the one recorded in "
                                     "DIR/manifest.json)", type=Path, metavar="FILE")


def run_status(options):
    from probing.pipeline.experiment.status import experiment_status, format_status

    table = experiment_status(options.folder, path=options.experiment)
    print(format_status(options.folder, table))
    return 0 if (table["state"] == "done").all() else 1


def run_report(options):
    from probing.pipeline.report import write_report

    print(write_report(options.folder))
    return 0


UTILITIES = (
    Utility("list", help="list the shipped paradigms and experiments, one per line",
            description="List the shipped paradigm and experiment files: name, kind, the file "
            "(every command takes the name or the file) and description.",
            options=ListOptions, run=run_list),
    Utility("validate", help="check paradigm files",
            description="Validate paradigm files; exit 2 if any is invalid.",
            options=ValidateOptions, run=run_validate),
    Utility("generate", help="generate the stimuli of a paradigm",
            description="Generate stimuli. Without --out the stimuli table is written to "
            "stdout as CSV; with --out FILE (.csv or .parquet) the regions (FILE stem + "
            ".regions), words and metadata are written beside it.",
            options=GenerateOptions, run=run_generate),
    Utility("demo", help="the main job on the embedded default model",
            description="Run a BLiMP subset, the agreement paradigms and a SyntaxGym suite on "
            "a model (default: the embedded SmolLM2-135M) and print accuracies.",
            options=DemoOptions, run=run_demo, settings=(RunModelSettings,)),
    Utility("cache", help="list or clear cached activations",
            description="List cached activation entries, or clear all of them (or those whose "
            "key starts with KEY).", options=CacheOptions, run=run_cache),
    Utility("experiment", help="run an experiment file (paradigms x models x analyses), cached",
            description="Validate an experiment file, plan its steps (each keyed by the content "
            "hash of its inputs) and run those not already in DIR: step folders, pooled seeds, "
            "DIR/manifest.json and one record per run in DIR/history/. One run at a time holds "
            "DIR: a second refuses (or waits, --wait). See docs/experiments.md.",
            options=ExperimentOptions, run=run_experiment),
    Utility("status", help="list each step of an experiment folder: done, missing, stale, "
            "changed", description="Plan the experiment again (from the file DIR's last run "
            "recorded, or --experiment) and compare each step's outputs with the SHA-256 hashes "
            "recorded when it completed: done, missing, stale (its inputs changed), changed "
            "(an output edited, added or removed by hand; a rerun recomputes it), orphan (a "
            "step the plan no longer has). Exit code 0 when every step is done, 1 otherwise.",
            options=StatusOptions, run=run_status),
    Utility("report", help="write DIR/report.html from an experiment or run folder",
            description="One self-contained HTML page (figures embedded, no network needed): "
            "methods written from what ran (the run history and manifests), results tables "
            "with intervals and corrected p-values, figures and provenance. DIR is the --out "
            "folder of probing experiment or of a single command (probing run, probe, rsa...).",
            options=FolderOptions, run=run_report),
)
