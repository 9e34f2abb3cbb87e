"""permutation_pvalue: the (b+1)/(n+1) convention, exact enumeration, calibration."""

import itertools

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.stats import permutation_pvalue


def test_monte_carlo_counts_ties_and_adds_one():
    null = np.array([0.0, 1.0, 2.0, 2.0, 5.0])
    assert permutation_pvalue(2.0, null) == pytest.approx((3 + 1) / 6)
    assert permutation_pvalue(2.0, null, alternative="less") == pytest.approx((4 + 1) / 6)


def test_never_zero_even_beyond_the_null():
    assert permutation_pvalue(100.0, np.zeros(999)) == pytest.approx(1 / 1000)
    assert permutation_pvalue(-100.0, np.zeros(9), alternative="less") == pytest.approx(0.1)


def test_two_sided_centre_includes_the_observed_value():
    # centre = mean(-2, -1, 0, 1, 2, -1.5) = -0.25; distances 1.75 0.75 0.25 1.25 2.25
    # against 1.25: three at least as far (one tied), plus the observed itself.
    null = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    assert permutation_pvalue(-1.5, null, alternative="two-sided") == pytest.approx(4 / 6)


def test_two_sided_matches_the_rank_of_the_pooled_sample():
    # Reference: the observed value's rank among all n + 1 exchangeable values by the
    # distance from their common mean, computed directly.
    rng = np.random.default_rng(3)
    values = rng.normal(size=20)
    dist = np.abs(values - values.mean())
    expected = np.mean(dist >= dist[0])
    assert permutation_pvalue(values[0], values[1:], alternative="two-sided") == pytest.approx(
        expected)


def test_two_sided_planted_effect_reaches_the_floor():
    rng = np.random.default_rng(4)
    assert permutation_pvalue(-8.0, rng.normal(size=19), alternative="two-sided") == 0.05
    assert permutation_pvalue(8.0, rng.normal(size=19), alternative="two-sided") == 0.05


def test_two_sided_null_calibration_with_19_sets():
    # 20 exchangeable values per test (the observed one first), 40,000 tests in one call:
    # the rejection rate at 0.05 is exactly 1/20 for a valid test (it was 0.062 with
    # the centre taken from the null alone).
    rng = np.random.default_rng(5)
    values = rng.normal(size=(20, 40_000))
    p = permutation_pvalue(values[0], values[1:], alternative="two-sided")
    rate = np.mean(p <= 0.05)
    assert abs(rate - 0.05) < 4 * np.sqrt(0.05 * 0.95 / 40_000)


def test_columns_are_independent_tests_and_nan_stays_nan():
    null = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    p = permutation_pvalue([0.5, 2.0, np.nan], null)
    np.testing.assert_allclose(p, [2 / 3, 1 / 3, np.nan])


def test_exact_enumeration_matches_the_definition():
    # Sum of the first two of four values under every arrangement; identity included.
    values = np.array([3.0, 2.0, 1.0, 0.0])
    null = np.array([v[0] + v[1] for v in itertools.permutations(values)])
    p = permutation_pvalue(5.0, null, exact=True)
    assert p == pytest.approx(4 / 24)  # 5 is the largest sum, reached by 4 orders


def test_floating_point_ties_count():
    observed = 0.1 + 0.2
    assert permutation_pvalue(observed, [0.3], exact=True) == 1.0


@pytest.mark.slow
def test_null_calibration_uniform(rng):
    # With exchangeable data the p-value is (super-)uniform: P(p <= alpha) <= alpha.
    n_rep, n_perm = 2000, 99
    draws = rng.normal(size=(n_rep, n_perm + 1))
    p = np.array([permutation_pvalue(d[0], d[1:]) for d in draws])
    for alpha in (0.01, 0.05, 0.1):
        rate = np.mean(p <= alpha)
        assert rate <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / n_rep), (alpha, rate)
        assert rate >= alpha - 3 * np.sqrt(alpha * (1 - alpha) / n_rep), (alpha, rate)


BAD = [
    ((1.0, [0.0]), {"alternative": "bigger"}, "alternative must be one of"),
    (([1.0, 2.0], [[0.0, 0.0, 0.0]]), {}, r"null must be \(n_perm,\) or \(n_perm, 2\)"),
    ((1.0, []), {}, "null must be"),
]


@pytest.mark.parametrize("args, kwargs, message", BAD, ids=["alternative", "shape", "empty"])
def test_bad_input(args, kwargs, message):
    with pytest.raises(ProbingError, match=message):
        permutation_pvalue(*args, **kwargs)


def test_nan_in_the_null_leaves_the_denominator():
    # A degenerate permutation (NaN statistic) is no arrangement at all: it must count
    # neither as an exceedance nor in n_perm.
    null = np.array([0.0, 1.0, np.nan, np.nan, 2.0])
    assert permutation_pvalue(1.5, null) == pytest.approx((1 + 1) / (3 + 1))
    assert permutation_pvalue(1.5, null, exact=True) == pytest.approx(1 / 3)
    assert np.isnan(permutation_pvalue(1.5, [np.nan, np.nan]))


def test_mid_p_halves_the_ties():
    null = np.array([0.0, 1.0, 2.0, 2.0, 5.0])
    # strictly greater: 1; tied: 2 null values plus the observed arrangement itself
    assert permutation_pvalue(2.0, null, ties="mid") == pytest.approx((1 + 0.5 * 3) / 6)
    assert permutation_pvalue(2.0, null, exact=True, ties="mid") == pytest.approx(2 / 5)
    with pytest.raises(ProbingError, match="ties must be"):
        permutation_pvalue(2.0, null, ties="random")
