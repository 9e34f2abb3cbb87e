"""The analyses of a controlled-probing run: one BLAS thread per fit against the default threads.

Issue #27's regression (the UD run took 391 s where it had taken 222 s, with identical
numbers) was the probe fits: lbfgs (scipy >= 1.15 runs its vector updates through
OpenBLAS) and the small products of a fit spent their time in OpenBLAS threads on a
shared machine. The probes now fit with one BLAS thread (``one_blas_thread`` in
:mod:`probing.probes.estimators`). This script times the analyses of ``probing probe``
(``fit_probes`` after extraction: control tasks for the logistic and MLP probes, the
closed-form permutation test, MDL for both probes, the control model's task scores) on
synthetic activations with the run's proportions (45 classes with UD-like skew, word
types recurring across sentences of ~20 words, 576 units):

(new) the package as it is (one BLAS thread per fit);
(old) the same calls with the BLAS threads left at their default (the previous code);
(r) a plain scikit-learn reference: ``StandardScaler`` + ``LogisticRegression`` and
    ``MLPClassifier`` refitted per layer, fold and task, threads left at their default.

Interleaved and repeated in one process, after a warm-up on a tiny design (imports);
it asserts that (new) and (old) give equal tables (every column,
exactly) and prints the median CPU-time ratios with the load
average. Run from the repository root::

    nice -n 10 .venv/bin/python benchmarks/bench_probe_run.py [--rows 1000] [--n-perm 100]

``--rows 4000 --layers 5 --n-perm 1000`` is the 200-sentence UD design's size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import interleaved, load_average, median_ratio, median_time

OUT = Path(__file__).resolve().parents[1] / "docs" / "results" / "performance" / "probe_run.json"


def make_design(n_rows, n_layers, n_units, n_classes, seed=0):
    """Activations of a model and of a control model, labels, word types, sentences."""
    rng = np.random.default_rng(seed)
    n_types = max(n_classes, n_rows // 4)
    weights = 1.0 / np.arange(1, n_types + 1)  # Zipf: frequent types recur across sentences
    types = rng.choice(n_types, size=n_rows, p=weights / weights.sum())
    class_weights = 1.0 / np.arange(1, n_classes + 1) ** 1.5  # a few big classes, a long tail
    type_class = rng.choice(n_classes, size=n_types, p=class_weights / class_weights.sum())
    labels = np.array([f"C{c}" for c in type_class[types]])
    values = rng.standard_normal((n_rows, n_layers, n_units)).astype(np.float32)
    signal = rng.standard_normal((n_classes, n_units)).astype(np.float32)
    for k in range(n_layers):
        values[:, k] += (0.3 + 0.2 * k) * signal[type_class[types]]
    control = rng.standard_normal((n_rows, n_layers, n_units)).astype(np.float32)
    sentences = np.arange(n_rows) // 20
    return values, control, labels, types, sentences


def analyses(design, n_perm, probes=("logistic", "mlp"), seeds=(0, 1, 2, 3, 4)):
    """The tables ``fit_probes`` computes after extraction, with the same calls."""
    from probing.probes import (
        build_folds,
        control_task_layers,
        mdl_layers,
        permutation_test_layers,
        probe_layers,
    )

    values, control, labels, types, sentences = design
    folds = build_folds(values, labels, groups=sentences, cv=5, random_state=0)
    common = {"cv": folds, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = {
            "scores": pd.concat([control_task_layers(values, labels, word_types=types,
                                                     groups=sentences, probe=p, seeds=seeds,
                                                     **common) for p in probes]
                                + [probe_layers(control, labels, groups=None, probe=p, **common)
                                   for p in probes], ignore_index=True),
            "permutation": permutation_test_layers(values, labels, groups=None,
                                                   probe="ridge_classifier", n_perm=n_perm,
                                                   **common),
            "mdl": pd.concat([mdl_layers(values, labels, probe=p, random_state=0)
                              for p in probes], ignore_index=True),
        }
    return tables


def previous(function):
    """``function`` run with the BLAS threads at their default (the code before)."""
    from probing.probes import estimators

    def run():
        kept = estimators.one_blas_thread
        estimators.one_blas_thread = contextlib.nullcontext
        try:
            return function()
        finally:
            estimators.one_blas_thread = kept
    return run


def sklearn_reference(design, seeds=(0, 1, 2, 3, 4)):
    """(r): plain scikit-learn refits, per layer, fold, task and probe (no MDL, no test)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from probing.probes import make_control_labels

    values, _, labels, types, sentences = design
    folds = list(GroupKFold(5).split(values, labels, sentences))
    tasks = [labels] + [make_control_labels(types, labels, random_state=s) for s in seeds]

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for model in (lambda: LogisticRegression(max_iter=200),
                          lambda: MLPClassifier((64,), early_stopping=True, random_state=0)):
                for k in range(values.shape[1]):
                    X = values[:, k].astype(np.float64)
                    for y in tasks:
                        for train, test in folds:
                            make_pipeline(StandardScaler(), model()).fit(
                                X[train], y[train]).predict(X[test])
    return run


def assert_equal_tables(new, old):
    for name in new:
        pd.testing.assert_frame_equal(new[name], old[name], check_exact=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--units", type=int, default=576)
    parser.add_argument("--classes", type=int, default=45)
    parser.add_argument("--n-perm", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--reference", action="store_true", help="also time (r)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    analyses(make_design(200, 1, 8, 3), 5)  # warm-up: imports, first calls
    design = make_design(args.rows, args.layers, args.units, args.classes)
    tables = {}

    def keep(name, function):
        return lambda: tables.__setitem__(name, function())

    functions = {"(new) one BLAS thread per fit": keep("new", lambda: analyses(design, args.n_perm)),
                 "(old) default BLAS threads": keep("old", previous(
                     lambda: analyses(design, args.n_perm)))}
    if args.reference:
        functions["(r) plain scikit-learn"] = sklearn_reference(design)
    times = interleaved(functions, args.repeats)
    assert_equal_tables(tables["new"], tables["old"])
    old_name = "(old) default BLAS threads"
    rows = {name: {"cpu_s": median_time(times, name), "wall_s": median_time(times, name, 0),
                   "cpu_vs_old": median_ratio(times, name, old_name),
                   "wall_vs_old": median_ratio(times, name, old_name, 0)} for name in functions}
    result = {"rows": args.rows, "layers": args.layers, "units": args.units,
              "classes": args.classes, "n_perm": args.n_perm, "repeats": args.repeats,
              "tables_equal": True, "timings": rows, "load_average_end": load_average()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.rows} rows x {args.layers} layers x {args.units} units, {args.classes} "
          f"classes, {args.n_perm} permutations; tables of (new) and (old) equal; load "
          f"average {load_average()} at the end; median of {args.repeats} interleaved rounds")
    print(f"\n{'method':<34}{'CPU s':>9}{'wall s':>9}{'CPU vs old':>12}{'wall vs old':>13}")
    for name, row in rows.items():
        print(f"{name:<34}{row['cpu_s']:>9.1f}{row['wall_s']:>9.1f}{row['cpu_vs_old']:>12.3f}"
              f"{row['wall_vs_old']:>13.3f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
