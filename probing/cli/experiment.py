"""Subcommands for whole experiments: ``experiment`` (plan and run) and ``report``."""

from __future__ import annotations

from pathlib import Path


def add_experiment(sub):
    p = sub.add_parser(
        "experiment", help="run an experiment file (paradigms x models x analyses), cached",
        description="Validate an experiment file, plan its steps (each keyed by the content "
        "hash of its inputs) and run those not already in DIR: step folders, pooled seeds, "
        "DIR/manifest.json. See docs/experiments.md.")
    p.add_argument("file", type=Path, metavar="EXPERIMENT")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="results folder")
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan and what is cached; run nothing")
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
                            retries=args.retries, threads=args.threads, dry_run=args.dry_run)
    if result is None:
        return 0
    print(f"{len(result.ran)} steps run, {len(result.cached)} cached, {len(result.failed)} "
          f"failed; models loaded: {', '.join(result.loads) or 'none'}; results in {args.out}")
    for folder, error in result.failed.items():
        print(f"failed: {folder}: {error}", file=sys.stderr)
    return 1 if result.failed else 0


def add_report(sub):
    p = sub.add_parser(
        "report", help="write DIR/report.html from an experiment's results folder",
        description="One self-contained HTML page (figures embedded, no network needed): "
        "methods generated from the files, results tables with intervals and corrected "
        "p-values, figures and provenance.")
    p.add_argument("folder", type=Path, metavar="DIR")
    p.set_defaults(func=_report)


def _report(args):
    from probing.pipeline.report import write_report

    print(write_report(args.folder))
    return 0


REGISTRY = (add_experiment, add_report)
