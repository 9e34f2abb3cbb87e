"""``probing fresh-vs-published`` and ``probing compare-reading``."""

from __future__ import annotations

import sys
from pathlib import Path

from probing._core.defaults import N_BOOT, RANDOM_STATE, TIES
from probing._core.values import TIE_RULES
from probing.cli.commands import add_model_options, load_from_args


def _shipped(name):
    from probing.paradigms import shipped_paradigms

    folder = shipped_paradigms()[0].parent
    return folder / name if name else folder


def add_fresh(sub):
    p = sub.add_parser("fresh-vs-published",
                       help="accuracy on published (BLiMP) vs freshly generated pairs",
                       description="Score the BLiMP phenomena of a mapping and the generated "
                       "paradigms matched to them (default: the shipped "
                       "paradigms/fresh_vs_published.csv) and compare the model's accuracy on "
                       "published vs fresh items: the difference, its Newcombe interval and a "
                       "two-proportion score test. Writes DIR/fresh_vs_published.csv, "
                       "pairs_published.csv, pairs_fresh.csv and manifest.json.")
    p.add_argument("--mapping", type=Path, default=None,
                   help="CSV with phenomenon, fresh_paradigm[, conditions, match, note] "
                   "(default: the shipped mapping)")
    p.add_argument("--blimp", type=Path, default=None,
                   help="folder of BLiMP .jsonl files (default: the bundled sample, data/blimp)")
    p.add_argument("--paradigms", type=Path, default=None,
                   help="folder of the fresh paradigm files (default: the shipped paradigms)")
    p.add_argument("--limit", type=int, default=None,
                   help="published pairs per phenomenon (default: all in the folder)")
    p.add_argument("--ties", default=TIES, choices=list(TIE_RULES),
                   help=f"what a tied pair scores (default {TIES}; the exact test leaves ties out)")
    p.add_argument("--correction", default="holm", choices=["holm", "bonferroni", "fdr_bh"],
                   help="correction across the phenomena's difference tests (default holm)")
    p.add_argument("--out", type=Path, default=Path("runs/fresh_vs_published"))
    p.add_argument("--force", action="store_true", help="replace an existing run folder")
    add_model_options(p, deprecated_dtype=False)
    p.set_defaults(func=run_fresh)


def run_fresh(args):
    from probing._core.errors import ProbingError
    from probing._core.io import make_folder
    from probing.pipeline.fresh import run_fresh_published

    if args.batch_size < 1:
        raise ProbingError(f"--batch-size must be >= 1, got {args.batch_size}")
    paradigm_dir = args.paradigms or _shipped(None)
    blimp = args.blimp or paradigm_dir.parent / "data" / "blimp"
    make_folder(args.out.parent)
    tables = run_fresh_published(lambda: load_from_args(args), args.out,
                                 mapping_path=args.mapping or _shipped("fresh_vs_published.csv"),
                                 blimp_dir=blimp, paradigm_dir=paradigm_dir, seed=args.seed,
                                 limit_per_phenomenon=args.limit, batch_size=args.batch_size,
                                 ties=args.ties, correction=args.correction, force=args.force,
                                 argv=["probing", *sys.argv[1:]])
    table = tables["fresh_vs_published"]
    keep = ["phenomenon", "item_set", "value", "ci_low", "ci_high", "p_val", "p_corr", "n"]
    print(f"wrote {args.out}/")
    print(table[keep].to_string(index=False, float_format=lambda x: f"{x:.3f}"))


def add_compare_reading(sub):
    p = sub.add_parser("compare-reading",
                       help="paired delta-LL test of two reading-times runs on the same words",
                       description="Read two run folders of the same reading-times paradigm "
                       "(two models, or the same model with other options that keep the same "
                       "words) and compare their held-out delta log-likelihood word by word: "
                       "the mean difference (first minus second, nats per word), a paired "
                       "bootstrap interval over texts and a t-test on the per-text mean "
                       "differences. Prints one row; --out writes it as CSV.")
    p.add_argument("first", type=Path, help="run folder with reading.csv")
    p.add_argument("second", type=Path, help="run folder with reading.csv")
    p.add_argument("--n-boot", dest="n_boot", type=int, default=N_BOOT,
                   help=f"bootstrap resamples (default {N_BOOT})")
    p.add_argument("--random-state", dest="random_state", type=int, default=RANDOM_STATE,
                   help=f"seed of the bootstrap (default {RANDOM_STATE})")
    p.add_argument("--out", type=Path, default=None, help="CSV file to write the row to")
    p.set_defaults(func=run_compare_reading)


def run_compare_reading(args):
    from probing.pipeline.alignment_reading import compare_reading_runs

    row = compare_reading_runs(args.first, args.second, n_boot=args.n_boot,
                               random_state=args.random_state)
    if args.out is not None:
        from probing._core.io import write_table

        write_table(row, args.out)  # atomic
    print(row.to_string(index=False, float_format=lambda x: f"{x:.4g}"))


REGISTRY = (add_fresh, add_compare_reading)
