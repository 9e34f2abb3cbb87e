"""Helpers of the study-scale benchmarks (no model, no timing asserted)."""

import contextlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))  # their _timing

from benchmarks.bench_patching_study import top_cells
from benchmarks.bench_probe_run import make_design, previous


def test_top_cells_picks_the_largest_absolute_estimates():
    estimates = pd.DataFrame({"pair_id": ["a", "a", "b", "b", "b"], "layer": [0, 3, 3, 5, 0],
                              "position": [1, 2, 2, 4, 0],
                              "estimate": [0.1, -5.0, 4.0, 0.2, -3.0]})
    top, layers, positions = top_cells(estimates, 3)
    assert sorted(top["estimate"]) == [-5.0, -3.0, 4.0]
    assert layers == [0, 3]
    assert positions == {"a": [2], "b": [0, 2]}


def test_previous_runs_with_the_default_threads_and_restores_the_limit():
    from probing.probes import estimators

    seen = []
    previous(lambda: seen.append(estimators.one_blas_thread))()
    assert seen == [contextlib.nullcontext]
    assert estimators.one_blas_thread is not contextlib.nullcontext


def test_make_design_recurs_types_across_sentences_with_constant_labels():
    values, control, labels, types, sentences = make_design(400, 2, 8, 5)
    assert values.shape == control.shape == (400, 2, 8) and values.dtype == np.float32
    by_type = pd.DataFrame({"type": types, "label": labels, "sentence": sentences})
    assert (by_type.groupby("type")["label"].nunique() == 1).all()
    assert (by_type.groupby("type")["sentence"].nunique() > 1).any()
