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
    build_folds,
    correct_table,
    permutation_test_layers,
)
from probing.probes._closed_form import HatMap, hat_map
from probing.probes._design import prepare
from probing.probes.probe_permutation import _permutations

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
    fast = permutation_test_layers(values, labels, engine="closed_form", **common)
    slow = permutation_test_layers(values, labels, engine="refit", **common)
    cols = ["estimate", "null_mean", "null_sd", "p_val"]
    np.testing.assert_allclose(fast[cols], slow[cols], rtol=0, atol=1e-8)


@pytest.mark.parametrize("n_units", [4, 50], ids=["primal", "dual"])
def test_closed_form_equals_refit_for_ridge_regression(rng, n_units):
    values = rng.normal(size=(40, 2, n_units))
    target = values[:, 1, 0] + rng.normal(size=40)
    common = dict(groups=None, cv=4, probe=RidgeProbe(alpha=3.0), n_perm=10)
    fast = permutation_test_layers(values, target, engine="closed_form", **common)
    slow = permutation_test_layers(values, target, engine="refit", **common)
    np.testing.assert_allclose(fast[["estimate", "null_mean", "null_sd"]],
                               slow[["estimate", "null_mean", "null_sd"]], rtol=0, atol=1e-8)


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
    assert table.estimate.idxmax() == 1 and table.p_val[1] == pytest.approx(0.1)


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
    ours = correct_table(table, correction=method)
    np.testing.assert_allclose(ours.p_corr, multipletests(p, method=method)[1], atol=1e-12)
    by = correct_table(table, correction=method, by="probe")
    np.testing.assert_allclose(by.p_corr[:6], multipletests(p[:6], method=method)[1])
    assert set(by.correction) == {method}


def test_permutation_table_uses_the_requested_correction():
    values, labels = planted(n_rows=40, n_layers=4)
    table = permutation_test_layers(values, labels, groups=None, n_perm=20, correction="fdr_bh")
    np.testing.assert_allclose(table.p_corr, multipletests(table.p_val, method="fdr_bh")[1])
    short = permutation_test_layers(values, labels, groups=None, n_perm=20, correction="bh")
    assert (short["correction"] == "fdr_bh").all()  # stored by its canonical name


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
    with pytest.raises(ProbingError, match="engine='closed_form' needs a RidgeClassifierProbe"):
        permutation_test_layers(values, labels, groups=None, n_perm=5, probe="logistic",
                                engine="closed_form")


@pytest.mark.parametrize("n_perm", [0, 2.5, True], ids=["zero", "float", "bool"])
def test_bad_n_perm_is_an_error(n_perm):
    values, labels = planted(n_rows=20)
    with pytest.raises(ProbingError, match="n_perm must be a positive int"):
        permutation_test_layers(values, labels, groups=None, n_perm=n_perm)


def test_bad_correction_is_an_error():
    values, labels = planted(n_rows=20)
    with pytest.raises(ProbingError, match="correction must be one of"):
        permutation_test_layers(values, labels, groups=None, n_perm=5, correction="sidak")


def test_group_permutation_moves_mixed_groups_as_blocks_of_one_size():
    # Mixed groups (an ambiguous word type) move their labels row by row to another
    # mixed group of the same size; constant groups exchange their one label.
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(20), 4)
    labels = np.repeat(rng.permutation(np.tile([0, 1], 10)), 4)
    labels[[1, 9, 22]] = 1 - labels[[1, 9, 22]]  # groups 0, 2 and 5 become mixed
    values = rng.normal(size=(80, 1, 3))
    design = prepare(values, labels, groups=groups, cv=4, probe="ridge_classifier",
                     layers=None, stimuli=None, random_state=0, where="t", stratify=False)
    perms = _permutations(design, "groups", None, 50, rng, "t")
    mixed = {0, 2, 5}
    for perm in perms:
        source_group = groups[perm]
        for g in range(20):
            rows = np.flatnonzero(groups == g)
            assert np.unique(source_group[rows]).size == 1  # one source group per group
            assert (source_group[rows][0] in mixed) == (g in mixed)
            if g in mixed:  # the same rows of the source, in order
                np.testing.assert_array_equal(perm[rows] % 4, np.arange(4))
    assert len({tuple(p) for p in perms}) > 40


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
    fast = permutation_test_layers(values, labels, engine="closed_form", **common)
    slow = permutation_test_layers(values, labels, engine="refit", **common)
    np.testing.assert_allclose(fast[["estimate", "null_mean", "null_sd"]],
                               slow[["estimate", "null_mean", "null_sd"]], rtol=0, atol=1e-8)


def _null_fpr(n_sets, *, alpha, grouped, seed=0, n_perm=99):
    """The audit's design: 30 balanced rows, 5 random units, a ridge classifier."""
    rejected = 0
    for k in range(n_sets):
        rng = np.random.default_rng(seed + k)
        values = rng.normal(size=(30, 1, 5))
        if grouped:  # group-level labels, 10 groups of 3
            groups = np.repeat(np.arange(10), 3)
            labels = np.repeat(rng.permutation(np.tile([0, 1], 5)), 3)
        else:
            groups, labels = None, rng.permutation(np.tile([0, 1], 15))
        table = permutation_test_layers(values, labels, groups=groups, cv=5, n_perm=n_perm,
                                        probe=RidgeClassifierProbe(alpha=alpha),
                                        random_state=k)
        rejected += table.p_val[0] <= 0.05
    return rejected / n_sets


def test_stratified_folds_no_longer_inflate_the_null_fast():
    # alpha 1e4: folds stratified on the true labels gave FPR 0.448 (audit)
    assert _null_fpr(60, alpha=1e4, grouped=False) < 0.05 + 3 * np.sqrt(0.05 * 0.95 / 60)


@pytest.mark.slow
@pytest.mark.parametrize("alpha, grouped", [(1.0, False), (100.0, False), (1e4, False),
                                            (1.0, True), (100.0, True)],
                         ids=["rows-1", "rows-100", "rows-1e4", "groups-1", "groups-100"])
def test_stratified_folds_null_calibration(alpha, grouped):
    # audit before the fix: 0.060, 0.140, 0.448 (rows) and 0.113, 0.110 (groups)
    n = 400
    assert _null_fpr(n, alpha=alpha, grouped=grouped, n_perm=199) < 0.05 + 2.5 * np.sqrt(
        0.05 * 0.95 / n)


def test_int_cv_folds_do_not_depend_on_the_labels():
    values, labels = planted(n_rows=40)
    shuffled = np.random.default_rng(0).permutation(labels)
    kwargs = dict(groups=None, cv=4, probe="ridge_classifier", layers=None, stimuli=None,
                  random_state=3, where="t", stratify=False)
    a, b = prepare(values, labels, **kwargs), prepare(values, shuffled, **kwargs)
    for (_, test_a), (_, test_b) in zip(a.folds, b.folds, strict=True):
        np.testing.assert_array_equal(test_a, test_b)


def test_explicit_stratified_folds_keep_their_label_counts():
    values, labels = planted(n_rows=40)
    folds = build_folds(values, labels, groups=None, cv=4, probe="ridge_classifier")
    design = prepare(values, labels, groups=None, cv=folds, probe="ridge_classifier",
                     layers=None, stimuli=None, random_state=0, where="t")
    perms = _permutations(design, "rows", None, 30, np.random.default_rng(0), "t",
                          label_free=False)
    for perm in perms:
        for _, test in folds:
            assert np.bincount(labels[perm][test], minlength=2).tolist() == np.bincount(
                labels[test], minlength=2).tolist()
    table = permutation_test_layers(values, labels, groups=None, cv=folds, n_perm=20)
    assert set(table.permute) == {"rows_within_folds"}


def _almost_constant(rng, n_groups=20, size=4, n_mixed=3):
    """Labels constant within groups but for a few rows; activations clustered by group."""
    groups = np.repeat(np.arange(n_groups), size)
    labels = np.repeat(rng.permutation(np.tile([0, 1], n_groups // 2)), size)
    flip = rng.choice(n_groups, size=n_mixed, replace=False) * size
    labels[flip] = 1 - labels[flip]
    values = rng.normal(size=(n_groups, 1, 8))[groups] + 0.3 * rng.normal(
        size=(groups.size, 1, 8))
    return values, labels, groups


def test_auto_permutes_groups_when_labels_are_almost_constant_within_groups():
    # "auto" fell back to shuffling rows here (FPR 0.155-0.163 in the audit)
    values, labels, groups = _almost_constant(np.random.default_rng(1))
    table = permutation_test_layers(values, labels, groups=groups, cv=4, n_perm=20)
    assert set(table.permute) == {"groups"}
    balanced = np.tile([0, 1], 40)  # a factor varying inside every group
    table = permutation_test_layers(values, balanced, groups=groups, cv=4, n_perm=20)
    assert set(table.permute) == {"within_groups"}


def test_groups_without_a_partner_warn():
    rng = np.random.default_rng(2)
    groups = np.repeat(np.arange(6), [2, 3, 4, 5, 6, 7])
    labels = np.tile([0, 1], 14)[: groups.size]  # every group mixed, each of its own size
    values = rng.normal(size=(groups.size, 1, 3))
    with pytest.warns(UserWarning, match="no group can exchange its labels"):
        table = permutation_test_layers(values, labels, groups=groups, cv=3, n_perm=10,
                                        permute="groups")
    assert (table.p_val == 1).all()


@pytest.mark.slow
def test_almost_constant_labels_null_calibration():
    n, rejected = 400, 0
    for seed in range(n):
        values, labels, groups = _almost_constant(np.random.default_rng(seed))
        table = permutation_test_layers(values, labels, groups=groups, cv=4, n_perm=99,
                                        random_state=seed)
        rejected += table.p_val[0] <= 0.05
    assert rejected / n < 0.05 + 2.5 * np.sqrt(0.05 * 0.95 / n)


def test_scores_reliably_below_the_null_are_flagged():
    # Pairs of rows with identical activations and opposite labels, split across folds:
    # the probe predicts each row from its partner, so it is reliably wrong (anti-learning).
    rng = np.random.default_rng(0)
    values = np.repeat(rng.normal(size=(40, 2, 60)), 2, axis=0)
    values[:, 1] = rng.normal(size=(80, 60))  # layer 1: no structure
    labels = np.tile([0, 1], 40)
    with pytest.warns(UserWarning, match=r"layer\(s\) \[0\] is reliably below"):
        table = permutation_test_layers(values, labels, groups=None, cv=5, n_perm=99,
                                        probe=RidgeClassifierProbe(alpha=1.0))
    assert table.below_chance.tolist() == [True, False]
    assert table.estimate[0] < 0.3 and table.p_val[0] > 0.5
