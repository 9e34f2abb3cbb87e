"""Permutation-test speed: the closed-form ridge path against refitting every permutation.

The issue's target size: 1,000 permutations x 31 layers x 2,000 rows x 576 units, 5-fold
grouped CV, the linear probe (``RidgeClassifierProbe``), on synthetic float32 activations
with a binary label (1,000 items of two rows each, one row per class, as in minimal
pairs; a weak signal planted in layers 10-20). Compares, on the same data and folds:

(a) ``permutation_test_layers(..., method="closed_form")``: one hat map per layer and
    fold, then all permutations in one matrix product;
(b) the naive path, ``method="refit"``: scikit-learn refits for every permutation, layer
    and fold, timed on a few permutations and extrapolated to ``--n-perm``.

It also checks that both paths give the same scores on those few permutations.
Run from the repository root::

    .venv/bin/python benchmarks/bench_probes.py [--n-perm 1000] [--naive-perm 2] [--repeats 2]
    .venv/bin/python benchmarks/bench_probes.py --classes 17 --rows 9588 --layers 3  # UD POS-sized
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from _timing import timed  # benchmarks/ is on sys.path when a script runs

from probing.probes import RidgeClassifierProbe, build_folds, permutation_test_layers


def make_data(n_rows, n_layers, n_units, random_state, n_classes=2):
    """Float32 activations, labels cycling through the classes within items of
    ``n_classes`` rows, item groups; each class shifts its own unit in layers 10-20."""
    rng = np.random.default_rng(random_state)
    labels = np.tile(np.arange(n_classes), n_rows // n_classes)
    items = np.repeat(np.arange(n_rows // n_classes), n_classes)
    values = rng.standard_normal((len(labels), n_layers, n_units), dtype=np.float32)
    if n_classes == 2:
        values[:, 10:21, :8] += 0.25 * labels[:, None, None].astype(np.float32)
    else:
        values[np.arange(len(labels)), 10:21, labels % n_units] += 0.5
    return values, labels, items


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-perm", type=int, default=1000)
    parser.add_argument("--naive-perm", type=int, default=2, help="permutations to refit")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--layers", type=int, default=31)
    parser.add_argument("--units", type=int, default=576)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2, help="best of, for the closed form")
    parser.add_argument("--classes", type=int, default=2,
                        help="label classes (2, the issue's case; 17 is UD POS)")
    args = parser.parse_args(argv)

    values, labels, items = make_data(args.rows, args.layers, args.units, random_state=0,
                                      n_classes=args.classes)
    probe = RidgeClassifierProbe(alpha=1.0)
    folds = build_folds(values, labels, groups=items, cv=args.folds, probe=probe)
    common = {"groups": items, "cv": folds, "probe": probe, "random_state": 0}

    fast_s, fast = timed(lambda: permutation_test_layers(
        values, labels, n_perm=args.n_perm, engine="closed_form", **common), args.repeats)
    naive_s, naive = timed(lambda: permutation_test_layers(
        values, labels, n_perm=args.naive_perm, engine="refit", **common))
    check = permutation_test_layers(values, labels, n_perm=args.naive_perm,
                                    engine="closed_form", **common)
    # Refitting scores the observed labels too, so it fitted 1 + naive_perm label sets.
    naive_total = naive_s / (1 + args.naive_perm) * (1 + args.n_perm)
    same = np.allclose(check[["estimate", "null_mean"]], naive[["estimate", "null_mean"]],
                       rtol=0, atol=1e-12)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{args.n_perm} permutations x {args.layers} layers x {args.rows} rows x "
          f"{args.units} units, {args.folds}-fold grouped CV, {args.classes} classes, "
          f"RidgeClassifierProbe(alpha=1.0), {cores} cores")
    print(f"\n{'method':<44}{'seconds':>10}")
    print(f"{'(a) closed form (hat map, one product)':<44}{fast_s:>10.1f}"
          f"   [best of {args.repeats}]")
    print(f"{'(b) refit every permutation (extrapolated)':<44}{naive_total:>10.1f}"
          f"   [{naive_s:.1f} s for {args.naive_perm} permutations + observed]")
    print(f"\n(b)/(a) = {naive_total / fast_s:.0f}x; target (a) < 60 s: "
          f"{'met' if fast_s < 60 else 'NOT met'}; closed form equals refit on the "
          f"{args.naive_perm} permutations: {same}")
    significant = fast.loc[fast.p_corr < 0.05, "layer"].tolist()
    print(f"layers with Holm p_corr < 0.05 (signal planted in 10-20): {significant}")


if __name__ == "__main__":
    main()
