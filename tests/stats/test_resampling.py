"""Tests for probing.stats.bootstrap_ci (reference: scipy.stats.bootstrap)."""

import dataclasses

import numpy as np
import pytest
from scipy import stats

from probing._core.errors import ProbingError
from probing.stats import BootstrapCI, bootstrap_ci

METHODS = [("percentile", "percentile"), ("basic", "basic"), ("bca", "BCa")]


@pytest.mark.parametrize("method, scipy_method", METHODS, ids=[m for m, _ in METHODS])
@pytest.mark.parametrize("statistic", ["mean", "median"], ids=["mean", "median"])
def test_matches_scipy_bootstrap_with_same_seed(rng, method, scipy_method, statistic):
    values = rng.gamma(2.0, size=60)
    ours = bootstrap_ci(values, statistic=statistic, n_boot=3000, ci=0.9, interval=method,
                        random_state=7)
    ref = stats.bootstrap((values,), getattr(np, statistic), n_resamples=3000,
                          confidence_level=0.9, method=scipy_method,
                          rng=np.random.default_rng(7))
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, rel=1e-12)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, rel=1e-12)
    assert ours.std_err == pytest.approx(ref.standard_error, rel=1e-12)
    assert ours.estimate == pytest.approx(getattr(np, statistic)(values))


def test_percentile_matches_plain_numpy_bootstrap(rng):
    # An independent implementation: resample indices, take quantiles of the means.
    values = rng.normal(size=100)
    ours = bootstrap_ci(values, n_boot=20_000, random_state=1)
    idx = np.random.default_rng(2).integers(0, values.size, size=(20_000, values.size))
    low, high = np.quantile(values[idx].mean(axis=1), [0.025, 0.975])
    assert ours.ci_low == pytest.approx(low, abs=0.01)
    assert ours.ci_high == pytest.approx(high, abs=0.01)


def test_callable_statistic(rng):
    values = rng.normal(size=40)
    trimmed = bootstrap_ci(values, statistic=lambda x, axis: stats.trim_mean(x, 0.1, axis=axis),
                           n_boot=500, random_state=0)
    assert trimmed.estimate == pytest.approx(stats.trim_mean(values, 0.1))
    assert trimmed.ci_low < trimmed.estimate < trimmed.ci_high


def test_same_seed_same_interval_and_generator_accepted(rng):
    values = rng.normal(size=30)
    a = bootstrap_ci(values, n_boot=500, random_state=3)
    b = bootstrap_ci(values, n_boot=500, random_state=np.random.default_rng(3))
    c = bootstrap_ci(values, n_boot=500, random_state=4)
    assert a == b
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)


def test_returns_frozen_dataclass(rng):
    res = bootstrap_ci(rng.normal(size=10), n_boot=100, random_state=0)
    assert isinstance(res, BootstrapCI)
    assert (res.ci, res.interval) == (0.95, "percentile")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 0.0


def test_input_not_mutated(rng):
    values = rng.normal(size=20)
    before = values.copy()
    bootstrap_ci(values, n_boot=100, random_state=0)
    np.testing.assert_array_equal(values, before)


@pytest.mark.parametrize("method", ["percentile", "basic", "bca"])
def test_constant_values_give_degenerate_interval(method, recwarn):
    res = bootstrap_ci(np.ones(8), interval=method, n_boot=100, random_state=0)
    assert (res.estimate, res.ci_low, res.ci_high, res.std_err) == (1.0, 1.0, 1.0, 0.0)
    assert not recwarn.list


def test_empty_and_single_value():
    empty = bootstrap_ci([])
    assert np.isnan([empty.estimate, empty.ci_low, empty.ci_high]).all()
    one = bootstrap_ci([0.5])
    assert one.estimate == 0.5
    assert np.isnan([one.ci_low, one.ci_high, one.std_err]).all()


BAD = [
    ({"values": [1.0, np.nan]}, "NaN"),
    ({"values": np.ones((2, 2))}, "1-D"),
    ({"interval": "studentized"}, "interval must be one of"),
    ({"statistic": "mode"}, "statistic must be one of"),
    ({"ci": 1.5}, "ci must lie in"),
    ({"n_boot": 0}, "n_boot must be a positive integer"),
]


@pytest.mark.parametrize("kwargs, message", BAD, ids=[m for _, m in BAD])
def test_bad_input(kwargs, message):
    kwargs = {"values": [1.0, 2.0, 3.0], **kwargs}
    values = kwargs.pop("values")
    with pytest.raises(ProbingError, match=message):
        bootstrap_ci(values, **kwargs)


@pytest.mark.slow
def test_percentile_interval_coverage():
    # Coverage of the true mean over many normal samples stays near the nominal 95%
    # (the percentile interval under-covers slightly at n = 50).
    covered = []
    for seed in range(400):
        res = bootstrap_ci(np.random.default_rng(seed).normal(size=50), n_boot=2000,
                           random_state=seed)
        covered.append(res.ci_low <= 0.0 <= res.ci_high)
    assert 0.90 <= np.mean(covered) <= 0.99


@pytest.mark.parametrize("bad", [np.inf, -np.inf], ids=["inf", "-inf"])
def test_inf_is_refused(bad):
    with pytest.raises(ProbingError, match="inf"):
        bootstrap_ci([1.0, 2.0, bad])
