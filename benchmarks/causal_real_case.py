"""The real case of docs/causal-real-case.md, one command: where does SmolLM2 carry the
subject's number in agreement across a PP attractor?

Loads the default model once (minutes on a shared CPU) and runs the steps named in
``--steps``, in that order, writing run folders under OUT:

- ``patch``: ``probing patch --contrast subject_number`` (denoising, singular into plural)
  -> OUT/patch/patching.csv;
- ``mediate``: ``probing mediate --mediators heads`` -> OUT/mediate (top_units.csv);
- ``ablate``: ``probing ablate --units OUT/mediate/top_units.csv`` (or ``--units``)
  against random matched sets -> OUT/ablate;
- ``interchange``: the subject-number direction interchanged at each ``layer:region``
  (``benchmarks.interchange.run_interchange``) with its controls ->
  OUT/interchange/iia.csv (written after each layer).

The whole real case as measured for the docs:

    PYTHONPATH=$PWD python benchmarks/causal_real_case.py OUT \
        --steps patch,mediate,ablate,interchange --limit-patch 16 \
        --patch-layers 0,12,21,24,27,30 --limit-mediate 4 --mediate-layers 24,27 \
        --limit-ablate 6 --n-sets 19 \
        --interchange-layers 12:subject,24:subject,27:attractor,30:attractor --n-random 2

``--das`` adds the DAS rows to the interchange step (``--das-steps``, ``--das-lr``,
``--das-batch-size``, ``--no-das-control``); the DAS real case of docs/causal-analyses.md:

    PYTHONPATH=$PWD python benchmarks/causal_real_case.py OUT --steps interchange \
        --interchange-layers 12:subject --test-items 10 --n-random 1 --das \
        --das-steps 60 --das-batch-size 8 --das-lr 0.01 --no-das-control

It prints the time each step took, the interchange table and each step's main numbers.
"""

import argparse
import sys
import time
from pathlib import Path

from benchmarks.interchange import DAS_OPTIONS, check_das_options
from probing.causal import locate_crossover
from probing.models import load_model
from probing.pipeline.commands.ablate import AblateOptions, run_ablate
from probing.pipeline.commands.mediate import MediateOptions, run_mediate
from probing.pipeline.commands.patch import PatchOptions, run_patch

PARADIGM = Path(__file__).resolve().parents[1] / "paradigms" / "agreement_pp_attractor.yaml"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--limit-patch", type=int, default=20)
    parser.add_argument("--paradigm", type=Path, default=PARADIGM,
                        help="a minimal-pair paradigm with a subject_number factor")
    parser.add_argument("--readout", default="logit_diff", choices=["sentence", "logit_diff"],
                        help="patch and mediate read-out (logit_diff: every pair usable)")
    parser.add_argument("--split", type=float, default=0.5,
                        help="mediate: fraction of items the top heads are selected on")
    parser.add_argument("--patch-layers", default="all")
    parser.add_argument("--limit-mediate", type=int, default=8)
    parser.add_argument("--mediate-layers", default="2,5,8,11,14,17,20,23,26,29")
    parser.add_argument("--mediate-region", default=None,
                        help="mediate only at this region's position (answer: the position "
                        "that predicts the verb; a fifth of the cost of every region)")
    parser.add_argument("--steps", default="patch,mediate",
                        help="patch,mediate,ablate,interchange")
    parser.add_argument("--limit-ablate", type=int, default=10)
    parser.add_argument("--n-sets", type=int, default=50)
    parser.add_argument("--units", type=Path, default=None,
                        help="unit table to ablate (default: OUT/mediate/top_units.csv)")
    parser.add_argument("--interchange-layers", default="6:subject,12:subject,18:subject,"
                        "24:subject,27:attractor,30:attractor",
                        help="layer:region pairs (region whose tokens are interchanged)")
    parser.add_argument("--test-items", type=int, default=25,
                        help="items 1..N are intervened on; the others fit the subspace")
    parser.add_argument("--n-random", type=int, default=3)
    parser.add_argument("--das", action="store_true",
                        help="interchange: add DAS rows (distributed alignment search)")
    parser.add_argument("--das-steps", type=int, default=DAS_OPTIONS["steps"])
    parser.add_argument("--das-lr", type=float, default=DAS_OPTIONS["lr"])
    parser.add_argument("--das-batch-size", type=int, default=DAS_OPTIONS["batch_size"])
    parser.add_argument("--no-das-control", action="store_true",
                        help="skip the DAS fit on the control task's labels")
    args = parser.parse_args()
    # checked before the model loads
    args.das = check_das_options({"steps": args.das_steps, "lr": args.das_lr,
                                  "batch_size": args.das_batch_size,
                                  "control": not args.no_das_control} if args.das else None)
    steps = args.steps.split(",")
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    lm = load_model("smollm2-135m", device="cpu")
    print(f"load {time.perf_counter() - start:.0f} s", flush=True)
    run = {"patch": _patch, "mediate": _mediate, "ablate": _ablate,
           "interchange": _interchange}
    for step in steps:  # in the order given
        run[step](lm, args)


def _ablate(lm, args):
    start = time.perf_counter()
    units = args.units or args.out / "mediate" / "top_units.csv"
    tables = run_ablate(PARADIGM, lm, args.out / "ablate", argv=sys.argv,
                        options=AblateOptions(units=units, limit=args.limit_ablate,
                                              n_sets=args.n_sets))
    print(f"ablate {time.perf_counter() - start:.0f} s", flush=True)
    print(tables["ablation"].round(3).to_string(index=False))


def _patch(lm, args):
    start = time.perf_counter()
    table = run_patch(args.paradigm, lm, args.out / "patch", argv=sys.argv, options=PatchOptions(
        contrast="subject_number", limit=args.limit_patch, layers=args.patch_layers,
        readout=args.readout))["patching"]
    print(f"patch {time.perf_counter() - start:.0f} s", flush=True)
    rows = table[table["metric"] == "restored_fraction"]
    print(rows.pivot(index="layer", columns="position", values="estimate").round(2).to_string())
    print(locate_crossover(table, from_position="1:subject", to_position="3:attractor")
          .round(2).to_string(index=False))


def _mediate(lm, args):
    start = time.perf_counter()
    tables = run_mediate(args.paradigm, lm, args.out / "mediate", argv=sys.argv,
                         options=MediateOptions(contrast="subject_number", mediators="heads",
                                                layers=args.mediate_layers,
                                                limit=args.limit_mediate, top_k=5,
                                                readout=args.readout, split=args.split,
                                                region=args.mediate_region))
    print(f"mediate {time.perf_counter() - start:.0f} s", flush=True)
    print(tables["top_mediators"].round(3).to_string(index=False))
    print(tables["mediation_joint"].round(3).to_string(index=False))


def _interchange(lm, args):
    from benchmarks.interchange import run_interchange
    from probing.models import reinitialize
    from probing.paradigms import generate, load_paradigm

    start = time.perf_counter()
    stimuli = generate(load_paradigm(PARADIGM))
    items = sorted(stimuli.table["item_id"].unique())
    layer_regions = {int(k): v for k, v in
                     (part.split(":") for part in args.interchange_layers.split(","))}
    path = args.out / "interchange" / "iia.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table = run_interchange(
        lm, stimuli, layer_regions=layer_regions, fit_items=items[args.test_items:],
        test_items=items[:args.test_items], reinitialized=reinitialize(lm, random_state=0),
        n_random=args.n_random, on_layer=lambda t: t.to_csv(path, index=False), das=args.das)
    table.to_csv(path, index=False)
    print(table.to_string(index=False))
    print(f"interchange {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
