"""item_intervals and check_n_items: references, planted effect, coverage, bad input."""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from probing._core.errors import ProbingError
from probing.stats import FewItemsWarning, check_n_items, item_intervals


def _item_sums(values, groups):
    codes = np.unique(groups, return_inverse=True)[1]
    indicator = (codes[None] == np.arange(codes.max() + 1)[:, None]).astype(float)
    return indicator @ values, indicator @ np.ones_like(values)


def test_one_pair_per_item_is_scipys_t_interval(rng):
    values = rng.exponential(size=(9, 3))
    est, low, high = item_intervals(values, np.ones_like(values), ci=0.9)
    for j in range(3):
        ref = stats.ttest_1samp(values[:, j], 0.0).confidence_interval(0.9)
        assert est[j] == pytest.approx(values[:, j].mean())
        assert [low[j], high[j]] == pytest.approx([ref.low, ref.high], abs=1e-12)


def test_clustered_mean_is_statsmodels_cluster_robust(rng):
    groups = np.repeat(np.arange(7), [1, 2, 3, 4, 2, 3, 5])
    y = rng.normal(size=groups.size) + rng.normal(size=7)[groups]
    num, den = _item_sums(y[:, None], groups)
    est, low, high = item_intervals(num, den)
    fit = sm.OLS(y, np.ones_like(y)).fit(cov_type="cluster", cov_kwds={"groups": groups},
                                        use_t=True)
    assert est[0] == pytest.approx(fit.params[0])
    assert [low[0], high[0]] == pytest.approx(fit.conf_int()[0], abs=1e-12)


def test_planted_effect_excludes_zero_and_null_covers_it(rng):
    values = np.c_[rng.normal(2.0, 1.0, 15), rng.normal(0.0, 1.0, 15)]
    _, low, high = item_intervals(values, np.ones_like(values))
    assert low[0] > 0 and low[1] < 0 < high[1]


def test_percentile_uses_the_given_draws(rng):
    values = rng.normal(size=(10, 1))
    counts = np.zeros((4, 10))
    counts[:, 0] = 10  # every resample is item 0 ten times
    est, low, high = item_intervals(values, np.ones_like(values), counts, interval="percentile")
    assert low[0] == high[0] == pytest.approx(values[0, 0])


def test_zero_denominator_and_one_item_give_nan():
    est, low, high = item_intervals(np.array([[1.0, 1.0]]), np.array([[0.0, 1.0]]))
    assert np.isnan(est[0]) and est[1] == 1.0 and np.isnan(low).all() and np.isnan(high).all()


def test_coverage_at_8_items_x_3_pairs_with_item_effects():
    # 4,000 simulated studies as cells of one call: true mean 0, item effects sd 1, pair
    # noise sd 1, skewed (centred exponential) pair noise. The percentile bootstrap covered
    # 0.877 here; the t interval must be within binomial tolerance of 0.95.
    rng = np.random.default_rng(11)
    n_sims, groups = 4000, np.repeat(np.arange(8), 3)
    y = rng.normal(size=(8, n_sims))[groups] + rng.exponential(size=(24, n_sims)) - 1.0
    num, den = _item_sums(y, groups)
    _, low, high = item_intervals(num, den)
    coverage = np.mean((low < 0) & (0 < high))
    assert abs(coverage - 0.95) < 4 * np.sqrt(0.95 * 0.05 / n_sims)


def test_intervals_warn_with_few_items(rng):
    with pytest.warns(FewItemsWarning, match="patching: 5 items"):
        item_intervals(rng.normal(size=(5, 2)), np.ones((5, 2)), what="patching")


def test_check_n_items_warns_below_the_minimum():
    with pytest.warns(FewItemsWarning, match="patching: 8 items"):
        assert check_n_items(8, "patching") == 8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_n_items(20, "patching") == 20


def test_bad_input():
    with pytest.raises(ProbingError, match="interval must be one of"):
        item_intervals(np.ones((3, 1)), np.ones((3, 1)), interval="bca")
    with pytest.raises(ProbingError, match="needs counts"):
        item_intervals(np.ones((3, 1)), np.ones((3, 1)), interval="percentile")
    with pytest.raises(ProbingError, match="one shape"):
        item_intervals(np.ones((3, 1)), np.ones((3, 2)))
