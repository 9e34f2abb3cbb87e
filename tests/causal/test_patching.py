"""patching_effects: reference values, a planted cell, interval coverage, invariance, bad input."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from probing._core.errors import ProbingError
from probing.causal import PATCHING_COLUMNS, patching_effects


def _sweep(rng, n_pairs=40, n_layers=3, n_positions=4, n_sites=2, heads=None):
    clean = rng.normal(3.0, 1.0, n_pairs)
    corrupted = rng.normal(-1.0, 1.0, n_pairs)
    shape = (n_pairs, n_layers, n_positions) + ((heads,) if heads else ()) + (n_sites,)
    patched = corrupted.reshape(-1, *[1] * (len(shape) - 1)) + rng.normal(0, 0.3, shape)
    return clean, corrupted, patched


def _cell(table, metric, **where):
    rows = table[table["metric"] == metric]
    for key, value in where.items():
        rows = rows[rows[key] == value]
    assert len(rows) == 1
    return rows.iloc[0]


def test_columns_and_one_row_per_cell_and_metric(rng):
    clean, corrupted, patched = _sweep(rng)
    table = patching_effects(clean, corrupted, patched, direction="denoising",
                             sites=["resid_post", "attn_out"], n_boot=50)
    assert tuple(table.columns) == PATCHING_COLUMNS
    assert len(table) == 3 * 4 * 2 * 2
    assert table["head"].isna().all() and set(table["direction"]) == {"denoising"}
    assert (table["n_pairs"] == 40).all()


@pytest.mark.parametrize("direction", ["denoising", "noising"])
def test_point_estimates_match_their_definitions(rng, direction):
    clean, corrupted, patched = _sweep(rng)
    table = patching_effects(clean, corrupted, patched, direction=direction, n_boot=20)
    base = corrupted if direction == "denoising" else clean
    values = patched[:, 2, 1, 0]
    row = _cell(table, "logprob_diff", layer=2, position=1, site=0)
    assert row["estimate"] == pytest.approx(np.mean(values - base), abs=1e-12)
    row = _cell(table, "restored_fraction", layer=2, position=1, site=0)
    expected = np.sum(values - corrupted) / np.sum(clean - corrupted)
    assert row["estimate"] == pytest.approx(expected, abs=1e-12)


def test_item_interval_equals_statsmodels_cluster_robust(rng):
    # Reference: statsmodels' cluster-robust (CR1) t interval with items as clusters: an
    # intercept-only OLS for the mean change, a WLS through the origin (weights 1/gap)
    # for the restored fraction sum(restored) / sum(gap).
    import statsmodels.api as sm

    n_pairs = 30
    clean, corrupted, patched = _sweep(rng, n_pairs=n_pairs, n_layers=1, n_positions=1,
                                       n_sites=1)
    clean = corrupted + np.abs(clean - corrupted) + 0.5  # positive gaps, for WLS weights
    groups = np.repeat(np.arange(10), 3)
    table = patching_effects(clean, corrupted, patched, direction="denoising", groups=groups,
                             n_boot=50, random_state=7)
    restored, gap = patched.ravel() - corrupted, clean - corrupted
    cluster = {"cov_type": "cluster", "cov_kwds": {"groups": groups}, "use_t": True}
    mean_fit = sm.OLS(restored, np.ones(n_pairs)).fit(**cluster)
    ratio_fit = sm.WLS(restored, gap, weights=1 / gap).fit(**cluster)
    for metric, fit in [("logprob_diff", mean_fit), ("restored_fraction", ratio_fit)]:
        row = _cell(table, metric)
        assert row["estimate"] == pytest.approx(fit.params[0], abs=1e-10)
        assert [row["ci_low"], row["ci_high"]] == pytest.approx(fit.conf_int()[0], abs=1e-10)


def test_interval_with_one_pair_per_item_is_scipys_t_interval(rng):
    # Reference: scipy's one-sample t interval on the per-pair changes, one pair per item.
    from scipy import stats

    clean, corrupted, patched = _sweep(rng, n_pairs=12, n_layers=1, n_positions=1, n_sites=1)
    table = patching_effects(clean, corrupted, patched, direction="denoising", n_boot=50)
    ref = stats.ttest_1samp(patched.ravel() - corrupted, 0.0).confidence_interval(0.95)
    row = _cell(table, "logprob_diff")
    assert [row["ci_low"], row["ci_high"]] == pytest.approx([ref.low, ref.high], abs=1e-10)


def test_a_planted_cell_is_recovered_in_both_directions(rng):
    n = 50
    clean, corrupted = rng.normal(3, 1, n), rng.normal(-1, 1, n)
    noise = rng.normal(0, 0.2, (n, 4, 5, 1))
    denoise = corrupted[:, None, None, None] + noise
    denoise[:, 2, 3, 0] = clean + noise[:, 2, 3, 0]   # layer 2, position 3 carries it
    noise_run = clean[:, None, None, None] + noise
    noise_run[:, 2, 3, 0] = corrupted + noise[:, 2, 3, 0]
    for direction, patched in [("denoising", denoise), ("noising", noise_run)]:
        table = patching_effects(clean, corrupted, patched, direction=direction, n_boot=500)
        fractions = table[table["metric"] == "restored_fraction"]
        carrier = (fractions["layer"] == 2) & (fractions["position"] == 3)
        expected = (1.0, 0.0) if direction == "denoising" else (0.0, 1.0)
        assert fractions.loc[carrier, "estimate"].item() == pytest.approx(expected[0], abs=0.05)
        others = fractions.loc[~carrier]
        assert np.allclose(others["estimate"], expected[1], atol=0.05)
        assert ((others["ci_low"] < expected[1]) | (others["ci_high"] > expected[1])).all()
        diffs = table[(table["metric"] == "logprob_diff") & (table["layer"] == 2)
                      & (table["position"] == 3)]
        low, high = diffs[["ci_low", "ci_high"]].iloc[0]
        assert (low > 2) if direction == "denoising" else (high < -2)


def test_heads_axis_gives_head_rows(rng):
    clean, corrupted, patched = _sweep(rng, n_pairs=20, n_layers=2, n_positions=3,
                                       n_sites=1, heads=4)
    patched[:, 1, 2, 3, 0] = clean
    table = patching_effects(clean, corrupted, patched, direction="denoising",
                             heads=["h0", "h1", "h2", "h3"], sites=["attn_head"], n_boot=50)
    assert len(table) == 2 * 3 * 4 * 2
    best = table[table["metric"] == "restored_fraction"].nlargest(1, "estimate").iloc[0]
    assert (best["layer"], best["position"], best["head"]) == (1, 2, "h3")


def test_missing_positions_are_left_out_of_their_cell(rng):
    clean, corrupted, patched = _sweep(rng, n_pairs=10, n_layers=1, n_positions=2, n_sites=1)
    patched[:4, 0, 1, 0] = np.nan   # four pairs are one position shorter
    table = patching_effects(clean, corrupted, patched, direction="noising", n_boot=50)
    row = _cell(table, "logprob_diff", position=1)
    assert row["n_pairs"] == 6
    assert row["estimate"] == pytest.approx(np.mean(patched[4:, 0, 1, 0] - clean[4:]))


@pytest.mark.slow
def test_interval_coverage_is_nominal():
    # Calibration: the 95% interval covers the true mean change in ~95% of seeds.
    n_seeds, covered = 300, 0
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        clean, corrupted = rng.normal(2, 1, 60), rng.normal(0, 1, 60)
        patched = (corrupted + 0.5 + rng.standard_t(5, 60))[:, None, None, None]
        row = patching_effects(clean, corrupted, patched, direction="denoising",
                               n_boot=1000, random_state=seed).iloc[0]
        covered += row["ci_low"] <= 0.5 <= row["ci_high"]
    assert sps.binomtest(covered, n_seeds, 0.95).pvalue > 0.001, covered / n_seeds


def test_inputs_are_not_mutated_and_seeds_reproduce(rng):
    clean, corrupted, patched = _sweep(rng)
    copies = [a.copy() for a in (clean, corrupted, patched)]
    one = patching_effects(clean, corrupted, patched, direction="denoising", n_boot=100,
                           random_state=3)
    two = patching_effects(clean, corrupted, patched, direction="denoising", n_boot=100,
                           random_state=3)
    pd.testing.assert_frame_equal(one, two)
    for before, after in zip(copies, (clean, corrupted, patched), strict=True):
        np.testing.assert_array_equal(before, after)


def test_shuffling_pairs_with_item_ids_changes_nothing(rng):
    clean, corrupted, patched = _sweep(rng, n_pairs=24)
    groups = np.repeat([f"item{i}" for i in range(12)], 2)
    order = rng.permutation(24)
    one = patching_effects(clean, corrupted, patched, direction="denoising", groups=groups,
                           n_boot=200)
    two = patching_effects(clean[order], corrupted[order], patched[order],
                           direction="denoising", groups=groups[order], n_boot=200)
    pd.testing.assert_frame_equal(one, two, atol=1e-12)


def test_positions_keep_their_given_order(rng):
    clean, corrupted, patched = _sweep(rng, n_positions=3)
    table = patching_effects(clean, corrupted, patched, direction="denoising",
                             positions=["subj", "attractor", "verb"], n_boot=10)
    assert list(pd.unique(table["position"])) == ["subj", "attractor", "verb"]


@pytest.mark.parametrize(("change", "message"), [
    ({"direction": "forward"}, "direction must be one of"),
    ({"clean": np.array([1.0, np.nan, 0.0])}, "clean contains NaN"),
    ({"corrupted": np.zeros(2)}, "same number of pairs"),
    ({"patched": np.zeros((3, 2, 2))}, "patched must have 4 or 5 dimensions"),
    ({"layers": [0, 1, 2]}, "layers has 3 labels for an axis of length 2"),
    ({"positions": ["a", "a"]}, "positions has duplicate labels"),
    ({"heads": [0, 1]}, "heads given but patched has no head axis"),
    ({"groups": [0, 1]}, "groups must have one label per item"),
    ({"n_boot": 0}, "n_boot must be a positive integer"),
    ({"ci": 95}, "ci must lie in"),
], ids=["direction", "nan", "lengths", "ndim", "layers", "duplicates", "heads", "groups",
        "n_boot", "ci"])
def test_bad_input_names_the_field(change, message):
    args = {"clean": np.ones(3), "corrupted": np.zeros(3), "patched": np.zeros((3, 2, 2, 1)),
            "direction": "denoising"}
    args.update(change)
    with pytest.raises(ProbingError, match=message):
        patching_effects(args.pop("clean"), args.pop("corrupted"), args.pop("patched"), **args)
