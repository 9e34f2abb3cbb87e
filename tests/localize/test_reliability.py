"""Split-half reliability: Dice against its random expectation, held-out measurements."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.localize import (
    RELIABILITY_COLUMNS,
    build_reliability,
    compute_dice,
    expected_dice,
    localize_units,
)


def test_dice_reference():
    a = np.array([1, 1, 1, 0, 0, 0], bool)
    b = np.array([0, 1, 1, 1, 0, 0], bool)
    inter = len(set(np.flatnonzero(a)) & set(np.flatnonzero(b)))
    assert compute_dice(a, b) == 2 * inter / (a.sum() + b.sum())
    assert np.isnan(compute_dice([False], [False]))


@pytest.mark.parametrize("k1, k2, n", [(10, 10, 200), (5, 30, 100), (1, 50, 60)],
                         ids=["equal", "unequal", "tiny"])
def test_expected_dice_matches_random_selections(k1, k2, n):
    rng = np.random.default_rng(k1 + k2)
    draws = []
    for _ in range(4000):
        a, b = np.zeros(n, bool), np.zeros(n, bool)
        a[rng.choice(n, k1, replace=False)] = True
        b[rng.choice(n, k2, replace=False)] = True
        draws.append(compute_dice(a, b))
    sem = np.std(draws) / np.sqrt(len(draws))
    assert abs(np.mean(draws) - expected_dice(k1, k2, n)) < 4 * sem + 1e-12


def test_reliability_of_a_planted_signal():
    rng = np.random.default_rng(3)
    units = pd.DataFrame({"layer": 0, "site": "resid_post", "unit": range(300)})
    conditions = np.array(["s", "n"] * 20)
    halves = {}
    for name in ("run1", "run2"):
        responses = rng.normal(size=(40, 300))
        responses[conditions == "s", :6] += 2.0
        halves[name] = localize_units(responses, units, conditions, ("s", "n"), top_percent=2)
    table = build_reliability(halves)
    assert list(table.columns) == list(RELIABILITY_COLUMNS)
    dice = table[table["metric"] == "dice"].iloc[0]
    assert dice["estimate"] == 1.0 and dice["expected"] == pytest.approx(0.02)
    assert np.isnan(dice["p_val"]) and dice["n_perm"] == 0  # no null given: no p-value
    held = table[table["metric"] == "held_out_stat"]
    assert held["selected_on"].tolist() == ["run1", "run2"]
    assert (held["estimate"] > 4).all() and (held["expected"].abs() < 0.5).all()


def test_bad_halves():
    table = pd.DataFrame({"stat": [1.0], "estimate": [1.0], "selected": [True]})
    with pytest.raises(ProbingError, match="exactly two halves; got 1"):
        build_reliability({"a": table})
    with pytest.raises(ProbingError, match="the halves have 1 and 2 units"):
        build_reliability({"a": table, "b": pd.concat([table, table])})
    with pytest.raises(ProbingError, match="need 0 <= k1, k2 <= n"):
        expected_dice(5, 1, 3)
