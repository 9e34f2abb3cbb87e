"""Unit tables: validation, selection by score, matched random sets."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.causal import check_unit_table, sample_matched_units, select_units


@pytest.fixture
def units():
    return pd.DataFrame({"layer": np.repeat([0, 1, 2], 20), "site": "mlp_out",
                         "unit": np.tile(np.arange(20), 3)})


def test_matched_sets_have_the_selected_size_and_layer_counts(units):
    selected = units.iloc[[1, 2, 3, 45]]
    sets = sample_matched_units(units, selected, n_sets=200, random_state=1)
    assert list(sets.columns) == ["set", "layer", "site", "unit"]
    per_set = sets.groupby(["set", "layer"]).size().unstack(fill_value=0)
    assert (per_set[0] == 3).all() and (per_set[2] == 1).all() and 1 not in per_set
    assert not sets.duplicated(["set", "layer", "site", "unit"]).any()   # no replacement


def test_draws_are_uniform_within_a_stratum(units):
    # Each layer-0 unit is in a set with probability 3/20.
    sets = sample_matched_units(units, units.iloc[[1, 2, 3]], n_sets=4000, random_state=0)
    freq = sets["unit"].value_counts().reindex(range(20)).to_numpy() / 4000
    assert np.allclose(freq, 3 / 20, atol=0.02)


def test_exclude_selected_never_draws_them(units):
    selected = units.iloc[[1, 2, 3]]
    sets = sample_matched_units(units, selected, n_sets=300, exclude_selected=True)
    assert not sets["unit"].isin([1, 2, 3]).any()


def test_same_seed_same_sets_and_inputs_untouched(units):
    before = units.copy()
    one = sample_matched_units(units, units.iloc[[0, 30]], n_sets=10, random_state=5)
    two = sample_matched_units(units.sample(frac=1, random_state=2), units.iloc[[30, 0]],
                               n_sets=10, random_state=5)
    pd.testing.assert_frame_equal(one, two)   # row order of the inputs does not matter
    pd.testing.assert_frame_equal(units, before)


def test_select_units_takes_the_largest_weights():
    scores = np.zeros((3, 10))
    scores[2, 4], scores[0, 9], scores[1, 1] = 5.0, -4.0, 0.5
    out = select_units(scores, k=2, layers=[6, 7, 8], site="mlp_out")
    assert out[["layer", "unit"]].values.tolist() == [[8, 4], [6, 9]]
    assert select_units(scores, k=1, by="signed")["unit"].item() == 4


@pytest.mark.parametrize(("table", "kwargs", "message"), [
    (pd.DataFrame({"layer": [0], "unit": [1]}), {}, r"missing column\(s\) \['site'\]"),
    (pd.DataFrame({"layer": [0], "site": "x", "unit": [1.5]}), {}, "unit must hold whole"),
    (pd.DataFrame({"layer": [0], "site": "x", "unit": [64]}), {"n_units": 64},
     r"unit 64 is out of range; units must lie in \[0, 64\)"),
    (pd.DataFrame({"layer": [9], "site": "x", "unit": [0]}), {"layers": [0, 1]},
     r"unknown layer\(s\) \[9\]"),
    (pd.DataFrame({"layer": [0], "site": "mlp", "unit": [0]}), {"sites": ["mlp_out"]},
     r"unknown site\(s\) \['mlp'\]"),
    (pd.DataFrame({"layer": [0, 0], "site": "x", "unit": [1, 1]}), {}, "listed twice"),
    (pd.DataFrame(columns=["layer", "site", "unit"]), {}, "no units"),
], ids=["column", "fraction", "range", "layer", "site", "duplicate", "empty"])
def test_bad_unit_tables_are_named(table, kwargs, message):
    with pytest.raises(ProbingError, match=message):
        check_unit_table(table, name="top.csv", **kwargs)


def test_sampler_bad_input(units):
    with pytest.raises(ProbingError, match=r"selected unit \(5, 'mlp_out', 0\) is not in"):
        sample_matched_units(units, pd.DataFrame({"layer": [5], "site": "mlp_out",
                                                  "unit": [0]}), n_sets=3)
    with pytest.raises(ProbingError, match="n_sets must be a positive integer"):
        sample_matched_units(units, units.iloc[[0]], n_sets=0)
    small = units[units["layer"] == 0].iloc[:3]
    with pytest.raises(ProbingError, match="has 1 units to draw from, fewer than the 2"):
        sample_matched_units(small, small.iloc[[0, 1]], n_sets=3, exclude_selected=True)
    with pytest.raises(ProbingError, match="k must be a whole number"):
        select_units(np.zeros((2, 3)), k=7)


def test_fractional_unit_message_prints_a_plain_number():
    table = pd.DataFrame({"layer": [1], "site": ["resid_post"], "unit": [1.5]})
    with pytest.raises(ProbingError, match=r"unit must hold whole numbers, got 1\.5$"):
        check_unit_table(table)
