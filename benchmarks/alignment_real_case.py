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

Step ``lau2020_context``: the ratings collected after a random context
(``paradigms/lau2020_context_random.yaml``) scored given their context and, from a copy
of the paradigm without the ``context`` role, sentence-alone; SLOR (and the other
measures) in both, with SLOR's length in words and in model tokens, their Pearson r with
the mean ratings (interval and n from ``alignment.csv``), Williams' test between the two
SLOR correlations, and the largest difference, over the first 5 sentences, between the
run's sentence log-probabilities and ``score_tokens`` on ``context + " " + sentence``
summed over the sentence's tokens.
Writes ``lau2020_context_alignment.csv``. ``--limit N`` runs the first N rows only.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from probing.alignment import (
    build_acceptability,
    compare_correlations,
    correlate,
    summarize_delta,
)
from probing.models import load_model, score_tokens
from probing.pipeline.paradigm_run import RunOptions, run_paradigm

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


def _context_paradigms(out, limit):
    """The shipped in-context paradigm and a sentence-alone copy, on the first ``limit`` rows."""
    data = pd.read_csv(ROOT / "data" / "lau2020_acceptability" / "context-random-ratings.csv",
                       keep_default_na=False)
    if limit:
        data = data.head(limit)
    csv = out / "context-random.csv"
    data.to_csv(csv, index=False)
    paths = {}
    for name, roles in (("context", ", context: context"), ("alone", "")):
        path = out / f"lau2020_{name}.yaml"
        path.write_text(f"name: lau2020_{name}\nversion: 1\nkind: ratings\nsource:\n"
                        f"  format: csv\n  path: {csv.name}\n  columns: {{text: sentence, "
                        f"rating: mean-ratings, item_id: ID{roles}}}\n")
        paths[name] = path
    return data, paths


def _api_difference(lm, tables, data, k=5):
    """Largest |run - API| over the first k sentences: score_tokens on context + sentence."""
    data = data.head(k)
    contexts = [" ".join(c.split()) for c in data["context"]]
    ids = [f"lau2020_context-{i}" for i in data["ID"]]
    texts = pd.DataFrame({"stimulus_id": ids, "text": [
        f"{c} {s.strip()}" for c, s in zip(contexts, data["sentence"], strict=True)]})
    tokens = score_tokens(lm, texts, batch_size=16)
    start = tokens["stimulus_id"].map(dict(zip(ids, [len(c) + 1 for c in contexts], strict=True)))
    api = tokens.loc[tokens["char_start"] >= start].groupby("stimulus_id")["logprob"].sum()
    run = tables["acceptability"].set_index("stimulus_id")["logprob_sum"]
    return float(np.abs(run.loc[api.index] - api).max())


def _slor_rows(detail, scored):
    rows, slor = [], {}
    for length, column in (("words", "n_words"), ("tokens", "n_tokens")):
        measures = build_acceptability(detail, length=column)
        measures = measures[measures["measure"] == "SLOR"]
        rows.append(correlate(measures, ratings=detail[["stimulus_id", "rating"]], n_boot=N_BOOT,
                              random_state=SEED).assign(scored=scored, length=length))
        slor[length] = measures.set_index("stimulus_id")["estimate"]
    return rows, slor


def _lau_context(lm, out, limit):
    data, paths = _context_paradigms(out, limit)
    rows, slor, ratings = [], {}, None
    for scored, path in paths.items():
        t0 = time.perf_counter()
        options = RunOptions(batch_size=16, seed=SEED, n_boot=N_BOOT)
        tables = run_paradigm(path, lm, out / scored, options=options, force=True)
        print(f"{scored}: scored {len(data)} sentences in {time.perf_counter() - t0:.0f} s",
              flush=True)
        detail = tables["acceptability"].assign(
            stimulus_id=lambda t: t["stimulus_id"].str.replace("lau2020_alone", "lau2020_context"))
        new_rows, slor[scored] = _slor_rows(detail, scored)
        rows += new_rows
        ratings = detail.set_index("stimulus_id")["rating"]
        if scored == "context":
            print(f"max |run - API| over 5 sentences = {_api_difference(lm, tables, data):.3g} nats",
                  flush=True)
    for length in ("words", "tokens"):
        ids = slor["context"][length].index
        test = compare_correlations(slor["context"][length].to_numpy(),
                                    slor["alone"][length].loc[ids].to_numpy(),
                                    ratings.loc[ids].to_numpy()).iloc[0]
        print(f"SLOR ({length}): r context {test['r_first']:.3f} vs alone {test['r_second']:.3f}, "
              f"Williams t {test['stat']:.2f}, p {test['p_val']:.2g}, n {test['n']}", flush=True)
    table = pd.concat(rows, ignore_index=True)
    return table[table["metric"] == "pearson"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--steps", default="naturalstories,lau2020")
    parser.add_argument("--layers", default="0,3,6,9,12,15,18,21,24,27,30")
    parser.add_argument("--stride", type=int, default=1024)
    parser.add_argument("--limit", type=int, default=None)
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
    if "lau2020_context" in args.steps:
        t0 = time.perf_counter()
        table = _lau_context(lm, args.out, args.limit)
        table.to_csv(RESULTS / "lau2020_context_alignment.csv", index=False, float_format="%.6g")
        print(f"lau2020_context: {time.perf_counter() - t0:.0f} s\n{table.to_string()}", flush=True)
    if "lau2020" in args.steps.split(","):
        t0 = time.perf_counter()
        table, measures = _lau(lm, args.out)
        table.to_csv(RESULTS / "lau2020_alignment.csv", index=False, float_format="%.6g")
        measures.to_csv(RESULTS / "lau2020_measures.csv", index=False, float_format="%.6g")
        print(f"lau2020: {time.perf_counter() - t0:.0f} s\n{table.to_string()}", flush=True)


if __name__ == "__main__":
    main()
