"""Layer sweeps: equal cross_val_score on the same folds, baselines, invariance, bad input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import cross_val_score

from probing._core.errors import ProbingError
from probing.probes import (
    SCORE_COLUMNS,
    LogisticProbe,
    RidgeProbe,
    build_folds,
    predict_layers,
    probe_layers,
    summarize_layers,
)

from .conftest import planted


@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy", "f1_macro"])
def test_sweep_equals_cross_val_score_on_the_same_folds(metric):
    values, labels = planted(n_rows=90, n_classes=3, strength=1.0)
    items = np.repeat(np.arange(45), 2)
    folds = build_folds(values, labels, groups=items, cv=5)
    table = probe_layers(values, labels, groups=items, cv=folds, probe=LogisticProbe(C=0.5))
    for layer in range(values.shape[1]):
        ref = cross_val_score(LogisticProbe(C=0.5), values[:, layer], labels, cv=folds,
                              scoring=metric)
        ours = table[(table.layer == layer) & (table.metric == metric)].sort_values("fold")
        np.testing.assert_allclose(ours["estimate"], ref, rtol=0, atol=1e-10)


def test_regression_sweep_equals_cross_val_score_r2(rng):
    values = rng.normal(size=(80, 3, 4))
    target = values[:, 1, 0] + 0.1 * rng.normal(size=80)
    folds = build_folds(values, target, groups=None, cv=4, probe="ridge")
    table = probe_layers(values, target, groups=None, cv=folds, probe=RidgeProbe(alpha=2.0))
    assert set(table.metric) == {"r2"}
    for layer in range(3):
        ref = cross_val_score(RidgeProbe(alpha=2.0), values[:, layer], target, cv=folds)
        np.testing.assert_allclose(table[table.layer == layer]["estimate"], ref, atol=1e-10)


def test_table_has_the_documented_columns_and_baselines():
    values, labels = planted(n_rows=60)
    table = probe_layers(values, labels, groups=None, cv=3)
    assert tuple(table.columns) == SCORE_COLUMNS
    assert set(table.task) == {"task"} and table.seed.isna().all()
    folds = build_folds(values, labels, groups=None, cv=3)
    acc = table[(table.metric == "accuracy") & (table.layer == 0)].sort_values("fold")
    dummy = cross_val_score(DummyClassifier(strategy="most_frequent"), values[:, 0], labels,
                            cv=folds)
    np.testing.assert_allclose(acc["majority"], dummy)
    np.testing.assert_allclose(acc["chance"], 0.5)  # balanced folds of a balanced label
    assert (acc["n_train"] + acc["n_test"] == 60).all()


def test_majority_and_chance_for_balanced_accuracy_and_f1():
    # Test fold [0, 0, 1, 2]; training frequencies 0: 0.5, 1: 0.25, 2: 0.25.
    from sklearn.metrics import balanced_accuracy_score, f1_score

    from probing.probes._metrics import _class_baselines

    y_train, y_test = np.array([0, 0, 1, 2]), np.array([0, 0, 1, 2])
    base = _class_baselines(y_train, y_test)
    majority = np.zeros(4, dtype=int)
    assert base["balanced_accuracy"][0] == pytest.approx(balanced_accuracy_score(y_test, majority))
    assert base["f1_macro"][0] == pytest.approx(f1_score(y_test, majority, average="macro"))
    assert base["accuracy"][1] == pytest.approx(0.5 * 0.5 + 0.25 * 0.25 * 2)


def test_planted_layer_is_the_best_and_beats_majority():
    values, labels = planted(n_rows=120, signal_layer=2)
    table = probe_layers(values, labels, groups=None, cv=4)
    acc = table[table.metric == "accuracy"].groupby("layer")[["estimate", "majority"]].mean()
    assert acc["estimate"].idxmax() == 2 and acc.loc[2, "estimate"] > acc.loc[2, "majority"] + 0.2


def test_activations_input_selects_layers_and_keeps_the_index(word_activations):
    acts, labels = word_activations
    pred = predict_layers(acts, labels, cv=4, layers=[6, 12])
    assert sorted(pred.layer.unique()) == [6, 12]
    assert {"stimulus_id", "word_index", "word", "group", "correct"} <= set(pred.columns)
    assert set(pred.group) == set(acts.index["word"].str.lower())


def test_shuffling_rows_permutes_predictions_identically():
    values, labels = planted(n_rows=60)
    items = np.repeat(np.arange(30), 2)
    folds = build_folds(values, labels, groups=items, cv=3)
    pred = predict_layers(values, labels, groups=items, cv=folds)
    order = np.random.default_rng(3).permutation(60)
    where = np.argsort(order)  # new position of each old row
    shuffled_folds = [(np.sort(where[tr]), np.sort(where[te])) for tr, te in folds]
    pred2 = predict_layers(values[order], labels[order], groups=items[order],
                           cv=shuffled_folds)
    pred2 = pred2.assign(row=order[pred2.row]).sort_values(["layer", "row"])
    pred = pred.sort_values(["layer", "row"])
    np.testing.assert_array_equal(pred["y_pred"].to_numpy(), pred2["y_pred"].to_numpy())


def test_inputs_are_not_mutated():
    values, labels = planted(n_rows=40)
    items = np.repeat(np.arange(20), 2)
    copies = values.copy(), labels.copy(), items.copy()
    probe_layers(values, labels, groups=items, cv=2)
    for before, after in zip(copies, (values, labels, items), strict=True):
        np.testing.assert_array_equal(before, after)


def test_string_labels_work_and_predictions_are_strings():
    values, labels = planted(n_rows=40)
    words = np.where(labels == 1, "yes", "no")
    pred = predict_layers(values, words, groups=None, cv=2)
    assert set(pred.y_pred) <= {"yes", "no"}


def test_summary_pools_folds_with_group_bootstrap_ci():
    values, labels = planted(n_rows=80)
    pred = predict_layers(values, labels, groups=np.repeat(np.arange(40), 2), cv=4)
    summary = summarize_layers(pred, n_boot=500)
    pooled = pred.groupby("layer")["correct"].mean()
    np.testing.assert_allclose(summary.sort_values("layer")["estimate"], pooled)
    assert (summary.ci_low <= summary.estimate).all() and (summary.estimate <= summary.ci_high).all()
    assert (summary.n_groups == 40).all()


def test_summary_of_regression_is_pooled_r2(rng):
    values = rng.normal(size=(60, 2, 3))
    target = values[:, 1, 0]
    pred = predict_layers(values, target, groups=None, cv=3, probe="ridge")
    summary = summarize_layers(pred, n_boot=200)
    one = pred[pred.layer == 1]
    expected = 1 - one.sq_error.sum() / ((one.y_true - one.y_true.mean()) ** 2).sum()
    assert summary.loc[summary.layer == 1, "estimate"].item() == pytest.approx(expected)


def test_one_class_is_an_error():
    values, _ = planted(n_rows=20)
    with pytest.raises(ProbingError, match="labels must hold at least 2 classes"):
        probe_layers(values, np.zeros(20), groups=None)


def test_labels_of_wrong_length_are_an_error():
    values, labels = planted(n_rows=20)
    with pytest.raises(ProbingError, match=r"labels must be 1-D with one entry per row \(20\)"):
        probe_layers(values, labels[:-1], groups=None)


def test_missing_labels_are_an_error():
    values, _ = planted(n_rows=4)
    with pytest.raises(ProbingError, match="labels contain missing values"):
        probe_layers(values, pd.Series(["a", None, "b", "a"]), groups=None)


def test_regression_needs_numeric_labels():
    values, _ = planted(n_rows=4)
    with pytest.raises(ProbingError, match="regression probe needs numeric labels"):
        probe_layers(values, ["a", "b", "a", "b"], groups=None, probe="ridge")


def test_unknown_probe_name_is_an_error():
    values, labels = planted(n_rows=20)
    with pytest.raises(ProbingError, match="probe must be one of"):
        probe_layers(values, labels, groups=None, probe="svm")


def test_bad_activations_shape_is_an_error():
    with pytest.raises(ProbingError, match=r"array of shape \(n_rows, n_layers, n_units\)"):
        probe_layers(np.zeros((10, 3)), np.arange(10) % 2, groups=None)


def test_layer_names_must_match_slices():
    values, labels = planted(n_rows=20, n_layers=3)
    with pytest.raises(ProbingError, match="layers must name each of the 3 slices"):
        probe_layers(values, labels, groups=None, layers=[0, 1])


def test_unknown_layer_of_activations_is_an_error(word_activations):
    acts, labels = word_activations
    with pytest.raises(ProbingError, match=r"layers \[7\] not in the activations"):
        probe_layers(acts, labels, layers=[7])


def test_capped_fits_are_counted_in_one_warning():
    from sklearn.exceptions import ConvergenceWarning

    from probing.probes import LogisticProbe

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(90, 2, 20)), np.arange(90) % 3
    with pytest.warns(ConvergenceWarning) as record:
        probe_layers(X, y, groups=None, cv=3, probe=LogisticProbe(max_iter=1))
    capped = [str(w.message) for w in record if issubclass(w.category, ConvergenceWarning)]
    assert capped == ["LogisticProbe: 6 of 6 fits stopped at their iteration cap (max_iter) "
                      "before converging"]


def test_summary_flags_scores_reliably_below_chance():
    # Rows in pairs with identical activations and opposite labels, split across folds:
    # each row is predicted from its partner (anti-learning), well under chance (0.5).
    rng = np.random.default_rng(0)
    values = np.repeat(rng.normal(size=(60, 1, 80)), 2, axis=0)
    values = np.concatenate([values, rng.normal(size=(120, 1, 80))], axis=1)
    labels = np.tile([0, 1], 60)
    pred = predict_layers(values, labels, groups=None, cv=5, probe="ridge_classifier")
    with pytest.warns(UserWarning, match="reliably below chance"):
        summary = summarize_layers(pred, n_boot=500)
    assert summary["chance"].tolist() == [0.5, 0.5]
    assert summary["below_chance"].tolist() == [True, False]
