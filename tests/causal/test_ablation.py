"""Ablation against matched random sets: a planted mechanism, the null's calibration, Holm."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from probing._core.errors import ProbingError
from probing.causal import (
    ABLATION_COLUMNS,
    ablation_test,
    compare_to_null,
    sample_matched_units,
)
from probing.stats import correct_pvalues, permutation_pvalue

N_LAYERS, N_UNITS = 4, 30


def _population(rng, n_items, carrier_weight=0.0):
    """A linear read-out model: measure = sum_j w_j a_ij; ablating a unit zeroes a_ij.

    Items carry number in their sign; units (layer 2, units 3 and 7) are the planted
    carriers when ``carrier_weight`` > 0.
    """
    units = pd.DataFrame({"layer": np.repeat(np.arange(N_LAYERS), N_UNITS), "site": "mlp_out",
                          "unit": np.tile(np.arange(N_UNITS), N_LAYERS)})
    weights = rng.normal(0, 0.05, len(units))
    carriers = np.flatnonzero((units["layer"] == 2) & units["unit"].isin([3, 7]))
    weights[carriers] += carrier_weight
    acts = np.abs(rng.normal(1, 0.3, (n_items, len(units))))
    return units, weights, acts, carriers


def _measure(weights, acts, ablate=()):
    keep = np.ones(weights.size)
    keep[list(ablate)] = 0.0
    return acts @ (weights * keep)


def _row_index(units, table):
    # units is laid out layer by layer, so a unit's row is layer * N_UNITS + unit.
    return (table["layer"] * N_UNITS + table["unit"]).to_numpy()


def test_planted_carriers_flip_the_behaviour_and_random_sets_do_not(rng):
    units, weights, acts, carriers = _population(rng, 60, carrier_weight=1.0)
    selected = units.iloc[carriers]
    sets = sample_matched_units(units, selected, n_sets=199, random_state=1)
    baseline = _measure(weights, acts)
    ablated = _measure(weights, acts, carriers)
    null = np.stack([_measure(weights, acts, _row_index(units, s.drop(columns="set")))
                     for _, s in sets.groupby("set")])
    table = ablation_test(baseline, ablated, null, alternative="less", n_boot=500)
    assert tuple(table.columns) == ABLATION_COLUMNS
    given = table[table["unit_set"] == "given"].iloc[0]
    assert (baseline > 0).mean() > 0.95 and (ablated < baseline - 1).mean() > 0.95
    # Only random sets that happen to hold both carriers are as extreme as the given set.
    both = sets.groupby("set").apply(
        lambda s: set(_row_index(units, s)) >= set(carriers), include_groups=False)
    assert given["p_val"] == pytest.approx((1 + both.sum()) / 200) and given["p_val"] < 0.02
    assert given["ci_high"] < table.loc[table["unit_set"] == "random", "ci_low"].item()


def test_p_value_follows_the_permutation_convention(rng):
    effect = rng.normal(-0.3, 1, 25)
    null = rng.normal(0, 1, (49, 25))
    out = compare_to_null(effect, null, alternative="less", n_boot=100)
    expected = permutation_pvalue(effect.mean(), null.mean(axis=1), alternative="less")
    assert out.loc[0, "p_val"] == expected
    assert out.loc[1, "estimate"] == pytest.approx(null.mean())


def test_phenomena_are_tested_separately_and_holm_corrected(rng):
    base = rng.normal(1, 1, 90)
    phen = np.repeat(["agreement", "npi", "filler_gap"], 30)
    ablated = base - np.select([phen == "agreement", phen == "npi"], [1.0, 0.15], 0.0)
    ablated = ablated + rng.normal(0, 0.3, 90)
    null = base + rng.normal(0, 0.3, (99, 90))
    table = ablation_test(base, ablated, null, phenomena=phen, n_boot=200)
    given = table[table["unit_set"] == "given"].set_index("phenomenon")
    assert list(given.index) == ["agreement", "npi", "filler_gap"]
    np.testing.assert_allclose(given["p_corr"], correct_pvalues(given["p_val"].to_numpy()))
    assert given.loc["agreement", "p_corr"] < 0.05 and given.loc["filler_gap", "p_val"] > 0.01
    assert (table["correction"] == "holm").all()
    assert table.loc[table["unit_set"] == "random", "p_corr"].isna().all()


@pytest.mark.slow
def test_random_set_null_is_calibrated():
    # Under no effect (the tested set is itself a random matched set) the test rejects at
    # alpha = 0.05 in ~5% of seeds.
    n_seeds, n_sets, rejected = 400, 99, 0
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        units, weights, acts, _ = _population(rng, 30)
        template = units.iloc[[5, 40, 41, 100]]
        # The sampler continues rng's stream: seeding it with ``seed`` again would replay
        # the draws that made the weights and tie set 0's units to their weights.
        draws = sample_matched_units(units, template, n_sets=n_sets + 1, random_state=rng)
        index = _row_index(units, draws).reshape(n_sets + 1, -1)
        baseline = _measure(weights, acts)
        runs = np.stack([_measure(weights, acts, ix) for ix in index])
        out = compare_to_null(runs[0] - baseline, runs[1:] - baseline, n_boot=10)
        rejected += out.loc[0, "p_val"] <= 0.05
    assert sps.binomtest(rejected, n_seeds, 0.05).pvalue > 0.001, rejected / n_seeds


def test_inputs_are_not_mutated_and_seeds_reproduce(rng):
    base, abl, null = rng.normal(size=20), rng.normal(size=20), rng.normal(size=(9, 20))
    copies = [a.copy() for a in (base, abl, null)]
    one = ablation_test(base, abl, null, n_boot=100, random_state=4)
    pd.testing.assert_frame_equal(one, ablation_test(base, abl, null, n_boot=100,
                                                     random_state=4))
    for before, after in zip(copies, (base, abl, null), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize(("change", "message"), [
    ({"ablated": np.zeros(3)}, "ablated has 3 rows, expected 4"),
    ({"null_ablated": np.zeros((5, 3))}, r"null_ablated must be \(n_sets, 4\)"),
    ({"phenomena": ["a", "b"]}, "phenomena must have one label per item"),
    ({"correction": "sidak"}, "correction must be one of"),
    ({"alternative": "bigger"}, "alternative must be one of"),
    ({"baseline": np.array([0.0, np.nan, 1, 2])}, "unablated contains NaN"),
], ids=["lengths", "null-shape", "phenomena", "correction", "alternative", "nan"])
def test_bad_input_names_the_field(change, message):
    args = {"baseline": np.zeros(4), "ablated": np.ones(4), "null_ablated": np.zeros((5, 4))}
    args.update(change)
    with pytest.raises(ProbingError, match=message):
        ablation_test(args.pop("baseline"), args.pop("ablated"), args.pop("null_ablated"),
                      n_boot=10, **args)


def test_n_items_counts_items_not_rows_and_few_warn():
    from probing.stats import FewItemsWarning

    rng = np.random.default_rng(0)
    base = rng.normal(size=36)
    groups = np.repeat(np.arange(12), 3)               # 12 items of 3 rows
    with pytest.warns(FewItemsWarning, match="compare_to_null: 12 items"):
        table = ablation_test(base, base - 1.0, base + rng.normal(0, .2, (19, 36)),
                              groups=groups, n_boot=50)
    assert table["n"].tolist() == [36, 36] and table["n_items"].tolist() == [12, 12]
