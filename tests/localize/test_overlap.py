"""Split-half overlap by permutation: coordinates, p-values, planted signal, calibration."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from probing._core.errors import ProbingError
from probing.localize import (
    OVERLAP_NULL_COLUMNS,
    build_overlap_null,
    build_reliability,
    compute_coordinate_dice,
    localize_units,
    overlap_pvalue,
)
from tests.localize.test_select import CONTRAST, _units


def _residual_stream(rng, n_stimuli, n_layers, n_coords, layer_noise=0.3):
    # a coordinate carries nearly the same value at every layer, as in the residual stream
    shared = rng.normal(size=(n_stimuli, n_coords))
    return np.tile(shared, (1, n_layers)) + layer_noise * rng.normal(size=(n_stimuli, n_layers * n_coords))


def _halves(n_stimuli):
    return np.repeat(["run1", "run2"], n_stimuli // 2)


def _observed(responses, units, conditions, halves, **options):
    tables = {h: localize_units(responses[halves == h], units, conditions[halves == h], CONTRAST,
                                **options) for h in ("run1", "run2")}
    return tables


def test_coordinate_dice_against_sets():
    units = _units(3, 4)
    a = np.zeros(12, bool)
    b = np.zeros(12, bool)
    a[[0, 4, 8, 1]] = True  # coordinates {0, 1}
    b[[5, 2]] = True  # coordinates {1, 2}
    assert compute_coordinate_dice(units, a, b) == 2 * 1 / (2 + 2)
    assert np.isnan(compute_coordinate_dice(units, np.zeros(12, bool), np.zeros(12, bool)))


def test_overlap_pvalue_counts_ties_as_at_least_as_large():
    null = np.array([0.2, 0.5, 0.5, 0.9])
    assert overlap_pvalue(0.5, null) == (1 + 3) / 5
    assert overlap_pvalue(1.0, null) == 1 / 5
    assert np.isnan(overlap_pvalue(np.nan, null))


def test_planted_overlap_is_significant_on_units_and_coordinates():
    rng = np.random.default_rng(1)
    n_stimuli, units = 48, _units(4, 25)
    responses = _residual_stream(rng, n_stimuli, 4, 25)
    conditions = np.array(["s", "n"] * (n_stimuli // 2))
    halves = _halves(n_stimuli)
    planted = units["unit"].isin([3, 7]).to_numpy()  # two coordinates, at every layer
    responses[np.ix_(conditions == "s", planted)] += 2.0
    tables = _observed(responses, units, conditions, halves, top_percent=8)
    null = build_overlap_null(responses, units, conditions, halves, CONTRAST, n_perm=19,
                              top_percent=8)
    assert list(null.columns) == list(OVERLAP_NULL_COLUMNS) and len(null) == 2 * 19
    table = build_reliability(tables, null=null).set_index("metric")
    assert table.loc["dice", "estimate"] == 1.0 and table.loc["dice_coordinates", "estimate"] == 1.0
    assert table.loc["dice", "p_val"] == pytest.approx(1 / 20)
    assert table.loc["dice_coordinates", "p_val"] == pytest.approx(1 / 20)
    assert table.loc["dice_coordinates", ["n_selected", "n_units", "n_perm"]].tolist() == [2, 25, 19]
    assert table.loc["dice", "expected"] < 0.5


def test_null_is_reproducible_and_ignores_the_stimulus_order_of_the_real_labels():
    rng = np.random.default_rng(2)
    responses, units = rng.normal(size=(24, 30)), _units(2, 15)
    conditions, halves = np.array(["s", "n"] * 12), _halves(24)
    first = build_overlap_null(responses, units, conditions, halves, CONTRAST, n_perm=4,
                               top_percent=10, random_state=3)
    again = build_overlap_null(responses, units, conditions, halves, CONTRAST, n_perm=4,
                               top_percent=10, random_state=3)
    pd.testing.assert_frame_equal(first, again)
    other = build_overlap_null(responses, units, conditions, halves, CONTRAST, n_perm=4,
                               top_percent=10, random_state=4)
    assert not first["estimate"].equals(other["estimate"])


def test_without_a_null_there_is_no_p_value():
    rng = np.random.default_rng(3)
    responses, units = rng.normal(size=(24, 30)), _units(2, 15)
    tables = _observed(responses, units, np.array(["s", "n"] * 12), _halves(24), top_percent=10)
    table = build_reliability(tables).set_index("metric")
    assert table.loc[["dice", "dice_coordinates"], "p_val"].isna().all()
    assert (table["n_perm"] == 0).all()


def test_bad_halves_are_refused():
    responses, units = np.zeros((4, 2)), _units(1, 2)
    with pytest.raises(ProbingError, match=r"two halves covering every stimulus; got \['a'\]"):
        build_overlap_null(responses, units, ["s", "n", "s", "n"], ["a"] * 4, CONTRAST)
    with pytest.raises(ProbingError, match="n_perm must be >= 1; got 0"):
        build_overlap_null(responses, units, ["s", "n"] * 2, ["a", "a", "b", "b"], CONTRAST,
                           n_perm=0)


@pytest.mark.slow
def test_permutation_overlap_is_calibrated_where_the_hypergeometric_is_not():
    # Null data with residual-stream structure (each coordinate repeated over layers):
    # the permutation p rejects at the nominal rate, the hypergeometric far more often.
    n_sets, n_perm, alpha = 120, 19, 0.05
    n_stimuli, units = 32, _units(8, 20)
    halves = _halves(n_stimuli)
    perm_hits = hyper_hits = 0
    for seed in range(n_sets):
        rng = np.random.default_rng(100 + seed)
        responses = _residual_stream(rng, n_stimuli, 8, 20)
        conditions = np.concatenate([rng.permutation(["s", "n"] * (n_stimuli // 4))
                                     for _ in range(2)])
        tables = _observed(responses, units, conditions, halves, top_percent=10)
        null = build_overlap_null(responses, units, conditions, halves, CONTRAST,
                                  n_perm=n_perm, top_percent=10, random_state=seed)
        dice = build_reliability(tables, null=null).set_index("metric").loc["dice"]
        perm_hits += dice["p_val"] <= alpha
        a, b = (t["selected"].to_numpy(bool) for t in tables.values())
        p_hyper = stats.hypergeom.sf((a & b).sum() - 1, a.size, a.sum(), b.sum())
        hyper_hits += p_hyper <= alpha
    high = stats.binom.ppf(0.9995, n_sets, alpha)
    assert perm_hits <= high, perm_hits
    assert hyper_hits > high, hyper_hits
