"""proportion_ci: statsmodels' Wilson and Clopper-Pearson intervals, edge cases, bad input."""

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from probing._core.errors import ProbingError
from probing.stats import proportion_ci


@pytest.mark.parametrize("method, name", [("wilson", "wilson"), ("clopper_pearson", "beta")],
                         ids=["wilson", "clopper_pearson"])
@pytest.mark.parametrize("k, n", [(0, 5), (3, 5), (5, 5), (17, 40)], ids=str)
def test_matches_statsmodels(method, name, k, n):
    assert proportion_ci(k, n, ci=0.9, interval=method) == pytest.approx(
        proportion_confint(k, n, alpha=0.1, method=name), rel=1e-12)


def test_no_trials_is_nan_and_all_successes_is_not_a_point():
    assert np.isnan(proportion_ci(0, 0)).all()
    low, high = proportion_ci(8, 8)
    assert low < 1.0 == high


@pytest.mark.parametrize("args, kwargs, message", [
    ((3, 2), {}, "0 <= successes <= n"),
    ((1, 2), {"interval": "bootstrap"}, "interval must be one of"),
    ((1, 2), {"ci": 1.0}, "ci must lie in"),
    ((np.nan, 2), {}, "successes must be a finite number"),
], ids=["range", "method", "ci", "nan"])
def test_bad_input(args, kwargs, message):
    with pytest.raises(ProbingError, match=message):
        proportion_ci(*args, **kwargs)
