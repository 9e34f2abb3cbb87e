"""Token scoring against a plain PyTorch reference, on BLiMP minimal pairs, default model.

Compares, on the same sentences, interleaved and repeated in one run (the median ratio
of CPU time is the figure; wall time and load average are printed beside it):

(a) ``probing.models.score_tokens``: tokenization, batching, the end-of-word mass after
    every token (one more input column per sentence, in the same forward), gathering
    and the tokens table;
(r) the plain PyTorch reference: the same length-sorted batches of ``[start, t_1 ..
    t_{n-1}]``, ``model(**batch).logits.log_softmax(-1)`` and a gather of each token's
    log-probability (no end-of-word mass);
(b) the bare ``model(**batch)`` forward on (r)'s batches, prebuilt;
(d) ``score_tokens(..., share_prefixes=True)`` (with ``--shared``).

It also checks that (a) and (r) agree on every token's log-probability.
Run from the repository root::

    .venv/bin/python benchmarks/bench_scoring.py [--pairs-per-phenomenon 8] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _timing import interleaved, load_average, median_ratio, median_time

from probing.models import load_model, score_tokens
from probing.models.batching import pad_sequences, plan_batches

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


def reference_batches(lm, texts, batch_size):
    """(r)'s inputs: per length-sorted batch, the padded inputs, and each row's targets."""
    ids = [lm.tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    inputs = [[lm.start_token_id, *seq[:-1]] for seq in ids]
    batches = []
    for rows in plan_batches([len(s) for s in inputs], batch_size=batch_size):
        batch = pad_sequences([inputs[i] for i in rows], pad_id=lm.start_token_id)
        batches.append((rows, batch, [ids[i] for i in rows]))
    return batches


def plain_reference(lm, texts, batch_size):
    """(r): a closure returning each text's token log-probabilities, as most code does it."""

    def run():
        out = [None] * len(texts)
        with torch.inference_mode():
            for rows, batch, targets in reference_batches(lm, texts, batch_size):
                logp = lm.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                                position_ids=batch.position_ids,
                                use_cache=False).logits.log_softmax(-1)
                for r, (i, target) in enumerate(zip(rows, targets, strict=True)):
                    n = len(target)
                    out[i] = logp[r, torch.arange(n), torch.tensor(target)].double().numpy()
        return out

    return run


def bare_forward(lm, texts, batch_size):
    """(b): the model alone on (r)'s batches, built beforehand."""
    batches = [batch for _, batch, _ in reference_batches(lm, texts, batch_size)]

    def run():
        with torch.inference_mode():
            for batch in batches:
                lm.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                         position_ids=batch.position_ids, use_cache=False)

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs-per-phenomenon", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--shared", action="store_true", help="also time share_prefixes")
    args = parser.parse_args(argv)

    lm = load_model("smollm2-135m")
    table = read_pairs(BLIMP, args.pairs_per_phenomenon)
    texts = table["text"].tolist()
    tokens = score_tokens(lm, table, batch_size=args.batch_size)
    reference = plain_reference(lm, texts, args.batch_size)()
    gap = np.abs(tokens["logprob"].to_numpy() - np.concatenate(reference)).max()
    functions = {
        "(a) score_tokens": lambda: score_tokens(lm, table, batch_size=args.batch_size),
        "(r) plain reference": plain_reference(lm, texts, args.batch_size),
        "(b) bare model(**batch)": bare_forward(lm, texts, args.batch_size),
    }
    if args.shared:
        functions["(d) shared prefixes"] = lambda: score_tokens(
            lm, table, batch_size=args.batch_size, share_prefixes=True)
    times = interleaved(functions, args.repeats)

    print(f"model: SmolLM2-135M-Instruct quantised to 4 bits (GGUF Q4_1, de-quantised to "
          f"float32 on load), {torch.get_num_threads()} threads; load average "
          f"{load_average()} at the end")
    print(f"{len(table)} BLiMP sentences ({len(table) // 2} pairs), {len(tokens)} tokens; "
          f"max |logprob (a) - (r)| = {gap:.1e}; {args.repeats} interleaved rounds")
    print(f"\n{'method':<28}{'CPU s':>9}{'wall s':>9}{'CPU vs (r)':>12}{'wall vs (r)':>13}")
    for name in functions:
        print(f"{name:<28}{median_time(times, name):>9.2f}{median_time(times, name, 0):>9.2f}"
              f"{median_ratio(times, name, '(r) plain reference'):>12.3f}"
              f"{median_ratio(times, name, '(r) plain reference', 0):>13.3f}")
    ratio = median_ratio(times, "(a) score_tokens", "(r) plain reference")
    print(f"\nscore_tokens / plain reference (median CPU ratio) = {ratio:.3f} (target <= 1.0)")


if __name__ == "__main__":
    main()
