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


def test_two_sided_uses_distance_from_null_centre():
    null = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    assert permutation_pvalue(-1.5, null, alternative="two-sided") == pytest.approx(3 / 6)


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
