"""``probing rsa``'s subcommand (``probing probe`` is declared in probing.pipeline.commands)."""

from __future__ import annotations

import sys
from pathlib import Path

from probing._core.config import config_context
from probing._core.defaults import N_BOOT, N_PERM, RANDOM_STATE
from probing._core.io import provisional_folder
from probing.cli.commands import (
    SITES,
    add_deprecated_flag,
    add_max_memory,
    add_model_options,
    check_layers_syntax,
    load_from_args,
    max_memory,
)

# Literal copies so that `--help` does not import the analyses (seconds); a test checks
# that they equal probing.rsa.DISTANCES and COMPARISONS.
RSA_DISTANCES = ("correlation", "cosine", "euclidean", "sqeuclidean", "mahalanobis", "crossnobis")
RSA_COMPARISONS = ("spearman", "pearson", "tau_a", "rho_a", "cosine", "whitened_cosine",
               "whitened_pearson")


def add_n_perm(p):
    p.add_argument("--n-perm", type=int, default=N_PERM,
                   help=f"permutations (default {N_PERM}: p-values down to 1e-4, so a corrected "
                   "layer sweep can reach 0.05)")


def _add_common(p):
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--out", type=Path, default=None, help="run folder (default runs/<paradigm>-<command>)")
    add_model_options(p, deprecated_dtype=False)
    p.add_argument("--layers", default="all", help="all (default), or e.g. 0,6,12 or -1")
    p.add_argument("--site", default="resid_post", choices=SITES,
                   help="recording site: resid_post (default), mlp_out, attn_out")
    p.add_argument("--correction", default="holm", choices=["holm", "bonferroni", "fdr_bh"],
                   help="correction across layers (and model RDMs or probes); default holm")
    p.add_argument("--random-state", type=int, default=RANDOM_STATE,
                   help=f"seed of permutations and resampling (default {RANDOM_STATE}: a rerun "
                   "gives the same tables)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="activations cache (default ~/.cache/probing)")
    p.add_argument("--force", action="store_true", help="replace an existing run folder")


def _out_folder(args, name, command):
    """The run folder; its parent is made (provisionally) around the run, not here."""
    from probing.pipeline.run import check_run_folder

    out = args.out or Path("runs") / f"{name}-{command}"
    if out.parent.exists():
        check_run_folder(out, force=args.force)
    return out


def add_rsa(sub):
    p = sub.add_parser("rsa", help="representational similarity analysis, layer by layer",
                       description="Extract an rsa paradigm's activations, compare every "
                       "layer's RDM with the paradigm's model RDMs (stimulus-label "
                       "permutation test, item bootstrap, correction across layers) and "
                       "write DIR/manifest.json, stimuli.csv, rsa.csv, layer_similarity.csv, "
                       "rsa_layers.png and the peak layer's RDM.")
    _add_common(p)
    p.add_argument("--pooling", default="mean",
                   help="mean (default: an RSA pattern stands for the whole stimulus, not for its "
                   "last token, which is often the full stop), last, first, or region:NAME "
                   "such as region:noun")
    p.add_argument("--distance", default="correlation", choices=RSA_DISTANCES,
                   help="RDM distance (default correlation; mahalanobis and crossnobis "
                   "estimate the noise from the patterns)")
    add_deprecated_flag(p, "--metric", "--distance", dest="distance", choices=RSA_DISTANCES)
    p.add_argument("--comparison", default="spearman", choices=RSA_COMPARISONS,
                   help="RDM comparison (default spearman)")
    add_deprecated_flag(p, "--method", "--comparison", dest="comparison", choices=RSA_COMPARISONS)
    add_n_perm(p)
    p.add_argument("--n-boot", type=int, default=N_BOOT,
                   help=f"item bootstrap resamples (default {N_BOOT}; 0: none)")
    p.add_argument("--permute", default="free", choices=["free", "items"],
                   help="exchange all stimulus labels (default) or only within items")
    add_max_memory(p)
    p.set_defaults(func=run_rsa_command)


def run_rsa_command(args):
    from probing.cli.commands import _source_name
    from probing.pipeline.rsa import RSAOptions, run_rsa

    options = RSAOptions(layers=args.layers, site=args.site, pooling=args.pooling,
                         distance=args.distance, comparison=args.comparison, n_perm=args.n_perm,
                         n_boot=args.n_boot, correction=args.correction,
                         permute=args.permute, random_state=args.random_state,
                         batch_size=args.batch_size, seed=args.seed)
    check_layers_syntax(args.layers)
    name = _source_name(args.file)  # fail on a bad file (or table) before loading a model
    out = _out_folder(args, name, "rsa")
    with provisional_folder(out.parent), config_context(cache_dir=args.cache_dir,
                                                        max_memory=max_memory(args)):
        tables = run_rsa(args.file, lambda: load_from_args(args), out, options=options,
                         force=args.force, argv=["probing", *sys.argv[1:]])
    rsa = tables["rsa"]
    best = rsa.loc[rsa.groupby("model_rdm")["value"].idxmax()]
    print(f"wrote {out}/ (rsa.csv, layer_similarity.csv, rsa_layers.png)")
    print("peak layer per model RDM:")
    print(best[["model_rdm", "layer", "value", "ci_low", "ci_high", "p_corr"]]
          .to_string(index=False, float_format=lambda x: f"{x:.3g}"))


REGISTRY = (add_rsa,)
