"""Token-scoring throughput on BLiMP minimal pairs with the default model.

Compares, on the same sentences (tokens/s counts scored tokens):

(a) ``probing.models.score_tokens``: tokenization, batching, gathering and the table;
(b) the bare ``model(**batch)`` forward on exactly the batches (a) builds, prebuilt;
(c) a naive loop: one sentence at a time, full ``log_softmax``, as most scripts do;
(d) ``score_tokens(..., share_prefixes=True)``: each good/bad pair's common prefix once.

Run from the repository root::

    .venv/bin/python benchmarks/bench_scoring.py [--pairs-per-phenomenon 8] [--naive 300]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import torch
from _timing import timed  # benchmarks/ is on sys.path when a script runs

from probing.models import load_model, score_tokens
from probing.models.alignment import encode_texts
from probing.models.batching import pad_sequences, plan_batches
from probing.models.prefix import common_prefix_length

BLIMP = Path(__file__).resolve().parents[1] / "data" / "blimp"


def read_pairs(folder, per_phenomenon):
    """Stimuli table (two rows per pair) from the first pairs of each phenomenon file."""
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()[:per_phenomenon]
        for line in lines:
            pair = json.loads(line)
            if "sentence_good" not in pair:  # models_summary.jsonl holds results, not pairs
                break
            pair_id = f"{pair['UID']}-{pair['pairID']}"
            for role in ("good", "bad"):
                rows.append((f"{pair_id}-{role}", pair_id, pair[f"sentence_{role}"]))
    return pd.DataFrame(rows, columns=["stimulus_id", "pair_id", "text"])


def bare_forward(lm, table, batch_size):
    """A closure running the model alone on the batches ``score_tokens`` would build."""
    encoded = encode_texts(lm.tokenizer, table["text"].tolist())
    inputs = [[lm.start_token_id, *e.token_ids[:-1]] for e in encoded]
    batches = [
        pad_sequences([inputs[i] for i in rows], pad_id=lm.start_token_id)
        for rows in plan_batches([len(s) for s in inputs], batch_size=batch_size)
    ]

    def run():
        with torch.inference_mode():
            for batch in batches:
                lm.model(
                    input_ids=batch.input_ids,
                    attention_mask=batch.attention_mask,
                    position_ids=batch.position_ids,
                    use_cache=False,
                )

    return run


def naive_loop(lm, texts):
    """One sentence at a time, the whole log-softmax, then gather."""

    def run():
        total = 0.0
        with torch.inference_mode():
            for text in texts:
                ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
                logp = lm.model(torch.tensor([[lm.start_token_id, *ids]])).logits[0].log_softmax(-1)
                total += logp[torch.arange(len(ids)), torch.tensor(ids)].sum().item()
        return total

    return run


def prefix_share(lm, table):
    """Fraction of input tokens that the shared prefixes save."""
    encoded = encode_texts(lm.tokenizer, table["text"].tolist())
    inputs = [[lm.start_token_id, *e.token_ids[:-1]] for e in encoded]
    saved = 0
    for _, rows in table.groupby("pair_id", sort=False).indices.items():
        members = [inputs[i] for i in rows]
        saved += common_prefix_length(members) * (len(members) - 1)
    return saved / sum(len(s) for s in inputs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs-per-phenomenon", type=int, default=8)
    parser.add_argument("--naive", type=int, default=300, help="sentences for the naive loop")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    lm = load_model("smollm2-135m")
    load_s = time.perf_counter() - start
    table = read_pairs(BLIMP, args.pairs_per_phenomenon)
    score_tokens(lm, table.iloc[:64], batch_size=args.batch_size)  # warm-up

    results = {}
    t, tokens = timed(lambda: score_tokens(lm, table, batch_size=args.batch_size), args.repeats)
    n_tokens = len(tokens)
    results["(a) score_tokens"] = (t, n_tokens)
    t, _ = timed(bare_forward(lm, table, args.batch_size), args.repeats)
    results["(b) bare model(**batch)"] = (t, n_tokens)
    naive = table["text"].iloc[: args.naive].tolist()
    n_naive = int(tokens.groupby("stimulus_id", sort=False).size().iloc[: args.naive].sum())
    t, _ = timed(naive_loop(lm, naive), 1)
    results["(c) naive loop"] = (t, n_naive)
    t, _ = timed(
        lambda: score_tokens(lm, table, batch_size=args.batch_size, share_prefixes=True),
        args.repeats,
    )
    results["(d) score_tokens, shared prefixes"] = (t, n_tokens)

    print(f"model smollm2-135m (float32, {torch.get_num_threads()} threads), load {load_s:.1f} s")
    print(
        f"{len(table)} BLiMP sentences ({len(table) // 2} pairs), {n_tokens} scored tokens; "
        f"shared prefixes cover {prefix_share(lm, table):.1%} of input tokens"
    )
    speed = {name: n / t for name, (t, n) in results.items()}
    bare = speed["(b) bare model(**batch)"]
    print(f"\n{'method':<36}{'tokens':>8}{'seconds':>10}{'tokens/s':>10}{'vs (b)':>8}")
    for name, (t, n) in results.items():
        print(f"{name:<36}{n:>8}{t:>10.2f}{speed[name]:>10.0f}{speed[name] / bare:>8.2f}")
    ours, naive_speed = speed["(a) score_tokens"], speed["(c) naive loop"]
    shared = speed["(d) score_tokens, shared prefixes"]
    print(
        f"\n(a)/(b) = {ours / bare:.2f} (target >= 0.9); (a)/(c) = {ours / naive_speed:.1f}x; "
        f"(d)/(b) = {shared / bare:.2f}, (d)/(a) = {shared / ours:.2f} (aim >= 1.3)"
    )


if __name__ == "__main__":
    main()
