"""``probing lesion``: ablate one unit set in several paradigms, corrected across all."""

from __future__ import annotations

import sys
from pathlib import Path

from probing._core.values import ABLATIONS
from probing.cli.commands import add_deprecated_flag, add_model_options, load_from_args


def add_lesion(sub):
    p = sub.add_parser("lesion", help="ablate a unit set in several paradigms vs random sets",
                       description="Run `probing ablate` with the units of TABLE in each "
                       "PARADIGM (one model load; DIR/<paradigm>/ each a full ablate run "
                       "folder) and correct the p-values across every phenomenon of every "
                       "paradigm; write DIR/lesion.csv (rank p and normal-null p against the "
                       "random sets, both Holm-corrected), the joined ablation tables, "
                       "lesion.png and manifest.json.")
    p.add_argument("files", type=Path, nargs="+", metavar="PARADIGM")
    p.add_argument("--units", type=Path, required=True, metavar="TABLE",
                   help="a .csv or .parquet unit table (a localizer's units.csv, ...)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="study folder")
    add_model_options(p, deprecated_dtype=False)
    p.set_defaults(batch_size=16)
    p.add_argument("--ablation", default="zero", choices=ABLATIONS,
                   help="what each unit is set to: zero (default), mean (over each paradigm's "
                   "own stimuli) or resample (its value at a token of another of the "
                   "paradigm's stimuli, drawn with --random-state)")
    add_deprecated_flag(p, "--op", "--ablation", dest="ablation", choices=ABLATIONS)
    p.add_argument("--n-sets", type=int, default=100, help="random matched sets (100)")
    p.add_argument("--limit", type=int, default=None, help="the first N items of each paradigm")
    p.add_argument("--n-boot", type=int, default=2000, help="item bootstrap resamples (2000)")
    p.add_argument("--random-state", type=int, default=0, help="seed of resampling and sets")
    p.add_argument("--resume", action="store_true",
                   help="reuse the finished paradigm folders already in DIR (same options, "
                   "units and model)")
    p.add_argument("--force", action="store_true", help="replace an existing study folder")
    p.set_defaults(func=run_lesion_command)


def run_lesion_command(args):
    from probing.pipeline.commands.ablate import AblateOptions
    from probing.pipeline.lesion import run_lesion

    options = AblateOptions(ablation=args.ablation, n_sets=args.n_sets, limit=args.limit,
                            n_boot=args.n_boot, random_state=args.random_state,
                            batch_size=args.batch_size, seed=args.seed)
    tables = run_lesion(args.files, lambda: load_from_args(args), args.out, units=args.units,
                        options=options, resume=args.resume, force=args.force,
                        argv=["probing", *sys.argv[1:]])
    print(f"wrote {args.out}/ (lesion.csv, ablation.csv, ablation_null.csv, lesion.png)")
    print(tables["lesion"][["paradigm", "phenomenon", "metric", "effect", "ci_low", "ci_high",
                            "stat", "p_val", "p_corr", "p_normal", "p_normal_corr"]]
          .assign(phenomenon=lambda t: t["phenomenon"].astype(str).str.slice(0, 40))
          .to_string(index=False, float_format=lambda x: f"{x:.3g}"))


REGISTRY = (add_lesion,)
