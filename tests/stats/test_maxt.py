"""max_t_test and item_t_tests against brute-force sign flips, scipy and statsmodels."""

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats

from probing._core.errors import ProbingError
from probing.stats import item_intervals, item_t_tests, max_t_test


def _brute_force_p(x):
    """Every sign vector of the items: the share whose largest |t| (scipy) reaches each cell's."""
    observed = np.abs(stats.ttest_1samp(x, 0.0).statistic)
    maxima = [np.max(np.abs(stats.ttest_1samp(np.array(s)[:, None] * x, 0.0).statistic))
              for s in itertools.product([-1.0, 1.0], repeat=x.shape[0])]
    return np.array([np.mean(np.array(maxima) >= t - 1e-9) for t in observed])


def test_exact_max_t_p_equals_brute_force_enumeration():
    x = np.random.default_rng(0).normal(size=(7, 4)) + [1.0, 0.0, 0.3, -0.8]
    result = max_t_test(x, np.ones_like(x))
    assert result.exact and result.n_perm == 2**7
    np.testing.assert_allclose(result.p_corr, _brute_force_p(x))


def test_per_cell_tests_are_scipy_t_tests_and_item_intervals():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(9, 5)) + 0.5
    cells = item_t_tests(x, np.ones_like(x))
    ref = stats.ttest_1samp(x, 0.0)
    np.testing.assert_allclose(cells.stat, ref.statistic)
    np.testing.assert_allclose(cells.p_val, ref.pvalue)
    # several pairs per item: the cluster-robust interval of item_intervals
    num, den = rng.normal(size=(9, 5)) * 3, rng.integers(1, 4, size=(9, 5)).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, low, high = item_intervals(num, den)
    cells = item_t_tests(num, den)
    np.testing.assert_allclose(cells.ci_low, low)
    np.testing.assert_allclose(cells.ci_high, high)


def test_one_cell_max_t_is_the_sign_flip_test():
    x = np.random.default_rng(2).normal(size=(10, 1)) + 0.7
    result = max_t_test(x, np.ones_like(x))
    ref = stats.permutation_test((x[:, 0],), lambda v: stats.ttest_1samp(v, 0.0).statistic,
                                 permutation_type="samples", n_resamples=np.inf)
    assert result.p_corr[0] == pytest.approx(ref.pvalue)


def test_planted_cells_survive_and_null_cells_do_not():
    # (seed 3 draws a null cell with per-cell p 0.0005: one of the 5% of sweeps with a
    # family-wise false positive)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(16, 40))
    x[:, [5, 6]] += 2.5
    result = max_t_test(x, np.ones_like(x), n_perm=2000)
    assert not result.exact and result.n_perm == 2000
    assert set(np.flatnonzero(result.p_corr < 0.05)) == {5, 6}
    assert (result.ci_low[[5, 6]] > 0).all()
    # simultaneous intervals are wider than the per-cell ones
    cells = item_t_tests(x, np.ones_like(x))
    assert ((result.ci_high - result.ci_low) > (cells.ci_high - cells.ci_low)).all()


def test_intervals_shift_with_the_data_and_p_ignores_cell_order():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(12, 6))
    base = max_t_test(x, np.ones_like(x))
    shifted = max_t_test(x + 10.0 * (x != 0), np.ones_like(x))   # every pair +10
    np.testing.assert_allclose(shifted.ci_low, base.ci_low + 10.0)
    np.testing.assert_allclose(shifted.ci_high, base.ci_high + 10.0)
    order = rng.permutation(6)
    np.testing.assert_allclose(max_t_test(x[:, order], np.ones_like(x)).p_corr,
                               base.p_corr[order])


def test_items_lacking_a_cell_are_left_out_of_it():
    x = np.random.default_rng(5).normal(size=(8, 3))
    den = np.ones_like(x)
    x[0, 1], den[0, 1] = 0.0, 0.0
    result = max_t_test(x, den)
    assert result.n_items.tolist() == [8, 7, 8]
    assert result.stat[1] == pytest.approx(stats.ttest_1samp(x[1:, 1], 0.0).statistic)


def test_bad_input_is_refused_with_its_reason():
    with pytest.raises(ProbingError, match=r"num and den must be \(n_items, n_cells\)"):
        max_t_test(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ProbingError, match="must be finite"):
        max_t_test(np.full((3, 2), np.nan), np.ones((3, 2)))
    with pytest.raises(ProbingError, match="n_perm must be a positive integer"):
        max_t_test(np.ones((3, 2)), np.ones((3, 2)), n_perm=0)
    with pytest.raises(ProbingError, match="at least 2 items"):
        max_t_test(np.ones((1, 2)), np.ones((1, 2)))
