"""Interchange interventions on linear subspaces: the maps, the intervention and IIA."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from probing._core.errors import ProbingError
from probing.causal import (
    IIA_COLUMNS,
    interchange,
    interchange_accuracy,
    make_control_counterfactuals,
    mean_difference_subspace,
    probe_subspace,
    random_subspaces,
)
from probing.stats import bootstrap_ci


def test_interchange_takes_the_subspace_from_the_source_and_the_rest_from_the_base(rng):
    base, source = rng.normal(size=(2, 10, 6))
    basis = random_subspaces(6, 2, random_state=1)[0]
    out = interchange(base, source, basis)
    proj = basis @ basis.T
    np.testing.assert_allclose(out @ proj, source @ proj, atol=1e-12)
    np.testing.assert_allclose(out @ (np.eye(6) - proj), base @ (np.eye(6) - proj), atol=1e-12)
    np.testing.assert_allclose(interchange(base, base, basis), base)   # self-patch: no change


def test_random_subspaces_are_orthonormal_and_uniform():
    bases = random_subspaces(4, 2, n_subspaces=4000, random_state=0)
    gram = np.einsum("sdk,sdl->skl", bases, bases)
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(2), gram.shape), atol=1e-12)
    # Haar measure: the expected projector is (rank / n_units) * I.
    mean_proj = np.einsum("sdk,sek->de", bases, bases) / len(bases)
    np.testing.assert_allclose(mean_proj, 0.5 * np.eye(4), atol=0.02)
    np.testing.assert_array_equal(bases, random_subspaces(4, 2, n_subspaces=4000,
                                                          random_state=0))


def test_probe_subspace_is_sklearns_normalised_coefficient(rng):
    # Reference: scikit-learn's logistic regression weights, normalised.
    y = np.tile([0, 1], 50)
    X = rng.normal(size=(100, 5)) + np.outer(y, [2.0, 0, -1.0, 0, 0])
    coef = LogisticRegression().fit(X, y).coef_
    np.testing.assert_allclose(probe_subspace(coef).ravel(), coef.ravel() / np.linalg.norm(coef))
    three = rng.normal(size=(3, 5))
    basis = probe_subspace(three)
    assert basis.shape == (5, 3)
    np.testing.assert_allclose(basis @ basis.T @ three.T, three.T, atol=1e-10)  # same span


def test_mean_difference_subspace_spans_the_class_mean_differences(rng):
    labels = np.repeat(["a", "b", "c"], 30)
    X = rng.normal(size=(90, 6))
    basis = mean_difference_subspace(X, labels)
    assert basis.shape == (6, 2)
    means = np.stack([X[labels == c].mean(0) for c in "abc"])
    diffs = (means - means.mean(0)).T
    np.testing.assert_allclose(basis @ basis.T @ diffs, diffs, atol=1e-10)
    two = mean_difference_subspace(X[:60], labels[:60]).ravel()
    np.testing.assert_allclose(two, (means[1] - means[0]) / np.linalg.norm(means[1] - means[0]))


def _tiny_model(rng, n_pairs, n_units=8, trained=True):
    """Hidden state at two layers; only layer 1 of the trained model carries number along u.

    The read-out predicts plural when h . u > 0. Returns base and source states,
    their numbers and the read-out direction.
    """
    u = np.zeros(n_units)
    u[3] = 1.0
    number_base, number_source = rng.integers(0, 2, (2, n_pairs))
    layers = {}
    for layer, strength in ((0, 0.0), (1, 3.0 if trained else 0.0)):
        base = rng.normal(size=(n_pairs, n_units)) + strength * np.outer(2 * number_base - 1, u)
        source = rng.normal(size=(n_pairs, n_units)) + strength * np.outer(
            2 * number_source - 1, u)
        layers[layer] = (base, source)
    return layers, number_base, number_source, u


def _iia_of(layers, u, basis_of_layer, expected, **labels):
    # Interchange at each layer; later computation is the read-out sign(h . u).
    predicted = np.stack([(interchange(*layers[layer], basis_of_layer(layer)) @ u > 0)
                          .astype(int) for layer in (0, 1)], axis=1)
    return interchange_accuracy(predicted, expected, n_boot=300, **labels)


def test_planted_number_subspace_reaches_high_iia_and_its_controls_do_not(rng):
    layers, number_base, number_source, u = _tiny_model(rng, 300)
    fit_X = np.concatenate([layers[1][0], layers[1][1]])
    fit_y = np.concatenate([number_base, number_source])
    found = mean_difference_subspace(fit_X, fit_y)
    rand = random_subspaces(8, 1, random_state=3)[0]
    control = make_control_counterfactuals(np.arange(300) % 17, random_state=2)
    reinit, _, _, _ = _tiny_model(rng, 300, trained=False)
    table = pd.concat([
        _iia_of(layers, u, lambda _: found, number_source, subspace="mean_difference"),
        _iia_of(layers, u, lambda _: rand, number_source, subspace="random"),
        _iia_of(layers, u, lambda _: found, control, subspace="mean_difference",
                task="control"),
        _iia_of(reinit, u, lambda _: found, number_source, subspace="mean_difference",
                model_weights="reinitialised"),
    ], ignore_index=True)
    assert tuple(table.columns) == IIA_COLUMNS
    get = table.set_index(["subspace", "task", "model_weights", "layer"])["estimate"]
    assert get[("mean_difference", "task", "trained", 1)] > 0.95
    for key in [("random", "task", "trained", 1), ("mean_difference", "control", "trained", 1),
                ("mean_difference", "task", "reinitialised", 1),
                ("mean_difference", "task", "trained", 0)]:
        assert abs(get[key] - 0.5) < 0.12, key


def test_iia_and_its_interval_match_the_plain_bootstrap(rng):
    expected = rng.integers(0, 2, 120)
    predicted = np.where(rng.random((120, 1)) < 0.7, expected[:, None], 1 - expected[:, None])
    row = interchange_accuracy(predicted, expected, n_boot=20_000).iloc[0]
    correct = (predicted[:, 0] == expected).astype(float)
    ref = bootstrap_ci(correct, n_boot=20_000, random_state=0)
    assert row["estimate"] == pytest.approx(correct.mean())
    assert row["ci_low"] == pytest.approx(ref.ci_low, abs=0.1 * ref.std_err + 1 / 120)
    assert row["ci_high"] == pytest.approx(ref.ci_high, abs=0.1 * ref.std_err + 1 / 120)


def test_repeats_are_averaged_per_pair(rng):
    expected = np.zeros(10, dtype=int)
    predicted = np.zeros((10, 1, 4), dtype=int)
    predicted[:, 0, :2] = 1
    row = interchange_accuracy(predicted, expected, subspace="random", n_boot=50).iloc[0]
    assert row["estimate"] == 0.5 and row["n_repeats"] == 4


def test_shuffling_pairs_with_item_ids_changes_nothing(rng):
    expected = rng.integers(0, 3, 40)
    predicted = rng.integers(0, 3, (40, 3))
    groups = np.arange(40) // 4
    order = rng.permutation(40)
    copies = predicted.copy(), expected.copy()
    one = interchange_accuracy(predicted, expected, groups=groups, n_boot=200)
    two = interchange_accuracy(predicted[order], expected[order], groups=groups[order],
                               n_boot=200)
    pd.testing.assert_frame_equal(one, two)
    np.testing.assert_array_equal(copies[0], predicted)
    np.testing.assert_array_equal(copies[1], expected)


def test_control_counterfactuals_are_per_type_and_balanced():
    labels = make_control_counterfactuals(np.arange(2000) % 500, n_classes=2, random_state=0)
    assert all(len(set(labels[np.arange(2000) % 500 == t])) == 1 for t in range(0, 500, 50))
    assert abs(labels.mean() - 0.5) < 0.07


@pytest.mark.parametrize(("call", "message"), [
    (lambda: interchange(np.zeros((2, 3)), np.zeros((2, 3)), np.ones((3, 1))),
     "basis columns must be orthonormal"),
    (lambda: interchange(np.zeros((2, 3)), np.zeros((2, 3)), np.eye(4)[:, :1]),
     "basis has 4 rows, activations have 3 units"),
    (lambda: interchange(np.zeros((2, 3)), np.zeros((3, 3)), np.eye(3)[:, :1]),
     "base .* and source .* differ"),
    (lambda: random_subspaces(3, 4), "rank 4 exceeds n_units 3"),
    (lambda: probe_subspace(np.zeros(4)), "span nothing"),
    (lambda: mean_difference_subspace(np.zeros((4, 2)), [1, 1, 1, 1]),
     "need at least two classes"),
    (lambda: interchange_accuracy(np.zeros((4, 2)), np.zeros(3)), "predicted must be"),
    (lambda: interchange_accuracy(np.zeros((4, 2)), np.zeros(4), layers=[0]),
     "layers has 1 labels for an axis of length 2"),
    (lambda: make_control_counterfactuals(["a"], n_classes=1), "n_classes must be"),
], ids=["orthonormal", "units", "shapes", "rank", "zero", "classes", "iia-shape",
        "iia-layers", "control-classes"])
def test_bad_input_is_named(call, message):
    with pytest.raises(ProbingError, match=message):
        call()
