"""Held-out-group probes: folds never leak a group, planted signal, AUC against sklearn."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from probing._core.errors import ProbingError
from probing.probes.heldout import (
    auc_by_layer,
    heldout_folds,
    heldout_scores,
    item_flipped_labels,
    linear_direction,
)


def _design(n_per_cell=6, seed=0):
    """Items in 3 suites x 4 templates; each item an injected (1) and a clean (0) row."""
    rng = np.random.default_rng(seed)
    suites, templates, items, labels = [], [], [], []
    for s in range(3):
        for t in range(4):
            for k in range(n_per_cell):
                for y in (0, 1):
                    suites.append(f"s{s}")
                    templates.append(f"t{t}")
                    items.append(f"s{s}-t{t}-{k}")
                    labels.append(y)
    return (np.array(suites), np.array(templates), np.array(items), np.array(labels, float), rng)


def test_folds_never_share_a_suite_or_template_and_test_each_row_once():
    suites, templates, _, _, _ = _design()
    folds = heldout_folds(suites, templates)
    assert len(folds) == 12
    for train, test in folds:
        assert not set(suites[train]) & set(suites[test])
        assert not set(templates[train]) & set(templates[test])
    tested = np.sort(np.concatenate([test for _, test in folds]))
    assert np.array_equal(tested, np.arange(len(suites)))


def test_planted_direction_is_found_on_held_out_groups_and_controls_are_at_chance():
    suites, templates, items, y, rng = _design()
    X = rng.normal(size=(len(y), 2, 8))
    X[:, 1, 3] += 3.0 * y  # layer 1 carries the label, layer 0 does not
    folds = heldout_folds(suites, templates)
    table = auc_by_layer(heldout_scores(X, y, folds), y, items, n_boot=200)
    assert table["estimate"].iloc[1] > 0.9 and table["ci_low"].iloc[1] > 0.8
    assert abs(table["estimate"].iloc[0] - 0.5) < 0.15
    assert table["n_items"].tolist() == [72, 72]
    flipped = item_flipped_labels(y, items, random_state=0)
    control = auc_by_layer(heldout_scores(X, flipped, folds), flipped, items, n_boot=200)
    assert control["ci_low"].iloc[1] < 0.5 < control["ci_high"].iloc[1] + 0.1
    assert abs(control["estimate"].iloc[1] - 0.5) < 0.2


def test_untrained_rows_are_scored_but_not_fitted():
    suites, templates, items, y, rng = _design()
    X = rng.normal(size=(len(y), 1, 4))
    X[:, 0, 0] += 3.0 * y
    y_train = y.copy()
    y_train[::7] = np.nan
    scores = heldout_scores(X, y_train, heldout_folds(suites, templates))
    assert not np.isnan(scores).any()


def test_auc_matches_sklearn_and_the_interval_covers_it():
    rng = np.random.default_rng(1)
    y = np.tile([0.0, 1.0], 40)
    s = rng.normal(size=(80, 3)) + y[:, None] * np.array([0.0, 0.5, 2.0])
    s[:4, 0] = 0.25  # ties count one half
    items = np.repeat(np.arange(40), 2)
    table = auc_by_layer(s, y, items, layers=[4, 8, 12], n_boot=300)
    expected = [roc_auc_score(y, s[:, j]) for j in range(3)]
    np.testing.assert_allclose(table["estimate"], expected)
    assert table["layer"].tolist() == [4, 8, 12]
    assert ((table["ci_low"] <= table["estimate"]) & (table["estimate"] <= table["ci_high"])).all()


def test_linear_direction_points_along_the_planted_unit_in_raw_units():
    rng = np.random.default_rng(2)
    y = np.tile([0, 1], 50)
    X = rng.normal(size=(100, 5)) * np.array([1, 1, 1, 10, 1])
    X[:, 1] += 1.5 * y
    w = linear_direction(X, y)
    assert np.isclose(np.linalg.norm(w), 1.0) and int(np.argmax(np.abs(w))) == 1 and w[1] > 0


def test_bad_input_messages():
    with pytest.raises(ProbingError, match="at least one grouping"):
        heldout_folds()
    with pytest.raises(ProbingError, match="differ in length"):
        heldout_folds([1, 2], [1])
    with pytest.raises(ProbingError, match=r"labels must be 0, 1 or NaN"):
        heldout_scores(np.zeros((4, 1, 2)), [0, 1, 2, 0], [])
    with pytest.raises(ProbingError, match="one class only"):
        heldout_scores(np.zeros((4, 1, 2)), [0, 0, 1, 1], [(np.array([0, 1]), np.array([2, 3]))])
    with pytest.raises(ProbingError, match="positive"):
        auc_by_layer([[0.1], [0.2]], [0, 0], [1, 2])
