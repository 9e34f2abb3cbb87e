"""Unit statistics against independent implementations (statsmodels OLS and Welch)."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.weightstats import ttest_ind as sm_ttest_ind

from probing._core.errors import ProbingError
from probing.localize import build_design, compute_unit_stats, parse_contrast

CONTRAST = ("sentences", "nonwords")


def _data(rng, n=(14, 11), n_units=7):
    conditions = np.array(["sentences"] * n[0] + ["nonwords"] * n[1])
    responses = rng.normal(size=(sum(n), n_units))
    responses[conditions == "sentences", :2] += 1.0
    nuisance = pd.DataFrame({"n_tokens": rng.integers(10, 30, sum(n)).astype(float)})
    responses += 0.3 * nuisance.to_numpy()
    return responses, conditions, nuisance


def _statsmodels_t(responses, conditions, nuisance=None):
    # Independent parametrisation: intercept + indicator of A (+ raw nuisance).
    x = pd.DataFrame({"const": 1.0, "a": (conditions == "sentences").astype(float)})
    if nuisance is not None:
        x = pd.concat([x, nuisance], axis=1)
    fits = [sm.OLS(responses[:, j], x).fit() for j in range(responses.shape[1])]
    return np.array([f.tvalues["a"] for f in fits]), np.array([f.params["a"] for f in fits])


@pytest.mark.parametrize("with_nuisance", [False, True], ids=["conditions", "nuisance"])
def test_glm_t_equals_statsmodels_ols(rng, with_nuisance):
    responses, conditions, nuisance = _data(rng)
    nuisance = nuisance if with_nuisance else None
    out = compute_unit_stats(responses, conditions, CONTRAST, nuisance=nuisance)
    t, effect = _statsmodels_t(responses, conditions, nuisance)
    np.testing.assert_allclose(out["stat"], t, rtol=0, atol=1e-8)
    np.testing.assert_allclose(out["estimate"], effect, rtol=0, atol=1e-8)
    assert (out["dof"] == len(conditions) - 2 - with_nuisance).all()


@pytest.mark.parametrize("alternative, sm_name", [("greater", "larger"), ("less", "smaller"),
                                                  ("two-sided", "two-sided")],
                         ids=["greater", "less", "two-sided"])
def test_welch_equals_statsmodels(rng, alternative, sm_name):
    responses, conditions, _ = _data(rng)
    out = compute_unit_stats(responses, conditions, CONTRAST, test="welch",
                             alternative=alternative)
    a, b = responses[conditions == "sentences"], responses[conditions == "nonwords"]
    t, p, dof = sm_ttest_ind(a, b, usevar="unequal", alternative=sm_name)
    np.testing.assert_allclose(out["stat"], t, rtol=0, atol=1e-8)
    np.testing.assert_allclose(out["p_val"], p, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(out["dof"], dof, rtol=1e-8)


def test_glm_p_values_by_alternative(rng):
    responses, conditions, _ = _data(rng)
    greater = compute_unit_stats(responses, conditions, CONTRAST)
    less = compute_unit_stats(responses, conditions, CONTRAST, alternative="less")
    both = compute_unit_stats(responses, conditions, CONTRAST, alternative="two-sided")
    np.testing.assert_allclose(greater["p_val"] + less["p_val"], 1.0, atol=1e-12)
    np.testing.assert_allclose(both["p_val"], 2 * np.minimum(greater["p_val"], less["p_val"]),
                               atol=1e-12)
    fit = sm.OLS(responses[:, 0], sm.add_constant((conditions == "sentences").astype(float))).fit()
    assert both["p_val"][0] == pytest.approx(fit.pvalues[1], rel=1e-8)


def test_constant_units_get_nan_and_others_are_unchanged(rng):
    responses, conditions, _ = _data(rng)
    with_constant = np.column_stack([responses, np.ones(len(conditions))])
    out = compute_unit_stats(with_constant, conditions, CONTRAST)
    assert out.iloc[-1].isna().all()
    pd.testing.assert_frame_equal(out.iloc[:-1], compute_unit_stats(responses, conditions, CONTRAST))


def test_shuffling_stimuli_changes_nothing_and_inputs_are_not_mutated(rng):
    responses, conditions, nuisance = _data(rng)
    before = responses.copy(), conditions.copy(), nuisance.copy()
    out = compute_unit_stats(responses, conditions, CONTRAST, nuisance=nuisance)
    order = rng.permutation(len(conditions))
    shuffled = compute_unit_stats(responses[order], conditions[order], CONTRAST,
                                  nuisance=nuisance.iloc[order].reset_index(drop=True))
    np.testing.assert_allclose(shuffled.to_numpy(), out.to_numpy(), atol=1e-10)
    np.testing.assert_array_equal(responses, before[0])
    np.testing.assert_array_equal(conditions, before[1])
    pd.testing.assert_frame_equal(nuisance, before[2])


@pytest.mark.parametrize("text, message", [
    ("sentences", "must be two conditions as A-B"),
    ("sentences-sentences", "the two conditions must differ"),
    ("sentences-words", r"\['words'\] not a condition; conditions: nonwords, sentences"),
    ("-nonwords", "must be two conditions as A-B"),
], ids=["one", "same", "unknown", "empty"])
def test_bad_contrast(text, message):
    with pytest.raises(ProbingError, match=message):
        parse_contrast(text, ["sentences", "nonwords"])


def test_bad_inputs(rng):
    responses, conditions, nuisance = _data(rng)
    with pytest.raises(ProbingError, match=r"conditions \['x'\] are not in the contrast"):
        build_design([*conditions[:-1], "x"], CONTRAST)
    with pytest.raises(ProbingError, match="condition 'nonwords': needs at least 2 stimuli"):
        build_design(["sentences"] * 5 + ["nonwords"], CONTRAST)
    with pytest.raises(ProbingError, match="rank deficient"):
        build_design(conditions, CONTRAST, nuisance=pd.DataFrame({"c": np.ones(len(conditions))}))
    with pytest.raises(ProbingError, match="nuisance has 3 rows for 25 stimuli"):
        build_design(conditions, CONTRAST, nuisance=nuisance.iloc[:3])
    with pytest.raises(ProbingError, match="Welch test takes no nuisance regressors"):
        compute_unit_stats(responses, conditions, CONTRAST, nuisance=nuisance, test="welch")
    with pytest.raises(ProbingError, match="test 'ttest': allowed glm, welch"):
        compute_unit_stats(responses, conditions, CONTRAST, test="ttest")
    with pytest.raises(ProbingError, match="alternative 'up': allowed greater, less, two-sided"):
        compute_unit_stats(responses, conditions, CONTRAST, alternative="up")
    with pytest.raises(ProbingError, match=r"must be \(n_stimuli, n_units\) with 25 rows"):
        compute_unit_stats(responses[:3], conditions, CONTRAST)


def test_cohens_d_equals_the_pooled_sd_reference_for_both_tests(rng):
    responses, conditions, nuisance = _data(rng)
    a, b = responses[conditions == "sentences"], responses[conditions == "nonwords"]
    pooled = np.sqrt(((len(a) - 1) * a.var(0, ddof=1) + (len(b) - 1) * b.var(0, ddof=1))
                     / (len(a) + len(b) - 2))
    expected = (a.mean(0) - b.mean(0)) / pooled
    for test in ("glm", "welch"):
        out = compute_unit_stats(responses, conditions, CONTRAST, test=test)
        np.testing.assert_allclose(out["cohens_d"], expected, rtol=1e-10)
    # with a nuisance regressor: the adjusted effect over statsmodels' residual SD
    x = pd.DataFrame({"const": 1.0, "a": (conditions == "sentences").astype(float)})
    fits = [sm.OLS(responses[:, j], pd.concat([x, nuisance], axis=1)).fit()
            for j in range(responses.shape[1])]
    adjusted = compute_unit_stats(responses, conditions, CONTRAST, nuisance=nuisance)
    np.testing.assert_allclose(adjusted["cohens_d"],
                               [f.params["a"] / np.sqrt(f.mse_resid) for f in fits], rtol=1e-10)


@pytest.mark.parametrize("test", ["glm", "welch"])
def test_perfect_separators_get_an_infinite_statistic(rng, test):
    responses, conditions, _ = _data(rng)
    responses[:, 3] = np.where(conditions == "sentences", 0.7, 0.3)  # A > B, no noise
    responses[:, 4] = np.where(conditions == "sentences", 0.3, 0.7)  # A < B
    out = compute_unit_stats(responses, conditions, CONTRAST, test=test)
    assert out.loc[3, ["cohens_d", "stat", "z"]].tolist() == [np.inf] * 3
    assert out.loc[4, ["cohens_d", "stat", "z"]].tolist() == [-np.inf] * 3
    assert out.loc[3, "p_val"] == 0 and out.loc[4, "p_val"] == 1
    assert np.isfinite(out.drop(index=[3, 4])["stat"]).all()
    two_sided = compute_unit_stats(responses, conditions, CONTRAST, test=test,
                                   alternative="two-sided")
    assert two_sided.loc[[3, 4], "p_val"].tolist() == [0, 0]


def test_a_separator_once_nuisance_is_accounted_for(rng):
    responses, conditions, nuisance = _data(rng)
    responses[:, 0] = (conditions == "sentences") + 0.5 * nuisance["n_tokens"].to_numpy()
    out = compute_unit_stats(responses, conditions, CONTRAST, nuisance=nuisance)
    assert out.loc[0, "stat"] == np.inf and out.loc[0, "estimate"] == pytest.approx(1.0)
