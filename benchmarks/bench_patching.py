"""Activation patching sweep vs a naive loop vs one plain forward, on the default model.

On BLiMP agreement-across-a-relational-noun pairs (grammatical member = source,
ungrammatical = target), patching ``resid_post`` at every layer x token position:

(a) ``patch_pairs``: sources cached once, each patched copy starts at its layer, many
    copies per forward;
(b) the naive loop: one full forward per (pair, layer, position), through
    ``score_tokens(..., interventions=Intervention(op="patch"))``: timed on the first
    ``--naive`` copies and extrapolated (per copy) to the whole sweep;
(c) one plain forward over the same stimuli (``score_tokens`` of both members).

Run from the repository root::

    .venv/bin/python benchmarks/bench_patching.py [--pairs 8] [--naive 40]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import torch
from _timing import timed  # benchmarks/ is on sys.path when a script runs

from probing.interventions import Intervention
from probing.models import load_model, score_tokens
from probing.models.patching import patch_pairs

BLIMP = Path(__file__).resolve().parents[1] / "data" / "blimp"


def read_pairs(n):
    lines = (BLIMP / "distractor_agreement_relational_noun.jsonl").read_text().splitlines()[:n]
    rows = [json.loads(line) for line in lines]
    return pd.DataFrame({"pair_id": [f"p{i}" for i in range(len(rows))],
                         "source": [r["sentence_good"] for r in rows],
                         "target": [r["sentence_bad"] for r in rows]})


def naive_loop(lm, pairs, copies):
    def run():
        for pid, layer, position in copies:
            pair = pairs.set_index("pair_id").loc[pid]
            iv = Intervention(layer=int(layer), site="resid_post", positions=(int(position),),
                              op="patch", source=pair["source"])
            table = pd.DataFrame({"stimulus_id": [0], "text": [pair["target"]]})
            score_tokens(lm, table, interventions=iv)
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--naive", type=int, default=40, help="patched copies the naive loop runs")
    parser.add_argument("--copies-per-forward", type=int, default=64)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    lm = load_model("smollm2-135m")
    load_s = time.perf_counter() - start
    pairs = read_pairs(args.pairs)
    members = pd.DataFrame({"stimulus_id": range(2 * len(pairs)),
                            "text": [*pairs["source"], *pairs["target"]]})
    score_tokens(lm, members.iloc[:4])  # warm-up

    t_sweep, table = timed(lambda: patch_pairs(lm, pairs, site="resid_post",
                                               copies_per_forward=args.copies_per_forward))
    patched = table[(table["run"] == "patched") & (table["member"] == "target")]
    copies = list(patched[["pair_id", "layer", "position"]].itertuples(index=False))
    t_naive_part, _ = timed(naive_loop(lm, pairs, copies[: args.naive]))
    t_naive = t_naive_part / min(args.naive, len(copies)) * len(copies)
    t_plain, _ = timed(lambda: score_tokens(lm, members), 2)

    print(f"model smollm2-135m ({lm.dtype}, {torch.get_num_threads()} threads), load {load_s:.1f} s")
    print(f"{len(pairs)} pairs, site resid_post, {patched['layer'].nunique()} layers, "
          f"{len(copies)} patched copies ({sorted(set(patched['alignment']))} alignment)")
    print(f"\n{'method':<44}{'seconds':>10}{'vs (c)':>10}")
    print(f"{'(a) patch_pairs sweep':<44}{t_sweep:>10.2f}{t_sweep / t_plain:>10.1f}")
    label = f"(b) naive loop ({args.naive} copies timed, scaled)"
    print(f"{label:<44}{t_naive:>10.2f}{t_naive / t_plain:>10.1f}")
    print(f"{'(c) one plain forward (score_tokens)':<44}{t_plain:>10.2f}{1:>10.1f}")
    print(f"\n(b)/(a) = {t_naive / t_sweep:.1f}x faster than the naive loop")


if __name__ == "__main__":
    main()
