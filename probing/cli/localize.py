"""``probing localize``: a functional localizer (e.g. sentences vs non-words) for units."""

from __future__ import annotations

import sys
from pathlib import Path

from probing._core.config import config_context
from probing._core.defaults import N_PERM, RANDOM_STATE
from probing.cli.commands import SITES, add_model_options, check_layers_syntax, load_from_args


def add_localize(sub):
    p = sub.add_parser("localize", help="functional localizer for units (GLM contrast)",
                       description="Extract the activations of a paradigm's stimuli in the "
                       "contrast's two conditions, test every unit with nilearn's OLS GLM (or "
                       "Welch's t-test), select units (top k%%, FDR or max-T FWE), measure the "
                       "split-half reliability of the selection and write DIR/manifest.json, "
                       "units.csv, units_by_half.csv, reliability.csv, layer_counts.csv, "
                       "stimuli.csv, response_choice.csv, overlap_null.csv, selected_per_layer.png and "
                       "unit_stats.png.")
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
    p.add_argument("--n-perm", type=int, default=N_PERM,
                   help=f"max-T permutations of --selection fwe (default {N_PERM}: p-values "
                   "down to 1e-4)")
    p.add_argument("--n-perm-overlap", type=int, default=200,
                   help="label shuffles of the split-half overlap's permutation test, each "
                   "rerunning the whole selection in both halves (default 200; 0: no test)")
    p.add_argument("--recipe", default=None, choices=["alkhamissi"],
                   help="a preset that overrides --responses, --test, --selection, "
                   "--top-percent, --nuisance and --max-tokens: alkhamissi = absolute, welch, "
                   "top 1%%, 12 tokens (AlKhamissi et al. 2025; docs/localizer.md)")
    p.add_argument("--max-tokens", type=int, default=0,
                   help="cut each text after its first N tokens, possibly inside a word "
                   "(default 0: whole texts)")
    p.add_argument("--match-length", action="store_true",
                   help="keep only stimuli with a partner of the other condition with the same "
                   "number of tokens in the same half (token count vs condition r is reported "
                   "in the manifest either way)")
    p.add_argument("--profile", action="store_true",
                   help="also measure each half's selected units on every condition of the "
                   "paradigm in the other half (profile.csv, profile.png)")
    p.add_argument("--random-state", type=int, default=RANDOM_STATE,
                   help=f"seed of the permutations (default {RANDOM_STATE})")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="activations cache (default ~/.cache/probing)")
    p.add_argument("--force", action="store_true", help="replace an existing run folder")
    p.set_defaults(func=run_localize_command)


def run_localize_command(args):
    from probing._core.io import provisional_folder
    from probing.pipeline.localize import (
        RECIPES,
        LocalizeOptions,
        check_localize_inputs,
        run_localize,
    )
    from probing.pipeline.run import check_run_folder
    from probing.pipeline.sources import load_paradigm_value

    given = {"responses": args.responses, "test": args.test, "selection": args.selection,
             "top_percent": args.top_percent, "max_tokens": args.max_tokens,
             "nuisance": tuple(n.strip() for n in args.nuisance.split(",") if n.strip())}
    options = LocalizeOptions(
        contrast=args.contrast, layers=args.layers, site=args.site, pooling=args.pooling,
        alpha=args.alpha, per_layer=args.per_layer, alternative=args.alternative,
        split=args.split, n_perm=args.n_perm, n_perm_overlap=args.n_perm_overlap,
        profile=args.profile, match_length=args.match_length,
        random_state=args.random_state, batch_size=args.batch_size, seed=args.seed,
        **{**given, **RECIPES.get(args.recipe, {})})  # a recipe overrides its options
    check_layers_syntax(args.layers)
    paradigm = load_paradigm_value(args.file, seed=options.seed)  # loaded and generated once
    stimuli, _, _ = check_localize_inputs(paradigm, options)  # before the model loads
    out = args.out or Path("runs") / f"{stimuli.paradigm}-localize"
    if out.parent.exists():  # else made around the run, and removed again if it fails
        check_run_folder(out, force=args.force)
    with provisional_folder(out.parent), config_context(cache_dir=args.cache_dir):
        tables = run_localize(paradigm, load_from_args(args), out, options=options,
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
    if "profile" in tables:
        profile = tables["profile"].query("metric == 'response_z'")
        print(profile[["selected_on", "measured_on", "condition", "value", "ci_low", "ci_high"]]
              .to_string(index=False, float_format=lambda x: f"{x:.3g}"))


REGISTRY = (add_localize,)
