"""RSA speed and agreement against rsatoolbox on a network-sized layer stack.

Synthetic activations, 31 layers x 200 stimuli x 576 units (float32, a planted
categorical structure in some layers), one categorical model RDM, Spearman comparison
and a 10,000-permutation stimulus-label test. Compares, in the same run:

(a) ``probing.rsa.compute_rdm`` (correlation distance, float32 Gram products, all layers)
    against ``rsatoolbox.rdm.calc_rdm`` on one Dataset per layer;
(b) ``probing.rsa.permutation_test`` (10,000 permutations, all layers at once) against
    rsatoolbox, which has no permutation test: the baseline relabels the model RDM with
    ``RDMs.reorder`` and calls ``rsatoolbox.rdm.compare`` for each permutation, run on
    the first ``--baseline-perms`` of *our* permutations and extrapolated linearly;
(c) the whole ``probing.rsa.rsa_layers`` sweep (RDMs, permutations, Holm correction).

Agreement is checked on the same numbers: RDMs, observed comparisons and the permuted
values of the permutations both ran.

Run from the repository root::

    .venv/bin/python benchmarks/bench_rsa.py [--n-perm 10000] [--baseline-perms 200]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from _timing import timed  # benchmarks/ is on sys.path when a script runs

from probing.rsa import build_model_rdm, compute_rdm, permutation_test, rsa_layers


def make_data(n_layers, n_stimuli, n_units, seed):
    """Activations (n_stimuli, n_layers, n_units), float32, and the stimuli factor."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    factor = np.repeat(["a", "b", "c", "d"], n_stimuli // 4 + 1)[:n_stimuli]
    codes = pd.factorize(factor)[0]
    values = rng.normal(size=(n_stimuli, n_layers, n_units)).astype(np.float32)
    values += 3.0  # a shared offset, as residual-stream states have
    centres = rng.normal(size=(4, n_units)).astype(np.float32)
    strength = np.sin(np.linspace(0, np.pi, n_layers)).astype(np.float32) * 0.4
    values += strength[None, :, None] * centres[codes][:, None, :]
    table = pd.DataFrame({"stimulus_id": [f"s{i:03d}" for i in range(n_stimuli)],
                          "factor": factor})
    return values, table


def rsatoolbox_rdms(rsatoolbox, values, labels):
    """One calc_rdm per layer (rsatoolbox's correlation distance), concatenated."""
    rdms = [rsatoolbox.rdm.calc_rdm(
        rsatoolbox.data.Dataset(values[:, k].astype(np.float64),
                                obs_descriptors={"stimulus_id": labels}),
        method="correlation", descriptor="stimulus_id") for k in range(values.shape[1])]
    return rsatoolbox.rdm.concat(rdms)


def rsatoolbox_permutations(rsatoolbox, data, model, perms):
    """The obvious rsatoolbox loop: relabel the model RDM, compare with every layer."""
    null = np.empty((len(perms), data.n_rdm))
    for k, perm in enumerate(perms):
        permuted = model.copy()
        permuted.reorder(perm)
        null[k] = rsatoolbox.rdm.compare(data, permuted, method="spearman")[:, 0]
    return null


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=31)
    parser.add_argument("--stimuli", type=int, default=200)
    parser.add_argument("--units", type=int, default=576)
    parser.add_argument("--n-perm", type=int, default=10_000)
    parser.add_argument("--baseline-perms", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import rsatoolbox

    values, table = make_data(args.layers, args.stimuli, args.units, args.seed)
    labels = table["stimulus_id"].tolist()
    model = build_model_rdm(table, factor="factor")
    t_ours_rdm, ours = timed(lambda: compute_rdm(values, stimulus_ids=labels), args.repeats)
    t_theirs_rdm, theirs = timed(lambda: rsatoolbox_rdms(rsatoolbox, values, labels), 1)
    ours64 = compute_rdm(values, stimulus_ids=labels, dtype="float64")
    t_ours_perm, test = timed(lambda: permutation_test(ours, model, n_perm=args.n_perm,
                                                       random_state=args.seed), args.repeats)
    their_model = rsatoolbox.rdm.RDMs(model.values.copy())
    k = min(args.baseline_perms, test.n_perm)
    t_base, their_null = timed(lambda: rsatoolbox_permutations(
        rsatoolbox, theirs, their_model, test.permutations[:k]), 1)
    t_theirs_perm = t_base / k * test.n_perm
    their_value = rsatoolbox.rdm.compare(theirs, their_model, method="spearman")[:, 0]
    value64 = permutation_test(ours64, model, n_perm=1, max_exact=0, random_state=0).value[:, 0]
    t_sweep, sweep = timed(lambda: rsa_layers(values, {"factor": model}, stimulus_ids=labels,
                                              n_perm=args.n_perm, bootstrap=None,
                                              random_state=args.seed), 1)

    print(f"{args.layers} layers x {args.stimuli} stimuli x {args.units} units "
          f"({args.stimuli * (args.stimuli - 1) // 2} pairs), spearman, "
          f"{test.n_perm} permutations; {os.cpu_count()} CPUs visible")
    print(f"\n{'step':<44}{'probing s':>11}{'rsatoolbox s':>14}{'speed-up':>10}")
    rows = [("(a) RDMs, all layers (correlation)", t_ours_rdm, t_theirs_rdm),
            (f"(b) permutation test, {test.n_perm} perms", t_ours_perm, t_theirs_perm)]
    for name, ours_t, theirs_t in rows:
        print(f"{name:<44}{ours_t:>11.2f}{theirs_t:>14.2f}{theirs_t / ours_t:>9.1f}x")
    print(f"    rsatoolbox (b): {k} permutations took {t_base:.2f} s, extrapolated linearly "
          f"to {test.n_perm}")
    total_theirs = t_theirs_rdm + t_theirs_perm
    print(f"(c) rsa_layers sweep (a + b + Holm): {t_sweep:.2f} s vs rsatoolbox (a + b) "
          f"{total_theirs:.2f} s: {total_theirs / t_sweep:.1f}x (target >= 10x)")

    print("\nagreement with rsatoolbox (max abs difference)")
    print(f"  RDMs, float32 Gram (default)        {np.abs(ours.values - theirs.get_vectors()).max():.2e}")
    print(f"  RDMs, float64 Gram                  {np.abs(ours64.values - theirs.get_vectors()).max():.2e}")
    print(f"  observed spearman, per layer        {np.abs(test.value[:, 0] - their_value).max():.2e}")
    print(f"  observed spearman, float64 RDMs     {np.abs(value64 - their_value).max():.2e}")
    print(f"  permuted spearman, {k} x {args.layers} values  "
          f"{np.abs(test.null[:k, :, 0] - their_null).max():.2e}")
    print(f"  rsa_layers value vs rsatoolbox      {np.abs(sweep['estimate'] - their_value).max():.2e}")
    best = sweep.loc[sweep["estimate"].idxmax()]
    print(f"\npeak layer {best['layer']}: spearman {best['estimate']:.3f}, p_corr {best['p_corr']:.2g};"
          f" layers with p_corr < 0.05: {int((sweep['p_corr'] < 0.05).sum())} of {args.layers}")


if __name__ == "__main__":
    main()
