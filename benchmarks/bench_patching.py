"""Activation patching sweep vs a naive loop vs one plain forward, on the default model.

On BLiMP agreement-across-a-relational-noun pairs (grammatical member = source,
ungrammatical = target), patching ``resid_post`` at every layer x token position:

(a) ``patch_pairs``: sources cached once, each patched copy starts at its layer, many
    copies per forward, the LM head computed only from the first patched column on;
(a') the same sweep with the LM head over every column (the engine before that saving),
    with the largest difference between the two tables;
(b) the naive loop: one full forward per (pair, layer, position) with a patching hook,
    sources cached: timed on the first ``--naive`` copies and scaled (per copy) to the
    whole sweep;
(c) one plain forward over the same stimuli (``score_tokens`` of both members);
(d) attribution patching (one forward and one backward pass), with its agreement with
    the exact sweep (a).

Run from the repository root::

    .venv/bin/python benchmarks/bench_patching.py [--pairs 4] [--naive 40]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import torch
from _timing import timed  # benchmarks/ is on sys.path when a script runs

from probing.models import attribute_pairs, compare_with_exact, load_model, score_tokens
from probing.models import pair_runs as engine
from probing.models.intervention_hooks import record_points
from probing.models.patch_runs import patch_pairs
from probing.models.sites import edit_points
from probing.models.token_alignment import encode_texts

BLIMP = Path(__file__).resolve().parents[1] / "data" / "blimp"


def read_pairs(n):
    lines = (BLIMP / "distractor_agreement_relational_noun.jsonl").read_text().splitlines()[:n]
    rows = [json.loads(line) for line in lines]
    return pd.DataFrame({"pair_id": [f"p{i}" for i in range(len(rows))],
                         "source": [r["sentence_good"] for r in rows],
                         "target": [r["sentence_bad"] for r in rows]})


def naive_loop(lm, pairs, copies):
    """One full forward per (pair, layer, position), the source cached once per pair: the
    loop people write with a hook (sources are not counted against it)."""
    encoded = {text: e for text, e in zip(
        [*pairs["source"], *pairs["target"]],
        encode_texts(lm.tokenizer, [*pairs["source"], *pairs["target"]]), strict=True)}
    by_id = pairs.set_index("pair_id")
    layers = sorted({int(layer) for _, layer, _ in copies})
    cached = {pid: record_points(lm, [encoded[by_id.loc[pid, "source"]]],
                                 [("resid_post", layer) for layer in layers])
              for pid in {pid for pid, _, _ in copies}}

    def run():
        with torch.inference_mode():
            for pid, layer, position in copies:
                target = encoded[by_id.loc[pid, "target"]].token_ids
                value = cached[pid][("resid_post", int(layer))][0][int(position) + 1]

                def edit(tensor, value=value, column=int(position) + 1):
                    out = tensor.clone()
                    out[0, column] = value
                    return out

                ids = torch.tensor([[lm.start_token_id, *target[:-1]]])
                with edit_points(lm.model.base_model, {("resid_post", int(layer)): edit}):
                    logp = lm.model(ids).logits[0].log_softmax(-1)
                logp[torch.arange(len(target)), torch.tensor(target)].sum().item()
    return run


def sweep_with_full_head(lm, pairs, copies_per_forward):
    """(a'): the LM head over every column, as before the engine skipped the unpatched ones."""
    original = engine.RunBatch.run_from

    def run_from(self, lm, start, hidden, rows, first_column=0):
        return original(self, lm, start, hidden, rows, 0)

    engine.RunBatch.run_from = run_from
    try:
        return patch_pairs(lm, pairs, site="resid_post", copies_per_forward=copies_per_forward)
    finally:
        engine.RunBatch.run_from = original


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=4)
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
    t_full, full = timed(lambda: sweep_with_full_head(lm, pairs, args.copies_per_forward))
    diff = (table["logprob"] - full["logprob"]).abs().max()
    patched = table[(table["run"] == "patched") & (table["member"] == "target")]
    copies = list(patched[["pair_id", "layer", "position"]].itertuples(index=False))
    t_naive_part, _ = timed(naive_loop(lm, pairs, copies[: args.naive]))
    t_naive = t_naive_part / min(args.naive, len(copies)) * len(copies)
    t_plain, _ = timed(lambda: score_tokens(lm, members), 2)
    t_attr, estimates = timed(lambda: attribute_pairs(lm, pairs, site="resid_post"))
    agreement = compare_with_exact(estimates, table, top_k=10)

    print(f"model smollm2-135m ({lm.dtype}, {torch.get_num_threads()} threads), load {load_s:.1f} s")
    print(f"{len(pairs)} pairs, site resid_post, {patched['layer'].nunique()} layers, "
          f"{len(copies)} patched copies ({sorted(set(patched['alignment']))} alignment)")
    print(f"\n{'method':<44}{'seconds':>10}{'vs (c)':>10}")
    print(f"{'(a) patch_pairs sweep':<44}{t_sweep:>10.2f}{t_sweep / t_plain:>10.1f}")
    label = "(a') sweep, LM head over every column"
    print(f"{label:<44}{t_full:>10.2f}{t_full / t_plain:>10.1f}")
    label = f"(b) naive loop ({args.naive} copies timed, scaled)"
    print(f"{label:<44}{t_naive:>10.2f}{t_naive / t_plain:>10.1f}")
    print(f"{'(c) one plain forward (score_tokens)':<44}{t_plain:>10.2f}{1:>10.1f}")
    print(f"{'(d) attribution patching':<44}{t_attr:>10.2f}{t_attr / t_plain:>10.1f}")
    print(f"\n(b)/(a) = {t_naive / t_sweep:.1f}x faster than the naive loop; (a')/(a) = "
          f"{t_full / t_sweep:.2f}x from the LM-head saving (tables differ by at most {diff:.1e})")
    print(f"(d) vs (a): Spearman {agreement['spearman']:.2f} over {agreement['n']} cells; "
          f"{agreement['top_k_found']} of the exact top {agreement['top_k']} found")


if __name__ == "__main__":
    main()
