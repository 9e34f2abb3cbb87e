"""Extraction speed against the bare transformer body, and peak memory vs. stimulus count.

Run ``python benchmarks/bench_extract.py`` (default model, CPU unless CUDA is available).

1. Throughput: stimuli/s and tokens/s of :func:`probing.models.site_activations.compute_activations`
   (all layers, ``resid_post``, last-token pooling, chunks written to disk) against a bare
   forward of ``model.base_model`` (no LM head, no hidden states kept) on the *same*
   length-bucketed batches. Target: ratio >= 0.9.
2. Memory: peak resident memory of a full cached extraction of N_SMALL and N_LARGE
   stimuli, each in a fresh subprocess. Target: ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

SUBJECTS = ["The author", "The pilots", "A child", "The senator", "Many people", "The dogs",
            "The teacher", "Those boys", "The keys to the cabinet", "The woman next door"]
VERBS = ["said that", "believed that", "noticed that", "forgot that", "heard that"]
CLAUSES = ["the earth is round.", "the meeting starts soon.", "the cat sat on the mat.",
           "the horse raced past the barn.", "the authors have written many books."]


def make_table(n, seed=0):
    """``n`` synthetic sentences with ids (lengths vary, so bucketing matters)."""
    rng = np.random.default_rng(seed)
    texts = [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(CLAUSES)}" for _ in range(n)]
    return pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(n)], "text": texts})


def bench_speed(lm, n, batch_size):
    import torch

    from probing.models import encode_texts
    from probing.models.batching import pad_sequences, plan_batches
    from probing.models.site_activations import compute_activations
    from probing.store import ChunkWriter

    table = make_table(n)
    texts = table["text"].tolist()
    seqs = [[lm.start_token_id, *e.token_ids] for e in encode_texts(lm.tokenizer, texts)]
    n_tokens = sum(len(s) for s in seqs)
    base = lm.model.base_model
    batches = plan_batches([len(s) for s in seqs], batch_size=batch_size)

    def bare():
        with torch.inference_mode():
            for idx in batches:
                b = pad_sequences([seqs[i] for i in idx], pad_id=lm.start_token_id)
                base(input_ids=b.input_ids, attention_mask=b.attention_mask,
                     position_ids=b.position_ids, use_cache=False)

    def extract():
        with tempfile.TemporaryDirectory() as d:
            compute_activations(lm, texts, [[None]] * n, layers="all", pooling="last",
                                batch_size=batch_size, sink=ChunkWriter(d, {}))

    timings = {"bare": [], "extract": []}
    bare()  # warm-up
    for _ in range(3):  # interleaved, so drifts in machine load hit both alike
        for name, fn in (("bare", bare), ("extract", extract)):
            start = time.perf_counter()
            fn()
            timings[name].append(time.perf_counter() - start)
    best = {k: min(v) for k, v in timings.items()}
    for name in ("bare", "extract"):
        print(f"{name:<8} {n / best[name]:8.1f} stimuli/s  {n_tokens / best[name]:9.1f} tokens/s"
              f"  (best of 3: {best[name]:.2f} s)")
    print(f"extraction / bare forward throughput: {best['bare'] / best['extract']:.3f} (target >= 0.9)")


def memory_run(n, batch_size):
    """Extract ``n`` stimuli into a fresh cache; print peak RSS in MiB."""
    from probing.models import load_model
    from probing.pipeline.extraction import extract_activations

    lm = load_model("smollm2-135m", device="cpu")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as d:
        acts = extract_activations(lm, make_table(n), layers="all", pooling="last",
                                   batch_size=batch_size, cache_dir=d)
        shape = acts.shape
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{n} {peak:.1f} {before:.1f} {shape}")


def bench_memory(sizes, batch_size):
    peaks = {}
    for n in sizes:
        out = subprocess.run([sys.executable, __file__, "--memory-run", str(n),
                              "--batch-size", str(batch_size)],
                             capture_output=True, text=True, check=True).stdout.split()
        peaks[n] = float(out[1])
        print(f"{n:>6} stimuli: peak RSS {peaks[n]:8.1f} MiB (after loading the model: "
              f"{float(out[2]):.1f} MiB), values {' '.join(out[3:])}")
    small, large = sizes
    print(f"peak RSS ratio {large} / {small}: {peaks[large] / peaks[small]:.3f} (target <= 1.2)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-speed", type=int, default=512)
    parser.add_argument("--n-small", type=int, default=2000)
    parser.add_argument("--n-large", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--memory-run", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_run is not None:
        return memory_run(args.memory_run, args.batch_size)
    if not args.skip_speed:
        from probing.models import load_model

        lm = load_model("smollm2-135m", device="cpu")
        print(f"model {lm.name}, {args.n_speed} stimuli, batch size {args.batch_size}")
        bench_speed(lm, args.n_speed, args.batch_size)
    if not args.skip_memory:
        bench_memory((args.n_small, args.n_large), args.batch_size)


if __name__ == "__main__":
    main()
