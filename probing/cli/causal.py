"""Subcommands that intervene on a model: ``patch``, ``mediate`` and ``ablate``."""

from __future__ import annotations

import sys
from pathlib import Path

from probing._core.io import provisional_folder
from probing.cli.commands import _source_name, add_model_options, load_from_args

# Literal copies so that `--help` imports no analysis; the options check them again.
SITES = ("resid_pre", "resid_post", "attn_out", "mlp_out", "head_out")


def _add_common(p, *, site=True):
    p.add_argument("file", type=Path, metavar="PARADIGM")
    p.add_argument("--out", type=Path, default=None,
                   help="run folder (default runs/<paradigm>-<command>)")
    add_model_options(p, deprecated_dtype=False)
    p.set_defaults(batch_size=16)
    p.add_argument("--layers", default="all", help="all (default), or e.g. 0,6,12 or -1")
    if site:
        p.add_argument("--site", default="resid_post", choices=SITES,
                       help="resid_post (default), resid_pre, attn_out, mlp_out, head_out")
    p.add_argument("--limit", type=int, default=None,
                   help="the first N pairs (patch, mediate) or items (ablate)")
    p.add_argument("--n-boot", type=int, default=2000, help="item bootstrap resamples (2000)")
    p.add_argument("--random-state", type=int, default=0, help="seed of resampling and sets")
    p.add_argument("--force", action="store_true", help="replace an existing run folder")


def _add_pairs(p):
    p.add_argument("--contrast", default=None, metavar="FACTOR",
                   help="pair the grammatical members of FACTOR's two levels within an item "
                   "(e.g. subject_number) instead of each pair's good and bad member")
    p.add_argument("--positions", default="regions", choices=["regions", "tokens"],
                   help="one position per region (its last token; default) or per token")
    p.add_argument("--region", default=None, metavar="NAME",
                   help="only this region's position (with --positions regions), e.g. noun, "
                   "or answer (the position that predicts the answer)")
    p.add_argument("--region-token", default="last", choices=["last", "first"],
                   help="a region's position is its last token (default) or its first, "
                   "in each member")
    p.add_argument("--readout", default="sentence", choices=["sentence", "logit_diff"],
                   help="sentence: summed log-probability of each member (members must split "
                   "every word alike; default); logit_diff: good minus bad answer token's "
                   "logit where the answer is predicted (members of any length)")


def _options(args, **extra):
    from probing.pipeline.causal_inputs import CausalOptions

    return CausalOptions(layers=args.layers, site=getattr(args, "site", None) or "resid_post",
                         limit=args.limit, n_boot=args.n_boot, random_state=args.random_state,
                         batch_size=args.batch_size, seed=args.seed, **extra)


def _pair_options(args):
    return {"contrast": args.contrast, "positions": args.positions, "region": args.region,
            "region_token": args.region_token, "readout": args.readout}


def _run(args, command, runner, options, **kwargs):
    """Check the output folder, then run ``runner`` with the model loaded only if needed."""
    out = _out(args, command)

    def loader():
        return load_from_args(args)

    loader.model_name = args.model  # its configuration is read before the weights load
    with provisional_folder(out.parent):  # a default runs/ made here is removed on failure
        tables = runner(args.file, loader, out, options=options,
                        force=args.force, argv=["probing", *sys.argv[1:]], **kwargs)
    return out, tables


def _show(table, digits=".3f"):
    print(table.to_string(index=False, float_format=lambda x: f"{x:{digits}}"))


def _out(args, command):
    from probing.pipeline.run import check_run_folder

    name = _source_name(args.file)  # a bad file (or table) fails before the model loads
    out = args.out or Path("runs") / f"{name}-{command}"
    if out.parent.exists():  # else made around the run (provisional_folder)
        check_run_folder(out, force=args.force)
    return out


def add_patch(sub):
    p = sub.add_parser("patch", help="activation patching between the members of minimal pairs",
                       description="Patch every layer x position (x head) of each pair's target "
                       "member from its source member (denoising: good into bad; noising: the "
                       "other way) and write DIR/manifest.json, patch_pairs.csv, patching.csv "
                       "(effect and restored fraction with item-bootstrap intervals) and a "
                       "heatmap per direction.")
    _add_common(p)
    _add_pairs(p)
    p.add_argument("--per-head", action="store_true", help="one cell per head (--site head_out)")
    p.add_argument("--direction", default="denoising", choices=["denoising", "noising", "both"])
    p.set_defaults(func=run_patch_command)


def run_patch_command(args):
    from probing.pipeline.causal import run_patch

    options = _options(args, per_head=args.per_head, direction=args.direction,
                       **_pair_options(args))
    out, tables = _run(args, "patch", run_patch, options)
    table = tables["patching"]
    rows = table[(table["metric"] == "restored_fraction") & table["effect"].notna()]
    best = rows.loc[rows.groupby(["direction", "position"])["effect"].idxmax()]
    print(f"wrote {out}/ (patching.csv, patching_pairs.csv, {len(tables['patch_pairs'])} "
          f"pairs; {len(tables['excluded_pairs'])} excluded: excluded_pairs.csv)")
    print("largest restored fraction per position:")
    _show(best[["direction", "position", "layer", "effect", "ci_low", "ci_high"]])


def add_mediate(sub):
    p = sub.add_parser("mediate", help="causal mediation by heads, layers or units",
                       description="Total, natural indirect and natural direct effects of each "
                       "head (or layer, or unit) at each position between the members of each "
                       "pair, the top-k mediators and their joint effect; write "
                       "DIR/manifest.json, mediation.csv, mediation_items.csv, "
                       "mediation_joint.csv, top_mediators.csv, top_units.csv (heads, units) "
                       "and mediation.png.")
    _add_common(p, site=False)
    _add_pairs(p)
    p.add_argument("--mediators", default="heads", choices=["heads", "layers", "units"],
                   help="heads (each head of head_out, default), layers (the whole vector "
                   "of --site) or units (each unit of --site: one patched run per unit, "
                   "layer and position; restrict with --layers and --region)")
    p.add_argument("--site", default=None, choices=SITES,
                   help="site of layers and units: resid_post (default), resid_pre, "
                   "attn_out, mlp_out, head_out; heads are always head_out")
    p.add_argument("--top-k", type=int, default=5, help="size of the joint set (default 5)")
    p.add_argument("--split", type=float, default=0.5,
                   help="fraction of items the top-k are selected on (default 0.5); their "
                   "joint effect is measured on the other items (1: the same, biased)")
    p.set_defaults(func=run_mediate_command)


def run_mediate_command(args):
    from probing._core.errors import ProbingError
    from probing.pipeline.causal import run_mediate

    if args.mediators == "heads" and args.site not in (None, "head_out"):
        raise ProbingError(f"--site {args.site}: --mediators heads patches head_out; give "
                           f"--mediators layers or units for another site")
    options = _options(args, mediators=args.mediators, top_k=args.top_k, split=args.split,
                       **_pair_options(args))
    out, tables = _run(args, "mediate", run_mediate, options)
    print(f"wrote {out}/ (mediation.csv, mediation_joint.csv, top_mediators.csv, "
          f"mediation_split.csv: top-k selected on some items, tested on the others)")
    _show(tables["top_mediators"].drop(columns=["model", "paradigm"]))
    _show(tables["mediation_joint"][["k", "metric", "effect", "ci_low", "ci_high"]])


def add_ablate(sub):
    p = sub.add_parser("ablate", help="ablate a unit set against matched random sets",
                       description="Ablate the units of TABLE (layer, site, unit; only rows "
                       "with a true 'selected' when that column exists) at every position and "
                       "compare the paradigm's behaviour with the plain run and with N random "
                       "sets matched per layer and site; write DIR/manifest.json, "
                       "ablation.csv, ablation_behaviour.csv, ablation_null.csv, units.csv, "
                       "random_sets.csv "
                       "and ablation.png.")
    _add_common(p, site=False)
    p.add_argument("--units", type=Path, required=True, metavar="TABLE",
                   help="a .csv or .parquet unit table (a localizer's units.csv, "
                   "probing mediate's top_units.csv, ...)")
    p.add_argument("--op", default="zero", choices=["zero", "mean"],
                   help="zero (default) or mean: each unit's mean over the paradigm's own "
                   "stimuli")
    p.add_argument("--n-sets", type=int, default=100,
                   help="random matched sets of the null (default 100: p-values down to 1/101)")
    p.set_defaults(func=run_ablate_command)


def run_ablate_command(args):
    from probing.pipeline.ablate import run_ablate
    from probing.pipeline.causal_inputs import load_unit_table

    options = _options(args, op=args.op, n_sets=args.n_sets)
    load_unit_table(args.units)  # before the model loads
    out, tables = _run(args, "ablate", run_ablate, options, units=args.units)
    print(f"wrote {out}/ (ablation.csv, ablation_behaviour.csv, ablation_null.csv)")
    _show(tables["ablation"].drop(columns=["model", "paradigm", "correction"]), ".3g")


REGISTRY = (add_patch, add_mediate, add_ablate)
