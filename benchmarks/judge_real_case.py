"""The model-as-judge real cases of docs/alignment.md section 8 (issue #26, item 5).

Loads the model once and rates, through prompts on the shipped 1-4 scale
(``paradigms/judge/acceptability_1to4.yaml``: three paraphrases, the scale listed
ascending and descending, the model's own chat template):

``lau2020``
    Sentences of ``paradigms/lau2020_ratings.yaml`` in file order, 10 at a time, until
    ``--limit`` or until ``--budget`` seconds are spent (the first chunks are the
    estimate); Williams'
    test against the direct measures of the same model read from
    ``docs/results/alignment/lau2020_measures.csv`` (written by
    ``benchmarks/alignment_real_case.py`` with the same model and scoring path).
``pairs``
    The first ``--pairs-limit`` pairs of ``--pairs-paradigm`` (default
    ``paradigms/agreement_simple.yaml``), templates ``--pairs-templates``; the direct
    judgements (summed log-probabilities) are scored in the same run.

Writes every table under OUT/<step>/ and the small ones into ``docs/results/judge/``,
which notebooks/10_judge.ipynb reads. Usage::

    PYTHONPATH=$PWD python benchmarks/judge_real_case.py OUT [--steps pairs,lau2020]
        [--budget 900] [--limit N] [--pairs-limit 40] [--model smollm2-135m]
"""

import argparse
import time
from pathlib import Path

import pandas as pd

from probing.alignment.judge_plotting import plot_judge_calibration
from probing.behaviour import build_pairs, build_sentence_scores
from probing.models import load_model, score_tokens
from probing.models.judge_prompts import judge_texts
from probing.pipeline.judge_run import JudgeOptions, prepare_judge, run_judge, write_judge

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results" / "judge"
N_BOOT = 10_000


def _lau(lm, model, out, limit, budget):
    """Rate chunks of 10 sentences until ``limit`` or the time ``budget`` (s) is reached."""
    plan = prepare_judge(ROOT / "paradigms" / "lau2020_ratings.yaml", model,
                         JudgeOptions(limit=limit, n_boot=N_BOOT))
    opts, start, parts = plan.options, time.perf_counter(), []
    for first in range(0, len(plan.table), 10):
        chunk = plan.table.iloc[first:first + 10][["stimulus_id", "text"]]
        parts.append(judge_texts(lm, chunk, plan.scale, styles=opts.styles(),
                                 orders=opts.orders(), batch_size=opts.batch_size))
        spent = time.perf_counter() - start
        print(f"lau2020: {first + len(chunk)} sentences rated in {spent:.0f} s", flush=True)
        if spent > budget:
            break
    prompts = pd.concat(parts, ignore_index=True)
    measures = pd.read_csv(ROOT / "docs" / "results" / "alignment" / "lau2020_measures.csv")
    measures = measures[measures["stimulus_id"].isin(prompts["stimulus_id"])]
    tables = run_judge(plan, lm, measures=measures.drop(columns="rating"), prompts=prompts)
    write_judge(tables, out / "lau2020", plan=plan, lm=lm)
    for name in ("judge_summary", "judge_calibration", "judge_ratings"):
        tables[name].to_csv(RESULTS / f"lau2020_{name}.csv", index=False, float_format="%.6g")
    ratings = plan.table[plan.table["stimulus_id"].isin(prompts["stimulus_id"])][
        ["stimulus_id", "rating"]]
    ratings.to_csv(RESULTS / "lau2020_human.csv", index=False, float_format="%.6g")
    _figure(tables, ratings)
    print(tables["judge_summary"].to_string())
    print(tables["judge_calibration"].to_string())


def _figure(tables, human):
    import matplotlib

    matplotlib.use("Agg")
    points = tables["judge_ratings"].groupby("stimulus_id", as_index=False)[
        "expected_rating"].mean().rename(columns={"expected_rating": "judge"}).merge(
        human, on="stimulus_id")
    ax = plot_judge_calibration(tables["judge_calibration"], points=points)
    ax.figure.savefig(RESULTS / "lau2020_judge_calibration.png", dpi=100, bbox_inches="tight")


def _pairs(lm, model, out, paradigm, limit, templates):
    plan = prepare_judge(paradigm, model, JudgeOptions(limit=limit, templates=templates,
                                                       n_boot=N_BOOT))
    members = plan.table
    direct = build_pairs(build_sentence_scores(score_tokens(lm, members, batch_size=16)),
                         members)
    tables = run_judge(plan, lm, direct=direct)
    write_judge(tables, out / "pairs", plan=plan, lm=lm)
    name = plan.stimuli.paradigm
    for key in ("judgements", "judgement_summary"):
        tables[key].to_csv(RESULTS / f"{name}_{key}.csv", index=False, float_format="%.6g")
    print(tables["judgement_summary"].to_string())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--steps", default="lau2020,pairs")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--limit", type=int, default=None, help="at most this many sentences")
    parser.add_argument("--budget", type=float, default=900,
                        help="stop rating Lau et al. sentences after this many seconds")
    parser.add_argument("--pairs-limit", type=int, default=40)
    parser.add_argument("--pairs-paradigm", default=str(ROOT / "paradigms" / "agreement_simple.yaml"))
    parser.add_argument("--pairs-templates", default="natural")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    steps = args.steps.split(",")
    start = time.perf_counter()
    lm = load_model(args.model)
    print(f"model loaded in {time.perf_counter() - start:.0f} s", flush=True)
    if "pairs" in steps:
        t = time.perf_counter()
        _pairs(lm, args.model, args.out, args.pairs_paradigm, args.pairs_limit,
               tuple(args.pairs_templates.split(",")))
        print(f"pairs ({args.pairs_limit}): {time.perf_counter() - t:.0f} s", flush=True)
    if "lau2020" in steps:
        t = time.perf_counter()
        _lau(lm, args.model, args.out, args.limit, args.budget)
        print(f"lau2020: {time.perf_counter() - t:.0f} s", flush=True)


if __name__ == "__main__":
    main()
