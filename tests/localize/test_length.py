"""Length matching: equal token-count histograms per half, r = 0 after, bad input."""

import numpy as np
import pytest
from scipy import stats

from probing._core.errors import ProbingError
from probing.localize import compute_length_correlation, select_length_matched

CONTRAST = ("sentences", "nonwords")


def test_correlation_equals_scipy_point_biserial(rng):
    conditions = np.array(["sentences", "nonwords"] * 30)
    n_tokens = rng.integers(10, 30, 60) + 8 * (conditions == "nonwords")
    expected = stats.pointbiserialr(conditions == "sentences", n_tokens).statistic
    assert compute_length_correlation(n_tokens, conditions, CONTRAST) == pytest.approx(expected)
    assert np.isnan(compute_length_correlation(np.full(60, 5), conditions, CONTRAST))


def test_matched_histograms_are_equal_within_each_half(rng):
    conditions = np.array(["sentences", "nonwords"] * 100)
    n_tokens = rng.integers(10, 20, 200) + 5 * (conditions == "nonwords")
    halves = np.repeat(["run1", "run2"], 100)
    keep = select_length_matched(n_tokens, conditions, CONTRAST, groups=halves)
    assert 0 < keep.sum() < 200
    for half in ("run1", "run2"):
        kept = keep & (halves == half)
        a = np.sort(n_tokens[kept & (conditions == "sentences")])
        b = np.sort(n_tokens[kept & (conditions == "nonwords")])
        np.testing.assert_array_equal(a, b)
        # nothing droppable was kept: every dropped stimulus had no free partner
        for n in set(n_tokens[halves == half]):
            same = (halves == half) & (n_tokens == n)
            pairs = min((same & (conditions == c)).sum() for c in CONTRAST)
            assert (keep & same).sum() == 2 * pairs
    assert compute_length_correlation(n_tokens[keep], conditions[keep], CONTRAST) == \
        pytest.approx(0, abs=1e-12)


def test_bad_lengths():
    with pytest.raises(ProbingError, match="differ in length: 2, 3, 3"):
        select_length_matched([1, 2], ["sentences", "nonwords", "sentences"], CONTRAST)
