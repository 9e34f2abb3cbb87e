"""Subcommands: each ``add_*`` registers one on the parser and points it at a handler."""

from __future__ import annotations

import sys
from pathlib import Path

from probing._core.errors import ProbingError


def add_list(sub):
    p = sub.add_parser("list", help="list the shipped paradigms, one per line",
                       description="List the paradigm files shipped in paradigms/.")
    p.add_argument("--dir", type=Path, default=None, help="another folder of paradigm files")
    p.set_defaults(func=run_list)


def run_list(args):
    from probing.paradigms import load_paradigm, shipped_paradigms

    for path in shipped_paradigms(args.dir):
        spec = load_paradigm(path)
        print(f"{spec.name:<28} {spec.kind:<14} {spec.description}")


def add_validate(sub):
    p = sub.add_parser("validate", help="check paradigm files",
                       description="Validate paradigm files; exit 2 if any is invalid.")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.set_defaults(func=run_validate)


def run_validate(args):
    from probing.paradigms import load_paradigm

    failed = 0
    for path in args.files:
        try:
            spec = load_paradigm(path)
        except ProbingError as err:
            print(f"probing validate: error: {err}", file=sys.stderr)
            failed += 1
            continue
        print(f"ok {path} ({spec.kind}, {spec.name})")
    return 2 if failed else 0


def add_generate(sub):
    p = sub.add_parser("generate", help="generate the stimuli of a paradigm",
                       description="Generate stimuli. Without --out the stimuli table is "
                       "written to stdout as CSV; with --out FILE (.csv or .parquet) the "
                       "regions (FILE stem + .regions), words and metadata are written beside it.")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--seed", type=int, default=None, help="override the file's seed")
    p.add_argument("--out", type=Path, default=None, help="output file (.csv or .parquet)")
    p.set_defaults(func=run_generate)


def run_generate(args):
    from probing.paradigms import generate, load_paradigm
    from probing.stimuli import save_stimuli

    check_output_path(args.out)
    stimuli = generate(load_paradigm(args.file), seed=args.seed)
    if args.out is None:
        stimuli.table.to_csv(sys.stdout, index=False, lineterminator="\n")
        return 0
    written = save_stimuli(stimuli, args.out)
    print(f"{len(stimuli.table)} stimuli of {stimuli.paradigm} ({stimuli.kind}) -> "
          + ", ".join(str(p) for p in written))
    print(stimuli.summary().to_string(index=False))


def check_output_path(path):
    """Fail early (before any work) on an output path we cannot write."""
    if path is None:
        return
    if path.suffix not in (".csv", ".parquet"):
        raise ProbingError(f"--out {path}: must end in .csv or .parquet")
    if not path.parent.exists():
        raise ProbingError(f"--out {path}: folder {path.parent} does not exist")


def add_demo(sub):
    p = sub.add_parser("demo", help="the main job on the embedded default model",
                       description="Generate every shipped paradigm and run the default model.")
    p.add_argument("--out", type=Path, default=Path("runs/demo"))
    p.set_defaults(func=run_demo)


def run_demo(args):
    from probing.paradigms import generate, load_paradigm, shipped_paradigms

    for path in shipped_paradigms():
        stimuli = generate(load_paradigm(path))
        counts = stimuli.summary()
        print(f"{stimuli.paradigm:<28} {stimuli.kind:<14} {len(stimuli.table):>6} stimuli, "
              f"{len(counts)} condition(s)")


REGISTRY = (add_list, add_validate, add_generate, add_demo)
