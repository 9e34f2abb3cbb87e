"""The real case of issue #11: localize SmolLM2-135M's language units, then lesion them.

One command::

    OMP_NUM_THREADS=1 PYTHONPATH=$PWD python benchmarks/localizer_lesion.py \
        --work /tmp/h11 --localizer-runs /tmp/i11_runs \
        --configs top1-zero top1-mean fwe-zero --tables docs/results/localizer

1. Localizer (``probing localize paradigms/fedorenko2010_localizer.yaml --contrast
   sentences-nonwords``, last token, raw responses, nilearn OLS GLM) with top 1% and
   FWE (max-T, 1000 permutations) selection, into ``WORK/localize-top1`` and
   ``WORK/localize-fwe``; an existing run folder (``--localizer-runs``) is reused.
2. For each config ``SELECTION-OP``: :func:`probing.pipeline.lesion_run.run_lesion` with the
   selected units, ``op`` zero or mean, ``--n-sets`` random sets matched per layer,
   on the BLiMP demo subset, the three generated agreement paradigms and the three
   SyntaxGym suites (first ``--limit-*`` items each), into ``WORK/lesion-CONFIG``.
   Finished paradigm folders are read back (``resume``: same options, same units, same
   model, so the same matched random sets), so configs can run as separate processes
   and a study can be completed from folders computed earlier (copied into
   ``WORK/lesion-CONFIG/``). Every config is one family: Holm across all phenomena of
   all seven paradigms, per metric.
3. Prints the reliability of both selections and the lesion tables, and with
   ``--tables DIR`` writes the small tables the notebook and docs read
   (``docs/results/localizer/``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PARADIGMS = {  # paradigm file -> which --limit-* applies
    "blimp_demo": "blimp",
    "agreement_simple": "agreement",
    "agreement_pp_attractor": "agreement",
    "agreement_rc_attractor": "agreement",
    "syntaxgym_number_src": "syntaxgym",
    "syntaxgym_npi_orc_any": "syntaxgym",
    "syntaxgym_fgd_subject": "syntaxgym",
}
SELECTIONS = {"top1": {"selection": "top", "top_percent": 1.0},
              "fwe": {"selection": "fwe", "n_perm": 1000}}


def _model(cache):
    from probing.models import load_model

    if "lm" not in cache:
        cache["lm"] = load_model("smollm2-135m", device="cpu")
    return cache["lm"]


def localize(args, cache):
    """The two localizer run folders (reused when they exist)."""
    from probing.pipeline.localize_run import LocalizeOptions, run_localize

    folders = {}
    for name, choice in SELECTIONS.items():
        folder = (args.localizer_runs or args.work) / (name if args.localizer_runs
                                                       else f"localize-{name}")
        if not (folder / "units.csv").is_file():
            folder.parent.mkdir(parents=True, exist_ok=True)
            run_localize(ROOT / "paradigms/fedorenko2010_localizer.yaml", _model(cache), folder,
                         options=LocalizeOptions(contrast="sentences-nonwords", **choice))
        folders[name] = folder
    return folders


def lesion(args, folders, config, cache):
    from probing.pipeline.commands.ablate import AblateOptions
    from probing.pipeline.lesion_run import run_lesion

    selection, op = config.split("-")
    limits = {"blimp": args.limit_blimp, "agreement": args.limit_agreement,
              "syntaxgym": args.limit_syntaxgym}
    paradigms = args.paradigms
    if args.only_finished:  # the paradigms whose run folder is complete
        paradigms = [p for p in paradigms
                     if (args.work / f"lesion-{config}" / p / "manifest.json").is_file()]
    if not paradigms:
        return None
    return run_lesion([ROOT / f"paradigms/{p}.yaml" for p in paradigms],
                      lambda: _model(cache), args.work / f"lesion-{config}",
                      unit_file=folders[selection] / "units.csv",
                      options=AblateOptions(ablation=op, n_sets=args.n_sets,
                                            n_boot=args.n_boot,
                                            random_state=args.random_state, batch_size=32),
                      limits={p: limits[PARADIGMS[p]] for p in paradigms},
                      resume=True)


def summarize(folders, results):
    """The small tables: reliability, per-layer counts, lesion results, null effects."""
    reliability, counts, coordinates = [], [], []
    for name, folder in folders.items():
        reliability.append(pd.read_csv(folder / "reliability.csv").assign(localizer=name))
        counts.append(pd.read_csv(folder / "layer_counts.csv").assign(localizer=name))
        units = pd.read_csv(folder / "units.csv")
        chosen = units[units["selected"].astype(bool)]
        # resid_post unit u of every layer is one coordinate of the residual stream
        repeats = chosen.groupby("unit").size()
        coordinates.append({"localizer": name, "n_selected": len(chosen),
                            "n_coordinates": repeats.size, "top_unit": int(repeats.idxmax()),
                            "top_unit_layers": int(repeats.max())})
        if name == "top1":
            top_units = chosen[["layer", "site", "unit", "stat"]]
    lesion = [t["lesion"].assign(config=c) for c, t in results.items()]
    null = [t["ablation_null"].drop(columns="model").assign(config=c)
            for c, t in results.items()]
    behaviour = [t["ablation_behaviour"].assign(config=c) for c, t in results.items()]
    # A SyntaxGym suite's phenomenon is its prediction formula (one per suite here);
    # the committed tables name it by the suite to stay small.
    def short(t):
        suite = t["phenomenon"].astype(str).str.startswith("[")
        return t.assign(phenomenon=t["phenomenon"].where(~suite, t["paradigm"]))

    lesion, null, behaviour = ([short(t) for t in frames] for frames in (lesion, null,
                                                                        behaviour))
    # one row per config x paradigm x phenomenon x metric, one column per random set
    null = [t.pivot_table(index=["config", "paradigm", "phenomenon", "metric"], columns="set",
                          values="estimate").add_prefix("set_").reset_index() for t in null]
    return {"reliability": pd.concat(reliability, ignore_index=True),
            "coordinates": pd.DataFrame(coordinates), "units_top1": top_units,
            "layer_counts": pd.concat(counts, ignore_index=True),
            "lesion": pd.concat(lesion, ignore_index=True) if lesion else pd.DataFrame(),
            "lesion_null": pd.concat(null, ignore_index=True) if null else pd.DataFrame(),
            "lesion_behaviour": (pd.concat(behaviour, ignore_index=True) if behaviour
                                 else pd.DataFrame())}


def report(tables):
    pd.set_option("display.width", 200)
    rel = tables["reliability"]
    print("== reliability of the selection (run1 vs run2)")
    print(rel[rel["metric"].isin(["dice", "dice_coordinates", "held_out_stat", "held_out_cohens_d"])][
        ["localizer", "selected_on", "metric", "estimate", "expected", "p_val", "n_selected"]]
        .to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    print("== selected units and distinct residual coordinates")
    print(tables["coordinates"].to_string(index=False))
    print("== selected units per layer")
    print(tables["layer_counts"].pivot(index="layer", columns="localizer", values="n_selected")
          .T.to_string())
    if tables["lesion"].empty:
        return
    lesion = tables["lesion"]
    for config, rows in lesion.groupby("config", sort=False):
        print(f"== lesion {config}")
        print(rows[["paradigm", "phenomenon", "metric", "estimate", "ci_low", "ci_high",
                    "null_mean", "null_sd", "stat", "p_val", "p_corr", "p_normal",
                    "p_normal_corr", "n", "n_sets"]]
              .assign(phenomenon=rows["phenomenon"].str.slice(0, 34))
              .to_string(index=False, float_format=lambda x: f"{x:.3g}"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/probing-localizer-lesion"))
    parser.add_argument("--localizer-runs", type=Path, default=None,
                        help="a folder with top1/ and fwe/ localizer run folders to reuse")
    parser.add_argument("--configs", nargs="*", default=["top1-zero", "top1-mean", "fwe-zero"],
                        help="SELECTION-OP: top1|fwe - zero|mean")
    parser.add_argument("--paradigms", nargs="*", default=list(PARADIGMS),
                        choices=list(PARADIGMS), help="default: all seven")
    parser.add_argument("--only-finished", action="store_true",
                        help="combine only the paradigms already finished (no model run)")
    parser.add_argument("--n-sets", type=int, default=20)
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--random-state", type=int, default=0)
    # Sized for one core of a shared CPU: each config is 22 forward passes (23 with mean
    # ablation) over 36 BLiMP pairs, 100 agreement pairs and 3 items of each SyntaxGym
    # suite; the agreement paradigms and the three suites took about 10 minutes per
    # config on one core.
    parser.add_argument("--limit-blimp", type=int, default=3, help="items per BLiMP phenomenon")
    parser.add_argument("--limit-agreement", type=int, default=10)
    parser.add_argument("--limit-syntaxgym", type=int, default=3)
    parser.add_argument("--tables", type=Path, default=None,
                        help="write the summary tables here (e.g. docs/results/localizer)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    cache = {}
    folders = localize(args, cache)
    results = {c: lesion(args, folders, c, cache) for c in args.configs}
    results = {c: r for c, r in results.items() if r is not None}
    tables = summarize(folders, results)
    report(tables)
    if args.tables:
        args.tables.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.items():
            # The lesion tables keep every digit: effects of random sets tied with the
            # language units' (the same items lost) must stay tied in the notebook's
            # pooled rank test; 5 digits would break such ties.
            exact = name.startswith("lesion")
            frame.to_csv(args.tables / f"{name}.csv", index=False,
                         float_format=None if exact else "%.5g")


if __name__ == "__main__":
    main()
