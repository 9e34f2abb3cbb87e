"""The real cases of docs/alignment.md: Natural Stories and Lau et al. on the default model.

Loads the model once and runs what

    probing run paradigms/naturalstories.yaml --stride 1024 --batch-size 1 \
        --layers 0,3,6,9,12,15,18,21,24,27,30 --out OUT/naturalstories
    probing run paradigms/lau2020_ratings.yaml --batch-size 16 --out OUT/lau2020

run (whole stories 1-7; ``n_boot`` 10,000, seed 0), prints the alignment rows and the
time each step took, and writes the small tables that notebooks/07_human_alignment.ipynb
reads into ``docs/results/alignment/``: ``naturalstories_alignment.csv`` (delta LL,
overall and per layer, bootstrap over texts, plus the same fit with a bootstrap over
words for comparison), ``lau2020_alignment.csv`` and ``lau2020_measures.csv`` (the five
measures and the rating per sentence). Usage:
``PYTHONPATH=$PWD python benchmarks/alignment_real_case.py OUT [--steps naturalstories,lau2020]``.
"""

import argparse
import time
from pathlib import Path

import pandas as pd

from probing.alignment import summarize_delta
from probing.models import load_model
from probing.pipeline.run import RunOptions, run_paradigm

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results" / "alignment"
SEED = 0
N_BOOT = 10_000


def _naturalstories(lm, out, layers, stride):
    options = RunOptions(batch_size=1, seed=SEED, n_boot=N_BOOT, stride=stride, layers=layers)
    tables = run_paradigm(ROOT / "paradigms" / "naturalstories.yaml", lm, out / "naturalstories",
                          options=options, force=True)
    alignment = tables["alignment"].assign(resample="texts", stride=stride)
    scored = tables["reading"].dropna(subset=["delta_loglik"])
    words = summarize_delta(scored, resample="words", n_boot=N_BOOT, random_state=SEED)
    words = words.assign(resample="words", stride=stride, model=lm.name,
                         paradigm="naturalstories")
    return pd.concat([alignment, words], ignore_index=True)


def _lau(lm, out):
    options = RunOptions(batch_size=16, seed=SEED, n_boot=N_BOOT)
    tables = run_paradigm(ROOT / "paradigms" / "lau2020_ratings.yaml", lm, out / "lau2020",
                          options=options, force=True)
    measures = tables["acceptability"][["stimulus_id", "rating", "LP", "MeanLP", "PenLP",
                                        "NormLP", "SLOR"]]
    return tables["alignment"], measures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--steps", default="naturalstories,lau2020")
    parser.add_argument("--layers", default="0,3,6,9,12,15,18,21,24,27,30")
    parser.add_argument("--stride", type=int, default=1024)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    lm = load_model("smollm2-135m")
    print(f"model loaded in {time.perf_counter() - started:.0f} s", flush=True)
    pd.set_option("display.width", 200)
    if "naturalstories" in args.steps:
        t0 = time.perf_counter()
        table = _naturalstories(lm, args.out, args.layers, args.stride)
        table.to_csv(RESULTS / "naturalstories_alignment.csv", index=False, float_format="%.6g")
        print(f"naturalstories: {time.perf_counter() - t0:.0f} s\n{table.to_string()}", flush=True)
    if "lau2020" in args.steps:
        t0 = time.perf_counter()
        table, measures = _lau(lm, args.out)
        table.to_csv(RESULTS / "lau2020_alignment.csv", index=False, float_format="%.6g")
        measures.to_csv(RESULTS / "lau2020_measures.csv", index=False, float_format="%.6g")
        print(f"lau2020: {time.perf_counter() - t0:.0f} s\n{table.to_string()}", flush=True)


if __name__ == "__main__":
    main()
