"""screen_agreement: scipy's Spearman, a planted screen, recall arithmetic, bad input."""

import numpy as np
import pytest
from scipy import stats as sps

from probing._core.errors import ProbingError
from probing.causal import SCREEN_COLUMNS, screen_agreement


def test_spearman_equals_scipy_with_ties_and_missing_exact_values(rng):
    exact = np.round(rng.normal(size=200), 1)          # ties
    estimate = exact + rng.normal(0, 0.5, 200)
    exact[rng.choice(200, 40, replace=False)] = np.nan
    table = screen_agreement(estimate, exact, k=5)
    assert tuple(table.columns) == SCREEN_COLUMNS
    known = ~np.isnan(exact)
    ref = sps.spearmanr(estimate[known], exact[known]).statistic
    assert table.loc[0, "estimate"] == pytest.approx(ref, abs=1e-12)
    assert table.loc[0, "n"] == 160


def test_a_good_screen_finds_the_exact_top_cells_and_a_random_one_does_not(rng):
    exact = rng.normal(0, 0.1, (31, 20, 9))
    top = rng.choice(exact.size, 10, replace=False)
    exact.flat[top] = rng.choice([-1, 1], 10) * rng.uniform(2, 3, 10)
    good = exact + rng.normal(0, 0.05, exact.shape)    # a first-order estimate that works
    noise = rng.normal(size=exact.shape)
    got = screen_agreement(good, exact, k=10, n_candidates=30).set_index("metric")["estimate"]
    assert got["top_k_recall"] == 1.0 and got["spearman"] > 0.8
    bad = screen_agreement(noise, exact, k=10, n_candidates=30).set_index("metric")["estimate"]
    assert bad["top_k_recall"] <= 0.2 and abs(bad["spearman"]) < 0.1


def test_recall_counts_exact_top_cells_among_candidates():
    exact = np.array([9.0, 8.0, 7.0, 0.0, 0.0, 0.0])
    estimate = np.array([0.0, 8.0, 0.0, 9.0, 7.0, 0.0])
    table = screen_agreement(estimate, exact, k=3, n_candidates=3).set_index("metric")
    assert table.loc["top_k_recall", "estimate"] == pytest.approx(1 / 3)
    table = screen_agreement(estimate, exact, k=3, n_candidates=6).set_index("metric")
    assert table.loc["top_k_recall", "estimate"] == 1.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"estimate": np.zeros(3)}, "estimate has 3 cells, exact 4"),
    ({"k": 5}, r"k must be a whole number in \[1, 4\]"),
    ({"n_candidates": 0}, r"n_candidates must be a whole number in \[1, 4\]"),
    ({"estimate": np.array([0, np.nan, 0, 0])}, "estimate contains NaN"),
    ({"by": "rank"}, "by must be"),
], ids=["shape", "k", "candidates", "nan", "by"])
def test_bad_input_is_named(kwargs, message):
    args = {"estimate": np.arange(4.0), "exact": np.arange(4.0), "k": 2}
    args.update(kwargs)
    with pytest.raises(ProbingError, match=message):
        screen_agreement(args.pop("estimate"), args.pop("exact"), **args)
