"""Regression check: scoring, extraction and probing against their plain references.

Each is timed against an independent plain implementation in the same run, interleaved
and repeated (median ratio of CPU time, so that the machine's other users matter
little); the ratios are compared with ``benchmarks/baseline.json``, and the script exits
with status 1 when any ratio is more than 10% worse than its baseline. Not run in CI
(it loads the default model and takes minutes).

- scoring: ``score_tokens`` on BLiMP pairs (with the end-of-word mass) over the plain
  PyTorch loop of ``bench_scoring.py`` (batched forward, ``log_softmax``, gather);
- extraction: ``compute_activations`` (all layers, last-token pooling, chunks on disk)
  over a bare ``model.base_model`` forward on the same batches;
- probing: ``probe_layers`` (logistic probe, 5 folds) on synthetic activations over
  scikit-learn's ``StandardScaler`` + ``LogisticRegression`` refitted per layer and fold.

Run from the repository root::

    .venv/bin/python benchmarks/regression.py            # check against the baseline
    .venv/bin/python benchmarks/regression.py --update   # write the baseline anew
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from _timing import interleaved, load_average, median_ratio

BASELINE = Path(__file__).with_name("baseline.json")
TOLERANCE = 1.10


def scoring_pair(lm, pairs_per_phenomenon):
    from bench_scoring import BLIMP, plain_reference, read_pairs

    from probing.models import score_tokens

    table = read_pairs(BLIMP, pairs_per_phenomenon)
    return (lambda: score_tokens(lm, table),
            plain_reference(lm, table["text"].tolist(), batch_size=32))


def extraction_pair(lm, n):
    import torch
    from bench_extract import make_table

    from probing.models import encode_texts
    from probing.models.batching import pad_sequences, plan_batches
    from probing.models.site_activations import compute_activations
    from probing.store import ChunkWriter

    texts = make_table(n)["text"].tolist()
    seqs = [[lm.start_token_id, *e.token_ids] for e in encode_texts(lm.tokenizer, texts)]
    batches = [pad_sequences([seqs[i] for i in rows], pad_id=lm.start_token_id)
               for rows in plan_batches([len(s) for s in seqs], batch_size=32)]

    def package():
        with tempfile.TemporaryDirectory() as folder:
            compute_activations(lm, texts, [[None]] * n, layers="all", pooling="last",
                                batch_size=32, sink=ChunkWriter(folder, {}))

    def reference():
        with torch.inference_mode():
            for b in batches:
                lm.model.base_model(input_ids=b.input_ids, attention_mask=b.attention_mask,
                                    position_ids=b.position_ids, use_cache=False)

    return package, reference


def probing_pair(n_rows, n_layers, n_units):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from probing.probes import probe_layers

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, size=n_rows)
    values = rng.standard_normal((n_rows, n_layers, n_units)).astype(np.float32)
    values[np.arange(n_rows), :, labels] += 1.0
    folds = list(KFold(5, shuffle=True, random_state=0).split(values))

    def package():
        probe_layers(values, labels, groups=None, cv=folds, probe="logistic")

    def reference():
        for k in range(n_layers):
            X = values[:, k].astype(np.float64)
            for train, test in folds:
                model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
                model.fit(X[train], labels[train]).predict(X[test])

    return package, reference


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write the baseline file")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--pairs-per-phenomenon", type=int, default=2)
    parser.add_argument("--n-extract", type=int, default=256)
    parser.add_argument("--only", nargs="*", default=["scoring", "extraction", "probing"])
    args = parser.parse_args(argv)

    pairs = {}
    if {"scoring", "extraction"} & set(args.only):
        from probing.models import load_model

        lm = load_model("smollm2-135m")
        if "scoring" in args.only:
            pairs["scoring"] = scoring_pair(lm, args.pairs_per_phenomenon)
        if "extraction" in args.only:
            pairs["extraction"] = extraction_pair(lm, args.n_extract)
    if "probing" in args.only:
        pairs["probing"] = probing_pair(1000, 3, 64)
    ratios = {}
    for name, (package, reference) in pairs.items():
        package()  # warm-up: caches, lazy imports, first-call allocations
        times = interleaved({"package": package, "reference": reference}, args.repeats)
        ratios[name] = median_ratio(times, "package", "reference")
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    failed = []
    print(f"load average {load_average()}; CPU time ratio package / plain reference "
          f"(median of {args.repeats} interleaved rounds)")
    for name, ratio in ratios.items():
        old = baseline.get(name)
        worse = old is not None and ratio > TOLERANCE * old
        failed += [name] if worse else []
        print(f"{name:<11} {ratio:6.3f}  baseline {'-' if old is None else f'{old:.3f}'}"
              f"{'  WORSE by more than 10%' if worse else ''}")
    if args.update:
        BASELINE.write_text(json.dumps({**baseline, **ratios}, indent=2, sort_keys=True) + "\n")
        print(f"wrote {BASELINE}")
        return 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
