"""Subcommands for whole experiments: ``experiment`` (plan and run), ``status`` and
``report``."""

from __future__ import annotations

from pathlib import Path


def add_experiment(sub):
    p = sub.add_parser(
        "experiment", help="run an experiment file (paradigms x models x analyses), cached",
        description="Validate an experiment file, plan its steps (each keyed by the content "
        "hash of its inputs) and run those not already in DIR: step folders, pooled seeds, "
        "DIR/manifest.json and one record per run in DIR/history/. One run at a time holds "
        "DIR: a second refuses (or waits, --wait). See docs/experiments.md.")
    p.add_argument("file", type=Path, metavar="EXPERIMENT")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="results folder")
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan and what is cached; run nothing")
    p.add_argument("--wait", action="store_true",
                   help="when another run holds DIR, wait for it to finish instead of refusing")
    p.add_argument("--executor", default="serial", choices=["serial", "processes", "ray"],
                   help="serial (default), processes (a local pool) or ray (RAY_ADDRESS or a "
                   "local instance)")
    p.add_argument("--n-jobs", type=int, default=2, help="worker processes (processes executor)")
    p.add_argument("--retries", type=int, default=1, help="extra tries for a failing step")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads per model worker (ray: default 1); give runs that "
                   "must agree byte for byte the same value")
    p.set_defaults(func=_experiment)


def _experiment(args):
    import sys

    from probing._core.errors import ProbingError
    from probing.pipeline.experiment import run_experiment

    if args.retries < 0 or args.n_jobs < 1 or (args.threads is not None and args.threads < 1):
        raise ProbingError("--retries must be >= 0, --n-jobs and --threads >= 1")
    result = run_experiment(args.file, args.out, executor=args.executor, n_jobs=args.n_jobs,
                            retries=args.retries, threads=args.threads, dry_run=args.dry_run,
                            wait=args.wait)
    if result is None:
        return 0
    print(f"{len(result.ran)} steps run, {len(result.cached)} cached, {len(result.failed)} "
          f"failed; models loaded: {', '.join(result.loads) or 'none'}; results in {args.out}")
    for folder, error in result.failed.items():
        print(f"failed: {folder}: {error}", file=sys.stderr)
    return 1 if result.failed else 0


def add_status(sub):
    p = sub.add_parser(
        "status", help="list each step of an experiment folder: done, missing, stale, changed",
        description="Plan the experiment again (from the file DIR's last run recorded, or "
        "--experiment) and compare each step's outputs with the SHA-256 hashes recorded when "
        "it completed: done, missing, stale (its inputs changed), changed (an output edited, "
        "added or removed by hand; a rerun recomputes it), orphan (a step the plan no longer "
        "has). Exit code 0 when every step is done, 1 otherwise.")
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("--experiment", type=Path, default=None, metavar="FILE",
                   help="the experiment file (default: the one recorded in DIR/manifest.json)")
    p.set_defaults(func=_status)


def _status(args):
    from probing.pipeline.experiment.status import experiment_status, format_status

    table = experiment_status(args.folder, path=args.experiment)
    print(format_status(args.folder, table))
    return 0 if (table["state"] == "done").all() else 1


def add_report(sub):
    p = sub.add_parser(
        "report", help="write DIR/report.html from an experiment or run folder",
        description="One self-contained HTML page (figures embedded, no network needed): "
        "methods written from what ran (the run history and manifests), results tables with "
        "intervals and corrected p-values, figures and provenance. DIR is the --out folder of "
        "probing experiment or of a single command (probing run, probe, rsa...).")
    p.add_argument("folder", type=Path, metavar="DIR")
    p.set_defaults(func=_report)


def _report(args):
    from probing.pipeline.report import write_report

    print(write_report(args.folder))
    return 0


REGISTRY = (add_experiment, add_status, add_report)
