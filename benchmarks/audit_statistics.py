"""Null and planted-data simulations behind docs/statistics.md (issue #15).

Each case prints the number the documentation quotes. Run from the repository root,
one case at a time (they take seconds to minutes on two cores)::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/audit_statistics.py probe-fpr [--n-sets 100]
    ... audit_statistics.py auto-fpr | mixed-fpr | paired-fpr | crossnobis-bias | mlp-small

Run it on an older commit (``git archive <commit> | tar -x -C /tmp/old`` and
``PYTHONPATH=/tmp/old``) for the "before" numbers; cases that use options the old
code lacks say so and skip them.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd


def probe_fpr(n_sets):
    """FPR at 0.05 of permutation_test_layers: 30 balanced rows, 5 random units."""
    from probing.probes import RidgeClassifierProbe, build_folds, permutation_test_layers

    def fpr(alpha, grouped, explicit):
        rejected = 0
        for seed in range(n_sets):
            rng = np.random.default_rng(seed)
            X = rng.normal(size=(30, 1, 5))
            if grouped:  # group-level labels, 10 groups of 3
                groups = np.repeat(np.arange(10), 3)
                y = np.repeat(rng.permutation(np.tile([0, 1], 5)), 3)
            else:
                groups, y = None, rng.permutation(np.tile([0, 1], 15))
            cv = build_folds(X, y, groups=groups, cv=5, probe="ridge_classifier",
                             random_state=seed) if explicit else 5
            table = permutation_test_layers(X, y, groups=groups, cv=cv, n_perm=199,
                                            probe=RidgeClassifierProbe(alpha=alpha),
                                            random_state=seed)
            rejected += table.p_val[0] <= 0.05
        return rejected / n_sets

    for alpha in (1.0, 100.0, 1e4):
        print(f"alpha {alpha:g}: cv=5 rows {fpr(alpha, False, False):.3f} groups "
              f"{fpr(alpha, True, False):.3f}; stratified explicit folds rows "
              f"{fpr(alpha, False, True):.3f} groups {fpr(alpha, True, True):.3f}", flush=True)


def auto_fpr(n_sets):
    """FPR of permute="auto": labels constant within 20 groups x 4 rows but 3 rows,
    activations clustered by group."""
    from probing.probes import permutation_test_layers

    rejected, schemes = 0, set()
    for seed in range(n_sets):
        rng = np.random.default_rng(seed)
        groups = np.repeat(np.arange(20), 4)
        y = np.repeat(rng.permutation(np.tile([0, 1], 10)), 4)
        flip = rng.choice(20, size=3, replace=False) * 4
        y[flip] = 1 - y[flip]
        X = rng.normal(size=(20, 1, 8))[groups] + 0.3 * rng.normal(size=(80, 1, 8))
        table = permutation_test_layers(X, y, groups=groups, cv=4, n_perm=99,
                                        random_state=seed)
        rejected += table.p_val[0] <= 0.05
        schemes |= set(table.permute)
    print(f"permute='auto' ({sorted(schemes)}): FPR {rejected / n_sets:.3f}", flush=True)


def _two_conditions(rng, n_items):
    items = np.repeat(np.arange(n_items), 2)
    cond = np.tile(["a", "b"], n_items)
    y = rng.normal(size=n_items)[items] + rng.normal(size=2 * n_items)
    return pd.DataFrame({"item_id": items, "c": cond, "y": y})


def mixed_fpr(n_sets):
    """FPR at 0.05 of the mixed model's condition term (random intercepts, no effect)."""
    from probing.stats import fit_mixed_model

    rng = np.random.default_rng(1)
    for n_items in (6, 8, 12, 20):
        wald, by_item = [], []
        for _ in range(n_sets):
            table = _two_conditions(rng, n_items)
            wald.append(fit_mixed_model(table, outcome="y", fixed=["c"])["p_val"].iloc[1])
            try:
                by_item.append(fit_mixed_model(table, outcome="y", fixed=["c"],
                                               test="by_item")["p_val"].iloc[1])
            except TypeError:  # code from before the by-item test
                by_item.append(np.nan)
        print(f"{n_items} items: wald {np.mean(np.array(wald) < 0.05):.3f} by_item "
              f"{np.mean(np.array(by_item) < 0.05):.3f}", flush=True)


def paired_fpr(n_sets):
    """FPR at 0.05 of paired_test between two independent 0/1 predictors (accuracy 0.7)."""
    from probing.probes import paired_test

    rng = np.random.default_rng(0)
    for n_groups in (8, 12):
        p = []
        for _ in range(n_sets):
            rows = np.arange(n_groups * 5)
            a = pd.DataFrame({"row": rows, "fold": rows % 4, "group": rows // 5, "y_true": 1,
                              "correct": (rng.uniform(size=rows.size) < 0.7).astype(int)})
            b = a.assign(correct=(rng.uniform(size=rows.size) < 0.7).astype(int))
            p.append(paired_test(a, b, n_boot=2, n_perm=10_000).p_val[0])
        print(f"{n_groups} groups: FPR {np.mean(np.array(p) < 0.05):.3f}", flush=True)


def crossnobis_bias(n_sets):
    """Mean crossnobis distance on null data (all stimuli one mean), by noise estimate."""
    from probing.rsa import average_patterns, compute_rdm, estimate_noise_cov

    for n_stim, n_folds in ((5, 4), (5, 10), (10, 20)):
        out = {"true": [], "same": [], "folds": []}
        for seed in range(n_sets):
            rng = np.random.default_rng(seed)
            ids = np.tile(np.arange(n_stim), n_folds)
            folds = np.repeat(np.arange(n_folds), n_stim)
            X = rng.normal(size=(ids.size, 20))
            means, _ = average_patterns(X, ids)
            kw = {"distance": "crossnobis", "stimulus_ids": ids, "folds": folds,
                  "dtype": "float64"}
            out["true"].append(compute_rdm(X, noise=np.eye(20), **kw).values.mean())
            out["same"].append(compute_rdm(X, noise=estimate_noise_cov(X - means[ids]),
                                           **kw).values.mean())
            try:
                out["folds"].append(compute_rdm(X, residuals="folds", **kw).values.mean())
            except Exception:
                out["folds"].append(np.nan)
        print(f"{n_stim} stimuli x {n_folds} folds: " + ", ".join(
            f"{k} {np.mean(v):+.3f} (SE {np.std(v) / np.sqrt(len(v)):.3f})"
            for k, v in out.items()), flush=True)


def mlp_small(_):
    """Default probes on 160 sentence-level rows (5 folds), a planted 10-unit direction."""
    from probing.probes import probe_layers

    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 80)
    X = rng.normal(size=(160, 1, 64))
    X[:, 0, :10] += 0.5 * (2 * y[:, None] - 1)
    for probe in ("logistic", "mlp"):
        scores = probe_layers(X, y, groups=None, probe=probe)
        print(f"{probe}: accuracy {scores.loc[scores.metric == 'accuracy', 'estimate'].mean():.3f}",
              flush=True)


CASES = {"probe-fpr": probe_fpr, "auto-fpr": auto_fpr, "mixed-fpr": mixed_fpr, "paired-fpr": paired_fpr,
         "crossnobis-bias": crossnobis_bias, "mlp-small": mlp_small}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--n-sets", type=int, default=200, help="null data sets per cell")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    CASES[args.case](args.n_sets)


if __name__ == "__main__":
    main()
