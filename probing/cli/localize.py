"""``probing localize``: a functional localizer (e.g. sentences vs non-words) for units."""

from __future__ import annotations

import sys
from pathlib import Path

from probing._core.config import config_context
from probing.cli.commands import SITES, add_model_options, check_layers_syntax, load_from_args


def add_localize(sub):
    p = sub.add_parser("localize", help="functional localizer for units (GLM contrast)",
                       description="Extract the activations of a paradigm's stimuli in the "
                       "contrast's two conditions, test every unit with nilearn's OLS GLM (or "
                       "Welch's t-test), select units (top k%%, FDR or max-T FWE), measure the "
                       "split-half reliability of the selection and write DIR/manifest.json, "
                       "units.csv, units_by_half.csv, reliability.csv, layer_counts.csv, "
                       "stimuli.csv, response_choice.csv, selected_per_layer.png and unit_stats.png.")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--contrast", required=True,
                   help="two conditions of the paradigm as A-B, e.g. sentences-nonwords")
    p.add_argument("--out", type=Path, default=None,
                   help="run folder (default runs/<paradigm>-localize)")
    add_model_options(p, deprecated_dtype=False)
    p.add_argument("--layers", default="all", help="all (default), or e.g. 0,6,12 or -1")
    p.add_argument("--site", default="resid_post", choices=SITES,
                   help="recording site: resid_post (default), mlp_out, attn_out")
    p.add_argument("--pooling", default="last",
                   help="last (default) token, mean over the text's tokens, or words (mean of "
                   "the words' mean token vectors)")
    p.add_argument("--responses", default="raw", choices=["raw", "absolute"],
                   help="signed activations (default) or their absolute value")
    p.add_argument("--test", default="glm", choices=["glm", "welch"],
                   help="nilearn OLS GLM (default) or Welch's unequal-variance t-test")
    p.add_argument("--nuisance", default="",
                   help="comma-separated nuisance regressors: n_tokens, n_words, n_chars")
    p.add_argument("--selection", default="top", choices=["top", "fdr", "fwe"],
                   help="top k%% (default), Benjamini-Hochberg, or max-T permutation FWE")
    p.add_argument("--top-percent", type=float, default=1.0, help="k of top k%% (default 1)")
    p.add_argument("--alpha", type=float, default=0.05, help="FDR / FWE level (default 0.05)")
    p.add_argument("--per-layer", action="store_true",
                   help="select within each layer instead of over the whole model")
    p.add_argument("--alternative", default="greater",
                   choices=["greater", "less", "two-sided"], help="A > B (default)")
    p.add_argument("--split", default="auto",
                   help="column that halves the stimuli (default: run if present, else items)")
    p.add_argument("--n-perm", type=int, default=1000, help="max-T permutations (default 1000)")
    p.add_argument("--random-state", type=int, default=0, help="seed of the permutations")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="activations cache (default ~/.cache/probing)")
    p.add_argument("--force", action="store_true", help="replace an existing run folder")
    p.set_defaults(func=run_localize_command)


def run_localize_command(args):
    from probing._core.io import provisional_folder
    from probing.pipeline.localize import LocalizeOptions, check_localize_inputs, run_localize
    from probing.pipeline.run import check_run_folder

    options = LocalizeOptions(
        contrast=args.contrast, layers=args.layers, site=args.site, pooling=args.pooling,
        responses=args.responses, test=args.test,
        nuisance=tuple(n.strip() for n in args.nuisance.split(",") if n.strip()),
        selection=args.selection, top_percent=args.top_percent, alpha=args.alpha,
        per_layer=args.per_layer, alternative=args.alternative, split=args.split,
        n_perm=args.n_perm, random_state=args.random_state, batch_size=args.batch_size,
        seed=args.seed)
    check_layers_syntax(args.layers)
    stimuli, _, _ = check_localize_inputs(args.file, options)  # before the model loads
    out = args.out or Path("runs") / f"{stimuli.paradigm}-localize"
    if out.parent.exists():  # else made around the run, and removed again if it fails
        check_run_folder(out, force=args.force)
    with provisional_folder(out.parent), config_context(cache_dir=args.cache_dir):
        tables = run_localize(args.file, load_from_args(args), out, options=options,
                              force=args.force, argv=["probing", *sys.argv[1:]])
    counts = tables["layer_counts"]
    reliability = tables["reliability"]
    print(f"wrote {out}/ (units.csv, reliability.csv, layer_counts.csv, figures)")
    print(f"{int(counts['n_selected'].sum())} of {int(counts['n_units'].sum())} units selected "
          f"({args.selection}); per layer: "
          + ", ".join(f"{layer}:{n}" for layer, n in zip(counts["layer"], counts["n_selected"],
                                                          strict=True)))
    choice = tables["response_choice"].iloc[0]
    print(f"{choice['other']} responses instead of {choice['chosen']}: "
          f"{choice['n_selected_other']} selected, {choice['n_changed']} units change "
          f"(dice {choice['dice']:.3f})")
    print(reliability[["selected_on", "measured_on", "metric", "value", "expected", "p_val"]]
          .to_string(index=False, float_format=lambda x: f"{x:.3g}"))


REGISTRY = (add_localize,)
