"""Permutation tests: closed form equals refits, planted signal, calibration, corrections."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from probing._core.errors import ProbingError
from probing.probes import (
    PERMUTATION_COLUMNS,
    LogisticProbe,
    RidgeClassifierProbe,
    RidgeProbe,
    correct_table,
    permutation_test_layers,
)
from probing.probes._closed_form import HatMap, hat_map
from probing.probes._design import prepare
from probing.probes.permutation import _permutations

from .conftest import planted

CASES = {
    "binary-primal": dict(n_rows=60, n_units=5, n_classes=2),
    "three-classes-primal": dict(n_rows=60, n_units=5, n_classes=3),
    "binary-dual": dict(n_rows=30, n_units=40, n_classes=2),
    "four-classes-dual": dict(n_rows=32, n_units=40, n_classes=4),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_closed_form_equals_refitting_every_permutation(case):
    values, labels = planted(n_layers=2, signal_layer=1, strength=1.0, **case)
    common = dict(groups=None, cv=3, probe=RidgeClassifierProbe(alpha=2.0), n_perm=15)
    fast = permutation_test_layers(values, labels, method="closed_form", **common)
    slow = permutation_test_layers(values, labels, method="refit", **common)
    cols = ["value", "null_mean", "null_sd", "p_val"]
    np.testing.assert_allclose(fast[cols], slow[cols], rtol=0, atol=1e-8)


@pytest.mark.parametrize("n_units", [4, 50], ids=["primal", "dual"])
def test_closed_form_equals_refit_for_ridge_regression(rng, n_units):
    values = rng.normal(size=(40, 2, n_units))
    target = values[:, 1, 0] + rng.normal(size=40)
    common = dict(groups=None, cv=4, probe=RidgeProbe(alpha=3.0), n_perm=10)
    fast = permutation_test_layers(values, target, method="closed_form", **common)
    slow = permutation_test_layers(values, target, method="refit", **common)
    np.testing.assert_allclose(fast[["value", "null_mean", "null_sd"]],
                               slow[["value", "null_mean", "null_sd"]], rtol=0, atol=1e-8)


def test_hat_map_predicts_like_the_fitted_probe(rng):
    X, y = rng.normal(size=(50, 8)) * 10 + 3, rng.normal(size=50)
    train, test = np.arange(35), np.arange(35, 50)
    H = hat_map(X[train], X[test], 0.5)
    expected = RidgeProbe(alpha=0.5).fit(X[train], y[train]).predict(X[test])
    np.testing.assert_allclose(H @ y[train] + y[train].mean(), expected, atol=1e-10)


@pytest.mark.parametrize("n_units", [4, 60], ids=["factored", "formed"])
def test_hat_map_applies_in_either_order(rng, n_units):
    X, Z = rng.normal(size=(80, n_units)), rng.normal(size=(60, 7))
    train, test = np.arange(60), np.arange(60, 80)
    H = HatMap(X[train], X[test], 0.5)
    assert (H._right is not None) == (n_units == 4)
    np.testing.assert_allclose(H @ Z, hat_map(X[train], X[test], 0.5) @ Z, atol=1e-10)


def test_planted_signal_only_that_layer_is_significant_after_correction():
    values, labels = planted(n_rows=120, n_layers=8, n_units=10, signal_layer=5, strength=2.0)
    items = np.repeat(np.arange(60), 2)
    table = permutation_test_layers(values, labels, groups=items, n_perm=499, random_state=1)
    assert tuple(table.columns) == PERMUTATION_COLUMNS
    assert table.loc[table.p_corr < 0.05, "layer"].tolist() == [5]
    assert table.p_val.min() == pytest.approx(1 / 500)  # never 0


def test_refit_path_for_other_probes_finds_the_planted_layer():
    values, labels = planted(n_rows=60, n_layers=3, signal_layer=1, strength=2.0)
    table = permutation_test_layers(values, labels, groups=None, cv=3, n_perm=9,
                                    probe=LogisticProbe())
    assert table.value.idxmax() == 1 and table.p_val[1] == pytest.approx(0.1)


def test_permute_auto_picks_groups_for_type_level_labels(word_activations):
    acts, labels = word_activations
    table = permutation_test_layers(acts, labels, n_perm=49)
    assert set(table.permute) == {"groups"}
    assert table.set_index("layer").loc[6, "p_val"] == pytest.approx(1 / 50)


def test_group_permutations_keep_labels_constant_within_groups(word_activations):
    acts, labels = word_activations
    design = prepare(acts, labels, groups="auto", cv=4, probe="ridge_classifier", layers=None,
                     stimuli=None, random_state=0, where="t")
    perms = _permutations(design, "groups", None, 20, np.random.default_rng(0), "t")
    for perm in perms:
        frame = pd.DataFrame({"g": design.codes, "y": labels[perm]})
        assert (frame.groupby("g").y.nunique() == 1).all()


def test_within_blocks_permutations_stay_in_their_block():
    values, labels = planted(n_rows=40)
    blocks = np.arange(40) // 10
    design = prepare(values, labels, groups=None, cv=2, probe="ridge_classifier", layers=None,
                     stimuli=None, random_state=0, where="t")
    perms = _permutations(design, "rows", blocks, 30, np.random.default_rng(0), "t")
    assert (blocks[perms] == blocks).all()
    assert not (perms == np.arange(40)).all()


def test_same_seed_same_pvalues():
    values, labels = planted(n_rows=40)
    a = permutation_test_layers(values, labels, groups=None, n_perm=30, random_state=4)
    b = permutation_test_layers(values, labels, groups=None, n_perm=30, random_state=4)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("method", ["holm", "bonferroni", "fdr_bh"])
def test_corrections_equal_statsmodels(method, rng):
    p = rng.uniform(0, 0.2, size=12)
    table = pd.DataFrame({"probe": np.repeat(["a", "b"], 6), "p_val": p})
    ours = correct_table(table, method=method)
    np.testing.assert_allclose(ours.p_corr, multipletests(p, method=method)[1], atol=1e-12)
    by = correct_table(table, method=method, by="probe")
    np.testing.assert_allclose(by.p_corr[:6], multipletests(p[:6], method=method)[1])
    assert set(by.correction) == {method}


def test_permutation_table_uses_the_requested_correction():
    values, labels = planted(n_rows=40, n_layers=4)
    table = permutation_test_layers(values, labels, groups=None, n_perm=20, correction="fdr_bh")
    np.testing.assert_allclose(table.p_corr, multipletests(table.p_val, method="fdr_bh")[1])


@pytest.mark.slow
def test_null_calibration_false_positive_rate_within_binomial_tolerance():
    # No layer carries the label: per-layer P(p <= 0.05) must stay within 3 SE of 0.05.
    n_rep, alpha, pvals, fwer = 400, 0.05, [], 0
    for seed in range(n_rep):
        values, labels = planted(n_rows=40, n_layers=4, n_units=5, strength=0.0,
                                 random_state=seed)
        table = permutation_test_layers(values, labels, groups=None, cv=4, n_perm=99,
                                        random_state=seed)
        pvals.extend(table.p_val)
        fwer += (table.p_corr <= alpha).any()
    rate, n = np.mean(np.array(pvals) <= alpha), len(pvals)
    assert abs(rate - alpha) <= 3 * np.sqrt(alpha * (1 - alpha) / n)
    assert fwer / n_rep <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / n_rep)


@pytest.mark.slow
def test_benjamini_hochberg_keeps_the_fdr_at_or_under_q():
    # Two of six layers carry the label; the false discovery proportion averages <= q.
    n_rep, q, fdp = 200, 0.1, []
    for seed in range(n_rep):
        values, labels = planted(n_rows=40, n_layers=6, n_units=4, strength=0.0,
                                 random_state=seed)
        values[:, :2, 0] += 1.0 * labels[:, None]
        table = permutation_test_layers(values, labels, groups=None, cv=4, n_perm=99,
                                        correction="fdr_bh", random_state=seed)
        found = table.layer[table.p_corr <= q]
        fdp.append(np.mean(found >= 2) if len(found) else 0.0)
    assert np.mean(fdp) <= q + 3 * np.std(fdp) / np.sqrt(n_rep)


def test_closed_form_needs_a_ridge_probe():
    values, labels = planted(n_rows=20)
    with pytest.raises(ProbingError, match="method='closed_form' needs a RidgeClassifierProbe"):
        permutation_test_layers(values, labels, groups=None, n_perm=5, probe="logistic",
                                method="closed_form")


@pytest.mark.parametrize("n_perm", [0, 2.5, True], ids=["zero", "float", "bool"])
def test_bad_n_perm_is_an_error(n_perm):
    values, labels = planted(n_rows=20)
    with pytest.raises(ProbingError, match="n_perm must be a positive int"):
        permutation_test_layers(values, labels, groups=None, n_perm=n_perm)


def test_bad_correction_is_an_error():
    values, labels = planted(n_rows=20)
    with pytest.raises(ProbingError, match="correction must be one of"):
        permutation_test_layers(values, labels, groups=None, n_perm=5, correction="sidak")


def test_group_permutation_needs_constant_labels():
    values, labels = planted(n_rows=20)
    with pytest.raises(ProbingError, match="permute='groups' needs labels constant"):
        permutation_test_layers(values, labels, groups=np.arange(20) // 2, cv=2, n_perm=5,
                                permute="groups")


def test_within_of_wrong_length_is_an_error():
    values, labels = planted(n_rows=20)
    with pytest.raises(ProbingError, match=r"within must be 1-D with one block per row \(20\)"):
        permutation_test_layers(values, labels, groups=None, n_perm=5, within=np.arange(5))


def test_correct_table_needs_p_val():
    with pytest.raises(ProbingError, match="must have a p_val column"):
        correct_table(pd.DataFrame({"x": [1]}))


def test_closed_form_equals_refit_when_a_class_is_missing_from_training_folds(rng):
    # A two-row class is absent from some training sets of some permutations; a refit
    # model has no column for it, so the closed form must never predict it there.
    labels = rng.integers(0, 3, size=50)
    labels[:2] = 3
    values = rng.normal(size=(50, 2, 6))
    values[:, 1, 0] += labels
    common = dict(groups=None, cv=5, probe=RidgeClassifierProbe(alpha=1.0), n_perm=30)
    fast = permutation_test_layers(values, labels, method="closed_form", **common)
    slow = permutation_test_layers(values, labels, method="refit", **common)
    np.testing.assert_allclose(fast[["value", "null_mean", "null_sd"]],
                               slow[["value", "null_mean", "null_sd"]], rtol=0, atol=1e-8)
