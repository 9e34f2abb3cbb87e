"""Subcommands: each ``add_*`` registers one on the parser and points it at a handler."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from probing._core.defaults import MIXED_TESTS, TIES
from probing._core.errors import ProbingError
from probing._core.layers import parse_layers
from probing._core.values import MODEL_DTYPES, SITES, TIE_RULES
from probing.commands.parser import DeprecatedFlag

__all__ = ["SITES", "add_deprecated_flag", "add_max_memory", "add_model_options",
           "check_layers_syntax", "load_from_args", "max_memory"]



def add_list(sub):
    p = sub.add_parser("list", help="list the shipped paradigms and experiments, one per line",
                       description="List the shipped paradigm and experiment files: name, "
                       "kind, the file (every command takes the name or the file) and "
                       "description.")
    p.add_argument("--dir", type=Path, default=None, help="another folder of paradigm files")
    p.set_defaults(func=run_list)


def run_list(args):
    from probing._core.locations import shipped_files
    from probing.paradigms import load_paradigm, shipped_paradigms

    for path in shipped_paradigms(args.dir):
        spec = load_paradigm(path)
        print(f"{spec.name:<28} {spec.kind:<14} {path}  {spec.description}")
    if args.dir is None:  # read, not planned: `probing experiment NAME --dry-run` checks one
        from probing.paradigms.yamlio import read_yaml

        for path in shipped_files("experiment").values():
            about = read_yaml(path)[0].get("description", "")
            print(f"{path.stem:<28} {'experiment':<14} {path}  {about}")


def add_validate(sub):
    p = sub.add_parser("validate", help="check paradigm files",
                       description="Validate paradigm files; exit 2 if any is invalid.")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.set_defaults(func=run_validate)


def run_validate(args):
    from probing.paradigms import validate_paradigm

    failed = 0
    for path in args.files:
        try:  # validation generates once with the file's seed: what passes, generates
            spec, stimuli = validate_paradigm(path)
        except ProbingError as err:
            print(f"probing validate: error: {err}", file=sys.stderr)
            failed += 1
            continue
        print(f"ok {path} ({spec.kind}, {spec.name}; generates {len(stimuli.table)} stimuli)")
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
    if stimuli.info.get("balance"):  # frequency and length per condition, with a test
        import pandas as pd

        print(pd.DataFrame(stimuli.info["balance"]).to_string(index=False, float_format="%.3g"))


def check_output_path(path):
    """Fail early (before any work) on an output path we cannot write."""
    if path is None:
        return
    if path.suffix not in (".csv", ".parquet"):
        raise ProbingError(f"--out {path}: must end in .csv or .parquet")
    if not path.parent.exists():
        raise ProbingError(f"--out {path}: folder {path.parent} does not exist")


def check_layers_syntax(layers):
    """``--layers`` is ``all`` or distinct integers; ranges are checked on the model."""
    parse_layers(layers)


def add_deprecated_flag(p, old, new, *, dest, **kwargs):
    """Keep ``old`` working for one release as a hidden alias of ``new`` (same ``dest``).

    It is left out of ``--help`` (one flag per meaning is shown) and warns when used.
    """
    p.add_argument(old, dest=dest, action=DeprecatedFlag, new_flag=new, help=argparse.SUPPRESS,
                   **kwargs)


def add_model_options(p, *, deprecated_dtype=True):
    """Flags shared by every command that loads a model.

    ``--model-dtype`` is the dtype the model computes in, in every command; ``--dtype``
    is kept for one release as its deprecated alias where it meant that (``probing run``,
    ``probing demo``); ``probing extract`` used ``--dtype`` for the storage dtype, now
    ``--store-dtype``.
    """
    p.add_argument("--model", default="smollm2-135m",
                   help="hub name, local folder, .gguf file, or 'smollm2-135m' (default)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=None, help="override the paradigm's seed")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    p.add_argument("--model-dtype", dest="model_dtype", default=None, choices=MODEL_DTYPES,
                   help="dtype the model computes in (default float32)")
    if deprecated_dtype:
        add_deprecated_flag(p, "--dtype", "--model-dtype", dest="model_dtype",
                            choices=MODEL_DTYPES)
    p.add_argument("--start-token", default="auto",
                   help="token prepended so the first word is scored: auto (default: the "
                   "model's document-start token; see README), a token TOKEN such as "
                   "'<|endoftext|>', or its integer ID")


def _add_scoring_options(p):
    p.add_argument("--reduction", default="sum", choices=["sum", "mean"],
                   help="pair comparison on summed (default) or per-token mean log-probability")
    p.add_argument("--ties", default=TIES, choices=list(TIE_RULES),
                   help=f"what a tied pair scores (default {TIES}; the exact test leaves ties out)")
    p.add_argument("--mixed-test", default=None, choices=MIXED_TESTS,
                   help="factorial designs: the mixed model's test (default: the paradigm's "
                   "mixed_test, else auto = by item where every item has every cell, else "
                   "Satterthwaite; wald rejects too often with few items)")
    p.add_argument("--correction", default="holm", choices=["holm", "bonferroni", "fdr_bh"],
                   help="multiple-comparison correction across phenomena (default holm)")
    p.add_argument("--truncate", action="store_true",
                   help="truncate stimuli longer than the context window instead of failing")
    p.add_argument("--stride", type=int, default=None,
                   help="score texts longer than the context in sliding windows STRIDE tokens "
                        "apart (causal models; recorded in the manifest)")
    p.add_argument("--force", action="store_true", help="replace an existing run folder")


def _options(args):
    from probing.pipeline.run import RunOptions

    return RunOptions(batch_size=args.batch_size, seed=args.seed, reduction=args.reduction,
                      ties=args.ties, truncate=args.truncate, correction=args.correction,
                      stride=args.stride, mixed_test=args.mixed_test)


def load_from_args(args):
    from probing.models import load_model

    return load_model(args.model, device=args.device, dtype=args.model_dtype,
                      start_token=args.start_token)


def add_demo(sub):
    p = sub.add_parser("demo", help="the main job on the embedded default model",
                       description="Run a BLiMP subset, the agreement paradigms and a SyntaxGym "
                       "suite on a model (default: the embedded SmolLM2-135M) and print accuracies.")
    p.add_argument("--out", type=Path, default=Path("runs/demo"))
    add_model_options(p)
    _add_scoring_options(p)
    p.set_defaults(func=run_demo)


def run_demo(args):
    from probing.paradigms import shipped_paradigms
    from probing.pipeline.demo import run_demo as demo

    lm = load_from_args(args)
    paradigm_dir = shipped_paradigms()[0].parent
    table = demo(lm, args.out, paradigm_dir=paradigm_dir, options=_options(args))
    print(f"\nAccuracy of {lm.name} (run folders in {args.out}/):")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))


def add_max_memory(p):
    """``--max-memory GIB``: the memory a step may plan to use (estimate checked first)."""
    p.add_argument("--max-memory", type=float, default=None, metavar="GIB",
                   help="refuse when the memory estimate exceeds GIB (default: the memory "
                   "available now; 0: no check)")


def max_memory(args):
    """``--max-memory`` in bytes for ``config_context`` (None: the default)."""
    if args.max_memory is None:
        return None
    if args.max_memory < 0:
        raise ProbingError(f"--max-memory must be >= 0 GiB, got {args.max_memory}")
    return int(args.max_memory * 2**30)


def add_cache(sub):
    p = sub.add_parser("cache", help="list or clear cached activations",
                       description="List cached activation entries, or clear all of them "
                       "(or those whose key starts with KEY).")
    p.add_argument("action", choices=["list", "clear"])
    p.add_argument("keys", nargs="*", metavar="KEY")
    p.add_argument("--cache-dir", type=Path, default=None, help="default ~/.cache/probing")
    p.set_defaults(func=run_cache)


def run_cache(args):
    from probing.store import clear_cache, list_cache

    if args.action == "clear":
        removed = clear_cache(args.cache_dir, keys=args.keys or None)
        print(f"removed {len(removed)} entr{'y' if len(removed) == 1 else 'ies'}")
        return 0
    for e in list_cache(args.cache_dir):
        status = "complete" if e["complete"] else "partial"
        print(f"{e['key']}  {status:<8} {e['model']}  {e['site']}  {e['pooling']}  {e['level']}  "
              f"layers={e['layers']}  {e['dtype']}  rows={e['n_rows']}  {e['bytes'] / 2**20:.1f} MiB")
    return 0





def _source_name(path):
    """Check a paradigm file or stimuli table; return its name (for the default folder)."""
    from probing.pipeline.sources import load_paradigm_value

    return load_paradigm_value(path).name
REGISTRY = (add_list, add_validate, add_generate, add_demo, add_cache)
