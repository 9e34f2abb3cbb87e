"""Speed and calibration of the causal analyses (probing.causal), on synthetic arrays.

Sizes are those of the default model (SmolLM2-135M: 30 layers + embeddings, 9 heads,
576 hidden units) and a 200-pair paradigm. Reports, in one run:

(a) ``patching_effects`` on a layer x position x site sweep and a per-head sweep
    (2000 item-bootstrap resamples, both metrics);
(b) ``LeaceEraser`` against ``concept_erasure.LeaceFitter`` (torch, CPU) on 576 units:
    fit time and the largest absolute difference of the erased data;
(c) calibration: the false-positive rate of the random-unit-set null at alpha = 0.05
    (the tested set is itself a matched random set, ``--seeds`` simulations), and the
    coverage of the 95% patching interval.

Run from the repository root::

    .venv/bin/python benchmarks/bench_causal.py [--seeds 1000]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from _timing import timed  # benchmarks/ is on sys.path when a script runs

from probing.causal import (
    LeaceEraser,
    compare_to_null,
    patching_effects,
    sample_matched_units,
)


def bench_patching(rng):
    clean, corrupted = rng.normal(3, 1, 200), rng.normal(-1, 1, 200)
    for name, shape in [("layer x position x site", (200, 31, 20, 3)),
                        ("layer x position x head", (200, 31, 20, 9, 1))]:
        patched = rng.normal(size=shape)
        seconds, table = timed(lambda p=patched: patching_effects(
            clean, corrupted, p, direction="denoising", n_boot=2000), repeats=2)
        print(f"(a) patching_effects, {name} {shape}: {len(table)} rows in {seconds:.2f} s")


def bench_leace(rng):
    import torch
    from concept_erasure import LeaceFitter

    labels = rng.integers(0, 2, 4000)
    X = rng.normal(size=(4000, 576)) + 0.5 * np.outer(labels, rng.normal(size=576))
    ours_s, ours = timed(lambda: LeaceEraser().fit(X, labels), repeats=2)
    Z = torch.from_numpy(np.eye(2)[labels])
    theirs_s, fitter = timed(lambda: LeaceFitter.fit(torch.from_numpy(X), Z, shrinkage=False,
                                                     constrain_cov_trace=False), repeats=2)
    theirs_s2, eraser = timed(lambda: fitter.eraser, repeats=1)
    diff = np.abs(ours.transform(X) - eraser(torch.from_numpy(X)).numpy()).max()
    print(f"(b) LEACE 4000 x 576: ours {ours_s:.2f} s, concept-erasure "
          f"{theirs_s + theirs_s2:.2f} s; max |difference| {diff:.1e}")


def calibrate_ablation(n_seeds, n_layers=4, n_units=30, n_sets=99):
    units = pd.DataFrame({"layer": np.repeat(np.arange(n_layers), n_units), "site": "mlp_out",
                          "unit": np.tile(np.arange(n_units), n_layers)})
    template = units.iloc[[5, 40, 41, 100]]
    rejected = 0
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        weights = rng.normal(0, 0.05, len(units))
        acts = np.abs(rng.normal(1, 0.3, (30, len(units))))
        draws = sample_matched_units(units, template, n_sets=n_sets + 1, random_state=rng)
        index = (draws["layer"] * n_units + draws["unit"]).to_numpy().reshape(n_sets + 1, -1)
        keep = np.ones((n_sets + 1, len(units)))
        np.put_along_axis(keep, index, 0.0, axis=1)
        baseline = acts @ weights
        runs = (acts @ (weights * keep).T).T
        out = compare_to_null(runs[0] - baseline, runs[1:] - baseline, n_boot=10)
        rejected += out.loc[0, "p_val"] <= 0.05
    return rejected / n_seeds


def coverage_patching(n_seeds):
    covered = 0
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        clean, corrupted = rng.normal(2, 1, 60), rng.normal(0, 1, 60)
        patched = (corrupted + 0.5 + rng.standard_t(5, 60))[:, None, None, None]
        row = patching_effects(clean, corrupted, patched, direction="denoising", n_boot=1000,
                               random_state=seed).iloc[0]
        covered += row["ci_low"] <= 0.5 <= row["ci_high"]
    return covered / n_seeds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    bench_patching(rng)
    bench_leace(rng)
    fpr = calibrate_ablation(args.seeds)
    print(f"(c) random-unit-set null, alpha 0.05: false-positive rate {fpr:.3f} "
          f"over {args.seeds} seeds")
    cover = coverage_patching(args.seeds)
    print(f"(c) patching 95% interval (60 pairs, t5 noise): coverage {cover:.3f} "
          f"over {args.seeds} seeds")


if __name__ == "__main__":
    main()
