"""Causal mediation: Vig et al.'s formulas, a planted mediator in a toy SCM, intervals, bad input."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.causal import (
    build_mediation_items,
    joint_effect,
    mediation_effects,
    top_mediators,
)
from probing.stats import bootstrap_ci


def _toy_model(x, override=None, n_units=6, w_direct=0.5):
    """A tiny structural model: units z_j = x * c_j; y = w_direct * x + z . b.

    Unit 2 carries the number (b_2 = 2), unit 4 a little (b_4 = 0.5); the rest nothing.
    ``override`` maps unit -> value (its activation patched in).
    """
    c = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.3])[:n_units]
    b = np.array([0.0, 0.0, 2.0, 0.0, 0.5, 0.0])[:n_units]
    z = np.outer(x, c)
    for unit, value in (override or {}).items():
        z[:, unit] = value
    return w_direct * x + z @ b, z


def _runs(rng, n_items=50):
    x = rng.normal(0, 0.1, n_items)          # base inputs (singular subjects)
    xp = x + 1.0                             # counterfactuals (plural subjects)
    noise = rng.normal(0, 0.05, n_items)
    y_x, z_x = _toy_model(x)
    y_xp, z_xp = _toy_model(xp)
    y_ind = np.stack([_toy_model(x, {j: z_xp[:, j]})[0] for j in range(6)], axis=1)
    y_dir = np.stack([_toy_model(xp, {j: z_x[:, j]})[0] for j in range(6)], axis=1)
    return y_x + noise, y_xp + noise, y_ind + noise[:, None], y_dir + noise[:, None]


def test_relative_scale_is_vig_et_al_ratio_formula(rng):
    # Reference: Vig et al. 2020 with y = p(anti) / p(stereo) from raw probabilities.
    p_anti, p_stereo = rng.uniform(0.01, 0.5, (2, 30))
    p_anti2, p_stereo2 = rng.uniform(0.01, 0.5, (2, 30))
    p_anti3, p_stereo3 = rng.uniform(0.01, 0.5, (2, 30))
    y, y_set, y_med = p_anti / p_stereo, p_anti2 / p_stereo2, p_anti3 / p_stereo3
    table = mediation_effects(np.log(y), np.log(y_set), np.log(y_med)[:, None],
                              scale="relative", n_boot=20)
    get = table.set_index("metric")["estimate"]
    assert get["total_effect"] == pytest.approx(np.mean(y_set / y - 1), rel=1e-12)
    assert get["indirect_effect"] == pytest.approx(np.mean(y_med / y - 1), rel=1e-12)


def test_planted_mediator_is_found_and_effects_decompose(rng):
    y_x, y_xp, y_ind, y_dir = _runs(rng)
    meds = pd.DataFrame({"layer": 3, "site": "mlp_out", "unit": np.arange(6)})
    table = mediation_effects(y_x, y_xp, y_ind, y_direct=y_dir, mediators=meds, n_boot=500)
    get = table.set_index(["unit", "metric"])["estimate"]
    assert get[(0, "total_effect")] == pytest.approx(0.5 + 2.0 + 0.5)
    assert get[(2, "indirect_effect")] == pytest.approx(2.0)
    assert get[(2, "direct_effect")] == pytest.approx(1.0)   # TE - NIE in a linear model
    assert get[(2, "indirect_fraction")] == pytest.approx(2.0 / 3.0)
    assert get[(0, "indirect_effect")] == pytest.approx(0.0, abs=1e-12)
    top = top_mediators(table, k=2)
    assert top["unit"].tolist() == [2, 4] and top["rank"].tolist() == [1, 2]
    assert set(top.columns) >= {"layer", "site", "unit", "ci_low", "ci_high"}


def test_joint_effect_of_the_top_set_against_the_sum_of_its_members(rng):
    x = rng.normal(0, 0.1, 40)
    xp = x + 1.0
    _, z_xp = _toy_model(xp)
    y_x, y_xp = _toy_model(x)[0], _toy_model(xp)[0]
    joint = _toy_model(x, {2: z_xp[:, 2], 4: z_xp[:, 4]})[0]
    single = np.stack([_toy_model(x, {j: z_xp[:, j]})[0] for j in (2, 4)], axis=1)
    out = joint_effect(y_x, y_xp, joint, y_indirect=single, n_boot=200).set_index("metric")
    assert out.loc["joint_indirect_effect", "estimate"] == pytest.approx(2.5)
    assert out.loc["summed_indirect_effect", "estimate"] == pytest.approx(2.5)  # linear: additive
    assert out.loc["joint_fraction", "estimate"] == pytest.approx(2.5 / 3.0)
    # An AND of two units (y = 3 z_a z_b): neither alone moves y, the pair does.
    z_x, z_xp = np.zeros((40, 2)), np.ones((40, 2))

    def and_model(z):
        return 3.0 * z[:, 0] * z[:, 1]

    single = np.stack([and_model(np.where(np.arange(2) == j, z_xp, z_x)) for j in (0, 1)],
                      axis=1)
    out = joint_effect(and_model(z_x), and_model(z_xp), and_model(z_xp), y_indirect=single,
                       n_boot=50).set_index("metric")
    assert out.loc["joint_indirect_effect", "estimate"] == pytest.approx(3.0)
    assert out.loc["summed_indirect_effect", "estimate"] == pytest.approx(0.0)


def test_interval_agrees_with_stats_bootstrap_ci(rng):
    y_x, y_xp, y_ind, _ = _runs(rng, n_items=80)
    y_ind = y_ind + rng.normal(0, 0.5, y_ind.shape)
    table = mediation_effects(y_x, y_xp, y_ind, n_boot=20_000)
    row = table[(table["mediator"] == 2) & (table["metric"] == "indirect_effect")].iloc[0]
    ref = bootstrap_ci(y_ind[:, 2] - y_x, n_boot=20_000, random_state=0)
    assert row["estimate"] == pytest.approx(ref.estimate)
    assert row["ci_low"] == pytest.approx(ref.ci_low, abs=0.1 * ref.std_err)
    assert row["ci_high"] == pytest.approx(ref.ci_high, abs=0.1 * ref.std_err)


def test_per_item_table_holds_each_item_mediator_and_metric(rng):
    y_x, y_xp, y_ind, y_dir = _runs(rng, n_items=5)
    items = build_mediation_items(y_x, y_xp, y_ind, y_direct=y_dir,
                                  groups=[f"i{k}" for k in range(5)])
    assert len(items) == 5 * 6 * 3
    nie = items[(items["metric"] == "indirect_effect") & (items["mediator"] == 2)]
    np.testing.assert_allclose(nie["estimate"], y_ind[:, 2] - y_x)
    assert nie["item_id"].tolist() == [f"i{k}" for k in range(5)]


def test_shuffling_items_and_mediators_permutes_nothing_but_rows(rng):
    y_x, y_xp, y_ind, y_dir = _runs(rng, n_items=20)
    groups = np.arange(20) // 2
    order, cols = rng.permutation(20), rng.permutation(6)
    copies = [a.copy() for a in (y_x, y_xp, y_ind)]
    meds = pd.DataFrame({"unit": np.arange(6)})
    one = mediation_effects(y_x, y_xp, y_ind, mediators=meds, groups=groups, n_boot=100)
    two = mediation_effects(y_x[order], y_xp[order], y_ind[order][:, cols],
                            mediators=meds.iloc[cols], groups=groups[order], n_boot=100)
    two = two.sort_values(["unit"], kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(one, two, atol=1e-12)
    for before, after in zip(copies, (y_x, y_xp, y_ind), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize(("change", "message"), [
    ({"y_xprime": np.zeros(3)}, "y_xprime has 3 rows, expected 4"),
    ({"y_indirect": np.zeros(4)}, "y_indirect must have 2 dimensions"),
    ({"y_direct": np.zeros((4, 3))}, "y_direct has shape"),
    ({"mediators": pd.DataFrame({"unit": [0]})}, "mediators has 1 rows"),
    ({"mediators": pd.DataFrame({"estimate": [0, 1]})}, "may not have column"),
    ({"scale": "ratio"}, "scale must be one of"),
    ({"y_x": np.array([0, 1, np.inf, 0])}, "y_x contains NaN or inf"),
], ids=["lengths", "ndim", "direct-shape", "mediators-rows", "mediator-clash", "scale", "inf"])
def test_bad_input_names_the_field(change, message):
    args = {"y_x": np.zeros(4), "y_xprime": np.ones(4), "y_indirect": np.zeros((4, 2))}
    args.update(change)
    with pytest.raises(ProbingError, match=message):
        mediation_effects(args.pop("y_x"), args.pop("y_xprime"), args.pop("y_indirect"),
                          n_boot=10, **args)


def test_top_mediators_rejects_a_bad_k():
    table = mediation_effects(np.zeros(3), np.ones(3), np.zeros((3, 2)), n_boot=10)
    with pytest.raises(ProbingError, match="k must be a positive integer"):
        top_mediators(table, k=0)
    with pytest.raises(ProbingError, match="no rows with metric 'direct_effect'"):
        top_mediators(table, k=1, metric="direct_effect")


@pytest.mark.slow
def test_indirect_effect_interval_coverage_is_nominal():
    # Calibration: the 95% interval of the mean NIE covers its true value in ~95% of seeds,
    # with items resampled in groups of three rows (item_id) that share a random offset.
    from scipy import stats as sps

    n_seeds, covered = 300, 0
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        groups = np.repeat(np.arange(30), 3)
        y_x = rng.normal(size=90)
        nie = 0.8 + rng.normal(0, 1, 30)[groups] + rng.normal(0, 0.5, 90)
        table = mediation_effects(y_x, y_x + 2.0, (y_x + nie)[:, None], groups=groups,
                                  n_boot=1000, random_state=seed)
        row = table[table["metric"] == "indirect_effect"].iloc[0]
        covered += row["ci_low"] <= 0.8 <= row["ci_high"]
    assert sps.binomtest(covered, n_seeds, 0.95).pvalue > 0.001, covered / n_seeds


def test_n_items_counts_groups_and_few_warn():
    from probing.causal import MEDIATION_COLUMNS, joint_effect
    from probing.stats import FewItemsWarning

    rng = np.random.default_rng(0)
    y_x, y_xprime = rng.normal(size=30), rng.normal(2, 1, size=30)
    groups = np.repeat(np.arange(10), 3)               # 10 items of 3 pairs
    with pytest.warns(FewItemsWarning, match="mediation_effects: 10 items"):
        table = mediation_effects(y_x, y_xprime, np.stack([y_x, y_xprime], 1), groups=groups,
                                  n_boot=50)
    assert (table["n"] == 30).all() and (table["n_items"] == 10).all()
    with pytest.warns(FewItemsWarning, match="joint_effect: 10 items"):
        joint = joint_effect(y_x, y_xprime, y_xprime, groups=groups, n_boot=50)
    assert (joint["n_items"] == 10).all()
    assert list(joint.columns) == list(MEDIATION_COLUMNS)
