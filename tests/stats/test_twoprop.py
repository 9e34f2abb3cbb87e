"""McNemar and the two-proportion comparison against statsmodels and hand computations."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from probing._core.errors import ProbingError
from probing.stats.twoprop import compare_proportions, mcnemar_test


@pytest.mark.parametrize("n,p_flip", [(30, 0.2), (400, 0.3)], ids=["exact", "chi2"])
def test_mcnemar_equals_statsmodels_and_a_hand_count(n, p_flip):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, n)
    b = np.where(rng.random(n) < p_flip, 1 - a, a)
    b[:3] = 1 - a[:3]  # at least some discordant pairs
    out = mcnemar_test(a, b)
    n10, n01 = int(np.sum((a == 1) & (b == 0))), int(np.sum((a == 0) & (b == 1)))
    assert (out["n_a_only"], out["n_b_only"]) == (n10, n01)
    table = [[np.sum((a == 1) & (b == 1)), n10], [n01, np.sum((a == 0) & (b == 0))]]
    expected = mcnemar(table, exact=out["exact"], correction=True)
    assert out["p_val"] == pytest.approx(expected.pvalue, rel=1e-12)
    if out["exact"]:  # binomial on the discordant pairs, by hand
        assert out["p_val"] == pytest.approx(stats.binomtest(n10, n10 + n01).pvalue, rel=1e-9)
    else:  # (|b - c| - 1)^2 / (b + c), by hand
        chi2 = (abs(n10 - n01) - 1) ** 2 / (n10 + n01)
        assert out["stat"] == pytest.approx(chi2, rel=1e-12)
        assert out["p_val"] == pytest.approx(stats.chi2.sf(chi2, 1), rel=1e-9)
    assert out["exact"] == (n10 + n01 < 25)


def test_mcnemar_without_discordant_pairs_and_bad_input():
    assert mcnemar_test([1, 0, 1], [1, 0, 1])["p_val"] == 1.0
    with pytest.raises(ProbingError, match="only 0 and 1"):
        mcnemar_test([1, 2], [0, 1])
    with pytest.raises(ProbingError, match="one length"):
        mcnemar_test([1, 0], [0])


def _wilson(k, n, z):
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


@pytest.mark.parametrize("k1,n1,k2,n2", [(90, 100, 75, 100), (41, 50, 88, 96), (3, 20, 10, 25)])
def test_difference_interval_and_test_by_hand(k1, n1, k2, n2):
    out = compare_proportions(k1, n1, k2, n2)
    z = stats.norm.ppf(0.975)
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = _wilson(k1, n1, z), _wilson(k2, n2, z)
    # Newcombe (1998) method 10: the hybrid score interval
    assert out["estimate"] == pytest.approx(p1 - p2)
    assert out["ci_low"] == pytest.approx(p1 - p2 - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), rel=1e-9)
    assert out["ci_high"] == pytest.approx(p1 - p2 + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), rel=1e-9)
    pooled = (k1 + k2) / (n1 + n2)
    z_stat = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert out["stat"] == pytest.approx(z_stat, rel=1e-9)
    assert out["p_val"] == pytest.approx(2 * stats.norm.sf(abs(z_stat)), rel=1e-9)


def test_difference_at_the_bounds_and_bad_counts():
    out = compare_proportions(10, 10, 10, 10)
    assert out["estimate"] == 0 and out["p_val"] == 1.0 and out["ci_low"] < 0 < out["ci_high"]
    with pytest.raises(ProbingError, match="n2 must be >= 1"):
        compare_proportions(1, 2, 0, 0)
    with pytest.raises(ProbingError, match="0 <= k <= n"):
        compare_proportions(3, 2, 0, 1)
