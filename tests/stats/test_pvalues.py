"""Tests for binomial_test (reference: scipy) and correct_pvalues (reference: statsmodels)."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from probing._core.errors import ProbingError
from probing.stats import binomial_test, correct_pvalues

GRID = [(0, 10), (3, 10), (5, 10), (9, 10), (10, 10), (62, 100), (1, 1)]
ALTERNATIVES = ["two-sided", "greater", "less"]


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=ALTERNATIVES)
@pytest.mark.parametrize("k, n", GRID, ids=[f"{k}of{n}" for k, n in GRID])
def test_binomial_matches_scipy(k, n, alternative):
    expected = stats.binomtest(k, n, p=0.5, alternative=alternative).pvalue
    assert binomial_test(k, n, alternative=alternative) == pytest.approx(expected, rel=1e-12)


def test_binomial_default_is_two_sided_and_other_null():
    assert binomial_test(8, 10) == pytest.approx(stats.binomtest(8, 10).pvalue)
    assert binomial_test(8, 10, p=0.25) == pytest.approx(stats.binomtest(8, 10, p=0.25).pvalue)


def test_binomial_accepts_numpy_and_integral_floats():
    assert binomial_test(np.int64(7), 10.0) == binomial_test(7, 10)


def test_binomial_no_trials_is_nan():
    assert np.isnan(binomial_test(0, 0))


@pytest.mark.parametrize("n", [10, 25, 50, 101], ids=lambda n: f"n{n}")
def test_binomial_size_never_exceeds_alpha(n):
    # Exact null calibration: P(p <= alpha) under H0, summed over every outcome.
    pmf = stats.binom.pmf(np.arange(n + 1), n, 0.5)
    p_vals = np.array([binomial_test(k, n) for k in range(n + 1)])
    assert p_vals.min() > 0
    for alpha in (0.01, 0.05, 0.1):
        assert pmf[p_vals <= alpha].sum() <= alpha + 1e-12


BAD_BINOMIAL = [
    ((11, 10), {}, "0 <= n_success <= n"),
    ((-1, 10), {}, "0 <= n_success <= n"),
    ((2.5, 10), {}, "n_success must be a whole number"),
    ((True, 10), {}, "n_success must be a whole number"),
    ((2, np.nan), {}, "n must be a whole number"),
    ((2, 10), {"alternative": "bigger"}, "alternative must be one of"),
    ((2, 10), {"p": 1.5}, "p must lie in"),
]


@pytest.mark.parametrize("args, kwargs, message", BAD_BINOMIAL,
                         ids=["k>n", "k<0", "fraction", "bool", "nan-n", "alternative", "p"])
def test_binomial_bad_input(args, kwargs, message):
    with pytest.raises(ProbingError, match=message):
        binomial_test(*args, **kwargs)


METHODS = ["holm", "bonferroni", "fdr_bh"]


@pytest.mark.parametrize("method", METHODS, ids=METHODS)
def test_correction_matches_multipletests(rng, method):
    p = rng.uniform(size=25) ** 3
    expected = multipletests(p, method=method)[1]
    np.testing.assert_allclose(correct_pvalues(p, correction=method), expected, rtol=1e-12)


@pytest.mark.parametrize("method", METHODS, ids=METHODS)
def test_correction_nans_stay_and_leave_the_family(rng, method):
    p = rng.uniform(size=12) ** 2
    p[[0, 5, 11]] = np.nan
    out = correct_pvalues(p, correction=method)
    keep = ~np.isnan(p)
    assert np.isnan(out[~keep]).all()
    np.testing.assert_allclose(out[keep], multipletests(p[keep], method=method)[1], rtol=1e-12)


def test_correction_bh_alias_and_bounds(rng):
    p = rng.uniform(size=10)
    np.testing.assert_array_equal(correct_pvalues(p, correction="bh"),
                                  correct_pvalues(p, correction="fdr_bh"))
    out = correct_pvalues(p)
    assert np.all(out >= p) and np.all(out <= 1)


def test_correction_edge_cases():
    assert correct_pvalues([]).shape == (0,)
    assert np.isnan(correct_pvalues([np.nan, np.nan])).all()
    assert correct_pvalues([0.2]).tolist() == [0.2]


def test_correction_input_not_mutated(rng):
    p = rng.uniform(size=5)
    before = p.copy()
    correct_pvalues(p)
    np.testing.assert_array_equal(p, before)


BAD_CORRECTION = [
    ([0.1, 0.2], {"correction": "sidak_ss"}, "correction must be one of"),
    ([0.1, 1.2], {}, r"must lie in \[0, 1\]"),
    ([[0.1, 0.2]], {}, "must be 1-D"),
]


@pytest.mark.parametrize("p, kwargs, message", BAD_CORRECTION, ids=["method", "range", "2d"])
def test_correction_bad_input(p, kwargs, message):
    with pytest.raises(ProbingError, match=message):
        correct_pvalues(p, **kwargs)


@pytest.mark.slow
def test_holm_controls_familywise_error_under_the_null():
    # 20 null tests per family, 2000 families: P(any p_corr < alpha) <= alpha (+ 3 SE).
    rng = np.random.default_rng(1)
    hits = [(correct_pvalues(rng.uniform(size=20)) < 0.05).any() for _ in range(2000)]
    assert np.mean(hits) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 2000)


@pytest.mark.parametrize("method", METHODS, ids=METHODS)
def test_correction_matches_multipletests_with_ties_and_extremes(method):
    p = np.array([0.01, 0.5, 0.01, 0.0, 1.0, 0.02, 0.5, 0.04])
    expected = multipletests(p, method=method)[1]
    np.testing.assert_allclose(correct_pvalues(p, correction=method), expected, rtol=1e-12)


def test_correction_label_is_the_stored_name():
    from probing.stats import correction_label

    assert [correction_label(c) for c in ("holm", "bonferroni", "fdr_bh", "bh", None, "none")] \
        == ["holm", "bonferroni", "fdr_bh", "fdr_bh", "none", "none"]
    with pytest.raises(ProbingError, match="correction must be one of"):
        correction_label("sidak")
