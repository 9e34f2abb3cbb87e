"""Paired tests and group bootstrap: exact small cases, same folds, p never 0, bad input."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.probes import (
    PAIRED_COLUMNS,
    build_folds,
    group_bootstrap,
    paired_test,
    predict_layers,
)

from .conftest import planted


def _rows(correct, groups, layer):
    n = len(correct)
    return pd.DataFrame({"layer": layer, "row": np.arange(n), "fold": np.arange(n) % 2,
                         "group": groups, "y_true": 0, "correct": correct})


def test_exact_sign_flip_p_value_for_few_groups():
    # Four groups, each +1 for a: the observed sum is the largest of 16 sign vectors,
    # tied (in absolute value) only by all flipped: mid-p = (0 + 2 / 2) / 16.
    a = _rows(np.ones(8, int), np.repeat(np.arange(4), 2), 1)
    b = _rows(np.tile([1, 0], 4), np.repeat(np.arange(4), 2), 0)
    res = paired_test(a, b, n_perm=1000)
    assert tuple(res.columns) == PAIRED_COLUMNS
    assert res.p_val[0] == pytest.approx(1 / 16) and res.n_perm[0] == 16
    assert res.estimate[0] == pytest.approx(0.5) and res.stat[0] == 4


def test_identical_predictions_give_zero_difference_and_p_one():
    a = _rows(np.arange(40) % 3 == 0, np.arange(40) // 2, 1)
    res = paired_test(a, a.assign(layer=2), n_perm=999)
    assert res.estimate[0] == 0 and res.p_val[0] == 1.0


def test_layers_from_one_sweep_compare_and_p_is_never_zero():
    values, labels = planted(n_rows=100, n_layers=3, signal_layer=2, strength=3.0)
    items = np.repeat(np.arange(50), 2)
    pred = predict_layers(values, labels, groups=items, cv=5)
    res = paired_test(pred[pred.layer == 2], pred[pred.layer == 0], n_perm=999)
    assert res.estimate[0] > 0.3 and res.ci_low[0] > 0
    assert res.p_val[0] == pytest.approx(0.5 / 1000)  # mid-p: the observed sum counts a half
    assert res.a[0].startswith("layer=2") and res.n_groups[0] == 50


def test_two_models_on_the_same_folds_compare():
    values, labels = planted(n_rows=60, n_layers=1, signal_layer=0, strength=3.0)
    other = np.random.default_rng(9).normal(size=values.shape)  # a "control model"
    folds = build_folds(values, labels, groups=None, cv=3)
    a = predict_layers(values, labels, groups=None, cv=folds).assign(model="trained")
    b = predict_layers(other, labels, groups=None, cv=folds).assign(model="control")
    res = paired_test(a, b, n_perm=499)
    assert res.estimate[0] > 0.3 and res.p_val[0] < 0.01 and "model=trained" in res.a[0]


def test_regression_difference_is_in_r2():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(60, 2, 3))
    target = values[:, 1, 0] + 0.1 * rng.normal(size=60)
    pred = predict_layers(values, target, groups=None, cv=3, probe="ridge")
    res = paired_test(pred[pred.layer == 1], pred[pred.layer == 0], n_perm=199)
    assert res.metric[0] == "r2" and res.estimate[0] > 0.8


def test_group_bootstrap_interval_covers_the_pooled_accuracy():
    rows = _rows(np.arange(60) % 4 != 0, np.arange(60) // 3, 0)
    ci = group_bootstrap(rows, n_boot=1000)
    assert ci.estimate == pytest.approx(0.75) and ci.ci_low < 0.75 < ci.ci_high


def test_different_folds_are_an_error():
    a = _rows(np.ones(8, int), np.arange(8), 0)
    with pytest.raises(ProbingError, match="must use the same folds"):
        paired_test(a, a.assign(fold=0))


def test_different_rows_are_an_error():
    a = _rows(np.ones(8, int), np.arange(8), 0)
    with pytest.raises(ProbingError, match="must cover the same rows"):
        paired_test(a, a.iloc[:6])


def test_several_layers_at_once_are_an_error():
    a = _rows(np.ones(8, int), np.arange(8), 0)
    with pytest.raises(ProbingError, match="repeats rows; select one layer"):
        paired_test(pd.concat([a, a.assign(layer=1)]), a)


def test_missing_columns_are_an_error():
    with pytest.raises(ProbingError, match="predictions_a must be rows of predict_layers"):
        paired_test(pd.DataFrame({"row": [0]}), pd.DataFrame({"row": [0]}))


def _null_pair(rng, n_groups, rows=5):
    n = n_groups * rows
    a = _rows((rng.uniform(size=n) < 0.7).astype(int), np.arange(n) // rows, 1)
    return a, a.assign(layer=0, correct=(rng.uniform(size=n) < 0.7).astype(int))


def _null_rate(n_sets, n_groups, seed):
    rng = np.random.default_rng(seed)
    p = [paired_test(*_null_pair(rng, n_groups), n_boot=2, n_perm=10_000).p_val[0]
         for _ in range(n_sets)]
    return float(np.mean(np.array(p) < 0.05))


def test_few_groups_are_not_conservative_fast():
    # Counting ties in full gave a false-positive rate of 0.000 with 8 groups (audit):
    # with mid-p some null data sets reject (expected about 6 of 150).
    assert 2 / 150 <= _null_rate(150, 8, seed=3) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 150)


@pytest.mark.slow
@pytest.mark.parametrize("n_groups", [8, 12], ids=["8-groups", "12-groups"])
def test_few_groups_null_calibration(n_groups):
    n = 1500
    rate = _null_rate(n, n_groups, seed=n_groups)
    tol = 3 * np.sqrt(0.05 * 0.95 / n)
    assert 0.025 < rate < 0.05 + tol, rate
