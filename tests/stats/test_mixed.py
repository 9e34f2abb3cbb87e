"""Tests for probing.stats.fit_mixed_model (reference: a direct statsmodels mixedlm fit)."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from probing._core.errors import ProbingError
from probing.stats import MIXED_COLUMNS, fit_mixed_model, mixed_formula


def _factorial(rng, n_items=24, effect_a=1.0, effect_b=0.0, interaction=0.0, item_sd=1.0):
    """A 2x2 within-item design: surprisal = effects + item intercept + noise."""
    a = np.tile(["a1", "a1", "a2", "a2"], n_items)
    b = np.tile(["b1", "b2", "b1", "b2"], n_items)
    items = np.repeat(np.arange(n_items), 4)
    sa, sb = np.where(a == "a1", 0.5, -0.5), np.where(b == "b1", 0.5, -0.5)
    y = (3.0 + effect_a * sa + effect_b * sb + interaction * sa * sb
         + rng.normal(scale=item_sd, size=n_items)[items] + rng.normal(size=items.size))
    return pd.DataFrame({"item_id": items, "a": a, "b": b, "surprisal": y})


CODINGS = [("sum", "surprisal ~ C(a, Sum) * C(b, Sum)"),
           ("treatment", "surprisal ~ C(a) * C(b)")]


@pytest.mark.parametrize("coding, formula", CODINGS, ids=[c for c, _ in CODINGS])
def test_matches_direct_mixedlm(rng, coding, formula):
    table = _factorial(rng, interaction=0.8)
    ours = fit_mixed_model(table, outcome="surprisal", fixed=["a", "b"], coding=coding,
                           test="wald")
    ref = smf.mixedlm(formula, table, groups=table["item_id"]).fit(reml=True)
    names = list(ref.fe_params.index)
    assert ours["term"].tolist() == names
    np.testing.assert_allclose(ours["estimate"], ref.fe_params, rtol=1e-8)
    np.testing.assert_allclose(ours["std_err"], ref.bse_fe, rtol=1e-8)
    np.testing.assert_allclose(ours["stat"], ref.tvalues[names], rtol=1e-8)
    np.testing.assert_allclose(ours["p_val"], ref.pvalues[names], rtol=1e-8)
    bounds = ref.conf_int().loc[names]
    np.testing.assert_allclose(ours["ci_low"], bounds[0], rtol=1e-8)
    np.testing.assert_allclose(ours["ci_high"], bounds[1], rtol=1e-8)
    assert ours[["converged", "n_obs", "n_groups"]].drop_duplicates().values.tolist() == [
        [True, 96, 24]]
    assert tuple(ours.columns) == MIXED_COLUMNS


def test_ml_and_ci_level_match_direct_fit(rng):
    table = _factorial(rng)
    ours = fit_mixed_model(table, outcome="surprisal", fixed=["a"], reml=False, ci=0.9,
                           test="wald")
    ref = smf.mixedlm("surprisal ~ C(a, Sum)", table, groups=table["item_id"]).fit(reml=False)
    np.testing.assert_allclose(ours["estimate"], ref.fe_params, rtol=1e-8)
    np.testing.assert_allclose(ours["ci_low"], ref.conf_int(alpha=0.1).iloc[:2, 0], rtol=1e-8)


def test_planted_effects_recovered_under_sum_coding():
    # Sum coding: the a1 coefficient is a1's deviation from the grand mean, effect / 2.
    table = _factorial(np.random.default_rng(3), n_items=200, effect_a=2.0, interaction=1.0)
    res = fit_mixed_model(table, outcome="surprisal", fixed=["a", "b"]).set_index("term")
    assert res.loc["Intercept", "estimate"] == pytest.approx(3.0, abs=0.2)
    assert res.loc["C(a, Sum)[S.a1]", "estimate"] == pytest.approx(1.0, abs=0.1)
    assert res.loc["C(a, Sum)[S.a1]", "p_val"] < 1e-10
    assert res.loc["C(a, Sum)[S.a1]:C(b, Sum)[S.b1]", "estimate"] == pytest.approx(0.25, abs=0.1)
    assert res.loc["C(b, Sum)[S.b1]", "ci_low"] < 0 < res.loc["C(b, Sum)[S.b1]", "ci_high"]


def test_additive_model_and_formula():
    assert mixed_formula("y", ["a", "b"], interactions=False) == "y ~ C(a, Sum) + C(b, Sum)"
    table = _factorial(np.random.default_rng(1))
    res = fit_mixed_model(table, outcome="surprisal", fixed="a", interactions=False)
    assert res["term"].tolist() == ["Intercept", "C(a, Sum)[S.a1]"]


def test_missing_outcomes_dropped(rng):
    table = _factorial(rng)
    table.loc[[0, 5, 9], "surprisal"] = np.nan
    res = fit_mixed_model(table, outcome="surprisal", fixed=["a"], test="wald")
    ref = smf.mixedlm("surprisal ~ C(a, Sum)", table.dropna(),
                      groups=table.dropna()["item_id"]).fit()
    assert res["n_obs"].iloc[0] == 93
    np.testing.assert_allclose(res["estimate"], ref.fe_params, rtol=1e-8)


def test_row_order_and_input_untouched(rng):
    table = _factorial(rng)
    before = table.copy()
    res = fit_mixed_model(table, outcome="surprisal", fixed=["a", "b"])
    pd.testing.assert_frame_equal(table, before)
    shuffled = fit_mixed_model(table.sample(frac=1, random_state=0), outcome="surprisal",
                               fixed=["a", "b"])
    pd.testing.assert_frame_equal(res, shuffled, rtol=1e-5)


def test_non_convergence_warns_instead_of_raising():
    # A perfect fit (no residual variance) sends the optimiser to the boundary.
    items = np.repeat(np.arange(20), 2)  # 20 items: no few-items warning
    cond = np.tile(["a", "b"], 20)
    table = pd.DataFrame({"item_id": items, "c": cond, "y": (cond == "a") * 1.0})
    with pytest.warns(ConvergenceWarning, match="did not converge") as record:
        res = fit_mixed_model(table, outcome="y", fixed=["c"], test="wald")
    assert not res["converged"].any()
    assert len(record) == 1
    assert record[0].filename == __file__


def test_singular_design_gives_nan_table(rng, monkeypatch):
    def singular(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(smf, "mixedlm", singular)
    with pytest.warns(ConvergenceWarning, match="Singular matrix"):
        res = fit_mixed_model(_factorial(rng), outcome="surprisal", fixed=["a"], test="wald")
    assert res["term"].tolist() == ["Intercept", "C(a, Sum)[S.a1]"]
    assert res["estimate"].isna().all() and not res["converged"].any()


def test_converged_fit_is_silent(rng):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_mixed_model(_factorial(rng), outcome="surprisal", fixed=["a"])


BAD = [
    ({"fixed": ["a", "c"]}, r"missing column\(s\) \['c'\]"),
    ({"outcome": "rt"}, r"missing column\(s\) \['rt'\]"),
    ({"group_column": "subject"}, r"missing column\(s\) \['subject'\]"),
    ({"coding": "helmert"}, "coding must be one of"),
    ({"fixed": ["one_level"]}, "needs at least two levels"),
    ({"fixed": ["bad name"]}, "must be identifiers"),
]


@pytest.mark.parametrize("kwargs, message", BAD,
                         ids=["fixed", "outcome", "groups", "coding", "levels", "name"])
def test_bad_input(rng, kwargs, message):
    table = _factorial(rng).assign(one_level="x", **{"bad name": "x"})
    kwargs = {"outcome": "surprisal", "fixed": ["a"], **kwargs}
    with pytest.raises(ProbingError, match=message):
        fit_mixed_model(table, **kwargs)


def test_singular_fit_reports_not_converged():
    # A factor that varies only between two items, outcome constant within each item:
    # statsmodels says converged=True with NaN standard errors; that fit is unusable.
    items = np.repeat(np.arange(2), 6)
    table = pd.DataFrame({"item_id": items, "c": np.where(items == 0, "a", "b"),
                          "y": np.array([0.3, -1.2])[items]})
    with pytest.warns((ConvergenceWarning, UserWarning)):
        res = fit_mixed_model(table, outcome="y", fixed=["c"])
    assert res["std_err"].isna().any()
    assert not res["converged"].any()


def _two_conditions(rng, n_items, effect=0.0):
    items = np.repeat(np.arange(n_items), 2)
    cond = np.tile(["a", "b"], n_items)
    y = rng.normal(size=n_items)[items] + rng.normal(size=2 * n_items) + effect * (cond == "a")
    return pd.DataFrame({"item_id": items, "c": cond, "y": y})


def test_by_item_equals_paired_t_test(rng):
    # Two conditions per item: the by-item test of the sum-coded term is the paired t test.
    table = _two_conditions(rng, 7, effect=0.8)
    res = fit_mixed_model(table, outcome="y", fixed=["c"], test="by_item").set_index("term")
    wide = table.pivot(index="item_id", columns="c", values="y")
    ref = stats.ttest_rel(wide["a"], wide["b"])
    term = "C(c, Sum)[S.a]"
    assert res.loc[term, "p_val"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert res.loc[term, "estimate"] == pytest.approx((wide["a"] - wide["b"]).mean() / 2)
    assert res["test"].eq("by_item").all() and res["n_groups"].eq(7).all()
    # balanced design: the mixed model's estimate is the same number
    with pytest.warns(UserWarning, match="rejects too often"):
        wald = fit_mixed_model(table, outcome="y", fixed=["c"], test="wald").set_index("term")
    assert wald.loc[term, "estimate"] == pytest.approx(res.loc[term, "estimate"], rel=1e-6)


def test_wald_with_few_items_warns_and_by_item_needs_every_cell(rng):
    with pytest.warns(UserWarning, match="6 'item_id' groups"):
        fit_mixed_model(_two_conditions(rng, 6), outcome="y", fixed=["c"], test="wald")
    table = _two_conditions(rng, 6).drop(index=[0])
    with pytest.raises(ProbingError, match="every cell in every group"):
        fit_mixed_model(table, outcome="y", fixed=["c"], test="by_item")
    with pytest.raises(ProbingError, match="test must be one of"):
        fit_mixed_model(table, outcome="y", fixed=["c"], test="lrt")


def test_by_item_null_fpr_fast(rng):
    # 600 null data sets of 6 items (the audit's Wald FPR: 0.110): the by-item test stays
    # within a binomial tolerance of 0.05 (the slow test below compares it with Wald).
    p = [fit_mixed_model(_two_conditions(rng, 6), outcome="y", fixed=["c"],
                         test="by_item")["p_val"].iloc[1] for _ in range(600)]
    rate = np.mean(np.array(p) < 0.05)
    assert rate < 0.05 + 3 * np.sqrt(0.05 * 0.95 / 600), rate


@pytest.mark.slow
def test_wald_is_liberal_and_by_item_is_not_with_six_items():
    rng = np.random.default_rng(11)
    n = 400
    wald, by_item = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            table = _two_conditions(rng, 6)
            wald.append(fit_mixed_model(table, outcome="y", fixed=["c"],
                                        test="wald")["p_val"].iloc[1])
            by_item.append(fit_mixed_model(table, outcome="y", fixed=["c"],
                                           test="by_item")["p_val"].iloc[1])
    tol = 2.5 * np.sqrt(0.05 * 0.95 / n)
    assert np.mean(np.array(wald) < 0.05) > 0.05 + tol  # the defect the test documents
    assert abs(np.mean(np.array(by_item) < 0.05) - 0.05) < tol


def _between_items(rng, n_items, per_item=2, effect=0.0):
    """A factor that varies between items (half the items each level), items random."""
    items = np.repeat(np.arange(n_items), per_item)
    level = np.where(items % 2 == 0, "x", "y")
    y = (rng.normal(size=n_items)[items] + rng.normal(size=items.size)
         + effect * (level == "x"))
    return pd.DataFrame({"item_id": items, "g": level, "y": y})


def test_satterthwaite_within_items_equals_paired_t_test(rng):
    table = _two_conditions(rng, 8, effect=0.5)
    with pytest.warns(UserWarning, match="8 items"):
        res = fit_mixed_model(table, outcome="y", fixed=["c"], test="satterthwaite")
    wide = table.pivot(index="item_id", columns="c", values="y")
    ref = stats.ttest_rel(wide["a"], wide["b"])
    row = res.set_index("term").loc["C(c, Sum)[S.a]"]
    assert row["df"] == pytest.approx(7, rel=1e-4)
    assert row["p_val"] == pytest.approx(ref.pvalue, rel=1e-4)
    assert row["test"] == "satterthwaite"


def test_auto_picks_by_item_within_and_satterthwaite_between(rng):
    with pytest.warns(UserWarning):
        within = fit_mixed_model(_two_conditions(rng, 8), outcome="y", fixed=["c"])
        between = fit_mixed_model(_between_items(rng, 8), outcome="y", fixed=["g"])
    assert within["test"].eq("by_item").all() and within["df"].eq(7).all()
    assert between["test"].eq("satterthwaite").all()


def test_satterthwaite_between_items_equals_t_test_on_item_means(rng):
    # Balanced between-item factor: the t test of the item means (n_items - 2 df).
    table = _between_items(rng, 12, per_item=3, effect=1.0)
    with pytest.warns(UserWarning):
        res = fit_mixed_model(table, outcome="y", fixed=["g"]).set_index("term")
    means = table.groupby("item_id").agg(y=("y", "mean"), g=("g", "first"))
    ref = stats.ttest_ind(means.loc[means.g == "x", "y"], means.loc[means.g == "y", "y"])
    row = res.loc["C(g, Sum)[S.x]"]
    assert row["df"] == pytest.approx(10, rel=1e-3)
    assert row["p_val"] == pytest.approx(ref.pvalue, rel=1e-3)


def test_satterthwaite_null_fpr_between_items_fast():
    # 200 null data sets of 6 items, 2 rows each, a between-item factor: Wald z rejected
    # 0.107 in such designs; Satterthwaite's t stays within binomial tolerance of 0.05.
    rng = np.random.default_rng(21)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = [fit_mixed_model(_between_items(rng, 6), outcome="y", fixed=["g"])["p_val"].iloc[1]
             for _ in range(200)]
    rate = np.mean(np.array(p) < 0.05)
    assert rate < 0.05 + 3 * np.sqrt(0.05 * 0.95 / 200), rate
