"""Selection rules: planted units found under FWE control, calibration under the null."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from probing._core.errors import ProbingError
from probing.localize import (
    UNITS_COLUMNS,
    build_layer_counts,
    compare_selections,
    compute_fwe_pvalues,
    compute_unit_stats,
    localize_units,
    select_top,
)

CONTRAST = ("s", "n")


def _units(n_layers, n_units):
    return pd.DataFrame({"layer": np.repeat(np.arange(n_layers), n_units), "site": "resid_post",
                         "unit": np.tile(np.arange(n_units), n_layers)})


def _planted(rng, n_stimuli=40, n_layers=4, n_units=100, planted=(5, 130, 222, 371), shift=2.0):
    conditions = np.array(["s", "n"] * (n_stimuli // 2))
    responses = rng.normal(size=(n_stimuli, n_layers * n_units))
    planted = [u for u in planted if u < n_layers * n_units]
    responses[np.ix_(conditions == "s", planted)] += shift
    return responses, conditions, _units(n_layers, n_units), set(planted)


def test_planted_units_recovered_under_fwe(rng):
    responses, conditions, units, planted = _planted(rng)
    out = localize_units(responses, units, conditions, CONTRAST, selection="fwe", n_perm=1000,
                         random_state=1)
    assert list(out.columns) == list(UNITS_COLUMNS) and (out["correction"] == "max_t").all()
    assert set(np.flatnonzero(out["selected"])) == planted
    assert out["p_corr"].min() >= (1 - 1e-9) / 1001 and (out["p_corr"] >= out["p_val"] - 1e-12).all()


def test_fwe_t_equals_the_glm_and_per_layer_families_are_less_strict(rng):
    from nilearn.mass_univariate import permuted_ols

    responses, conditions, units, _ = _planted(rng, shift=0.9)
    glm = compute_unit_stats(responses, conditions, CONTRAST)
    out = permuted_ols((conditions == "s").astype(float)[:, None], responses, n_perm=10,
                       random_state=0, output_type="dict", verbose=0)
    np.testing.assert_allclose(out["t"][0], glm["stat"], atol=1e-8)
    whole = compute_fwe_pvalues(responses, conditions, CONTRAST, n_perm=500)
    layered = compute_fwe_pvalues(responses, conditions, CONTRAST, n_perm=500,
                                  families=units["layer"])
    # the maximum over one layer is stochastically smaller than over the whole model
    assert np.mean(layered <= whole + 1e-12) > 0.95


def test_fdr_equals_statsmodels_and_top_counts(rng):
    responses, conditions, units, _ = _planted(rng)
    out = localize_units(responses, units, conditions, CONTRAST, selection="fdr", alpha=0.1)
    reject, p_corr, *_ = multipletests(out["p_val"], alpha=0.1, method="fdr_bh")
    np.testing.assert_allclose(out["p_corr"], p_corr, atol=1e-12)
    np.testing.assert_array_equal(out["selected"], reject)
    top = localize_units(responses, units, conditions, CONTRAST, top_percent=1.0)
    assert top["selected"].sum() == 4 and top["p_corr"].isna().all()
    ranks = stats.rankdata(-top["stat"], method="ordinal")
    np.testing.assert_array_equal(top["selected"], ranks <= 4)
    per_layer = localize_units(responses, units, conditions, CONTRAST, top_percent=2.0,
                               per_layer=True)
    assert build_layer_counts(per_layer)["n_selected"].tolist() == [2, 2, 2, 2]


def test_select_top_directions_and_nan():
    stat = np.array([np.nan, 3.0, -5.0, 1.0])
    assert select_top(stat, top_percent=25).tolist() == [False, True, False, False]
    assert select_top(stat, top_percent=25, alternative="less").tolist() == [False, False, True,
                                                                            False]
    assert select_top(stat, top_percent=25, alternative="two-sided").tolist() == [
        False, False, True, False]
    assert not select_top([np.nan, np.nan], top_percent=50).any()


def test_layer_counts_and_compare_selections():
    units = _units(3, 4).assign(selected=[True] * 3 + [False] * 9)
    counts = build_layer_counts(units)
    assert counts["n_selected"].tolist() == [3, 0, 0] and counts["share"].sum() == 1.0
    diff = compare_selections(units["selected"], np.roll(units["selected"], 1))
    assert diff["n_changed"] == 2 and diff["n_both"] == 2


def test_inputs_not_mutated(rng):
    responses, conditions, units, _ = _planted(rng)
    before = responses.copy(), units.copy()
    localize_units(responses, units, conditions, CONTRAST, selection="fwe", n_perm=50)
    np.testing.assert_array_equal(responses, before[0])
    pd.testing.assert_frame_equal(units, before[1])


@pytest.mark.parametrize("options, message", [
    ({"selection": "bonferroni"}, "selection 'bonferroni': allowed top, fdr, fwe"),
    ({"selection": "fwe", "test": "welch"}, "selection 'fwe' permutes the GLM"),
    ({"alpha": 1.5, "selection": "fdr"}, r"alpha must be in \(0, 1\)"),
    ({"top_percent": 0}, r"top_percent must be in \(0, 100\]"),
    ({"alternative": "bigger"}, "alternative 'bigger': allowed"),
    ({"selection": "fwe", "n_perm": 0}, "n_perm must be >= 1"),
], ids=["selection", "fwe-welch", "alpha", "top", "alternative", "n_perm"])
def test_bad_options(rng, options, message):
    responses, conditions, units, _ = _planted(rng, n_layers=1)
    with pytest.raises(ProbingError, match=message):
        localize_units(responses, units, conditions, CONTRAST, **options)


def test_units_must_match_responses(rng):
    responses, conditions, units, _ = _planted(rng, n_layers=1)
    with pytest.raises(ProbingError, match=r"one row per response column \(100\); got 99 rows"):
        localize_units(responses, units.iloc[:99], conditions, CONTRAST)


@pytest.mark.slow
@pytest.mark.parametrize("selection", ["fwe", "fdr"])
def test_null_family_wise_error_is_calibrated(selection):
    # Under the global null FWE and FDR both bound P(any unit selected) by alpha.
    n_seeds, alpha = 300, 0.05
    units = _units(2, 40)
    hits = 0
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        conditions = np.array(["s", "n"] * 12)
        responses = rng.normal(size=(24, 80))
        out = localize_units(responses, units, conditions, CONTRAST, selection=selection,
                             n_perm=200, random_state=seed)
        hits += bool(out["selected"].any())
    low, high = stats.binom.ppf([0.0005, 0.9995], n_seeds, alpha)
    assert hits <= high, hits
    if selection == "fwe":  # max-T is exact, not conservative
        assert hits >= low, hits


@pytest.mark.slow
def test_null_p_values_are_uniform():
    rng = np.random.default_rng(7)
    conditions = np.array(["s", "n"] * 15)
    p = compute_unit_stats(rng.normal(size=(30, 4000)), conditions, CONTRAST)["p_val"]
    assert stats.kstest(p, "uniform").pvalue > 0.001
    assert abs(np.mean(p < 0.05) - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 4000)


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
def test_perfect_separators_come_first_in_every_selection_rule(rng, alternative):
    # A weak but noise-free unit (t = inf) against strong noisy ones: every rule keeps it.
    responses, conditions, units, planted = _planted(rng, n_layers=2, shift=3.0)
    sign = -1.0 if alternative == "less" else 1.0
    responses[:, 17] = np.where(conditions == "s", 0.2 * sign, 0.1 * sign) + 5.0
    n_perm = 199
    selected = {}
    for selection in ("top", "fdr", "fwe"):
        out = localize_units(responses, units, conditions, CONTRAST, selection=selection,
                             top_percent=0.5, n_perm=n_perm, alternative=alternative)
        selected[selection] = out["selected"].to_numpy()
        if selection == "fwe":
            assert out.loc[17, "p_corr"] == pytest.approx(1 / (n_perm + 1))
    assert all(s[17] for s in selected.values()), {k: bool(s[17]) for k, s in selected.items()}
    top_two = localize_units(responses, units, conditions, CONTRAST, selection="top",
                             top_percent=0.5, alternative=alternative)
    assert top_two.loc[17, "stat"] == sign * np.inf


def test_a_separator_in_the_wrong_direction_is_never_selected(rng):
    responses, conditions, units, _ = _planted(rng, n_layers=2)
    responses[:, 17] = np.where(conditions == "s", 0.1, 0.2)
    for selection in ("top", "fdr", "fwe"):
        out = localize_units(responses, units, conditions, CONTRAST, selection=selection,
                             top_percent=50, n_perm=99)
        assert not out.loc[17, "selected"], selection
