"""Bootstrap confidence intervals (a thin, typed wrapper of ``scipy.stats.bootstrap``)."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats

from probing._core.defaults import CI, N_BOOT, RANDOM_STATE
from probing._core.deprecation import renamed, renamed_fields
from probing._core.errors import ProbingError

__all__ = ["BootstrapCI", "bootstrap_ci"]

_STATISTICS = {"mean": np.mean, "median": np.median}
_METHODS = {"percentile": "percentile", "basic": "basic", "bca": "BCa"}
# Resamples per vectorised batch are capped so that a batch holds at most this many
# values; scipy's result does not depend on ``batch``, only its peak memory does.
_MAX_BATCH_VALUES = 2**22


@renamed_fields(method="interval")
@dataclasses.dataclass(frozen=True)
class BootstrapCI:
    """A point estimate with its bootstrap confidence interval.

    Attributes
    ----------
    estimate : float
        The statistic on the original sample.
    ci_low, ci_high : float
        Interval bounds (NaN when fewer than two values were given).
    std_err : float
        Standard deviation of the bootstrap distribution.
    ci : float
        Confidence level of the interval.
    interval : str
        ``percentile``, ``basic`` or ``bca``.
    """

    estimate: float
    ci_low: float
    ci_high: float
    std_err: float
    ci: float
    interval: str


def _check_values(values):
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise ProbingError(f"bootstrap_ci: values must be 1-D, got shape {values.shape}")
    if np.isnan(values).any():
        raise ProbingError("bootstrap_ci: values contain NaN; drop them first")
    if np.isinf(values).any():
        raise ProbingError("bootstrap_ci: values contain inf; a mean or interval of them "
                           "is not a number")
    return values


def _check_options(statistic, ci, interval, n_boot):
    if isinstance(statistic, str) and statistic not in _STATISTICS:
        raise ProbingError(f"bootstrap_ci: statistic must be one of {list(_STATISTICS)} "
                           f"or a callable, got {statistic!r}")
    if interval not in _METHODS:
        raise ProbingError(f"bootstrap_ci: interval must be one of {list(_METHODS)}, "
                           f"got {interval!r}")
    if not 0 < ci < 1:
        raise ProbingError(f"bootstrap_ci: ci must lie in (0, 1), got {ci!r}")
    if int(n_boot) < 1:
        raise ProbingError(f"bootstrap_ci: n_boot must be a positive integer, got {n_boot!r}")


@renamed(method="interval")
def bootstrap_ci(values, *, statistic="mean", n_boot=N_BOOT, ci=CI, random_state=RANDOM_STATE,
                 interval="percentile"):
    """Bootstrap confidence interval of a one-sample statistic.

    Resamples ``values`` with replacement via :func:`scipy.stats.bootstrap`
    (vectorised, in memory-bounded batches).

    Parameters
    ----------
    values : array_like of shape (n,)
        The sample; NaN and inf are errors.
    statistic : {"mean", "median"} or callable, default "mean"
        A callable must accept ``(sample, axis)`` and reduce along ``axis``.
    n_boot : int, default ``N_BOOT`` = 2,000
        Default from ``probing._core.defaults`` (stable 95% percentile end points).
        Number of bootstrap resamples.
    ci : float, default 0.95
        Confidence level.
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).
        Seed or generator for the resampling; the same seed gives the same interval.
    interval : {"percentile", "basic", "bca"}, default "percentile"
        Interval type; ``bca`` is the bias-corrected and accelerated interval.

    Returns
    -------
    BootstrapCI
        ``estimate, ci_low, ci_high, std_err, ci, interval``. With no values everything is
        NaN; with one value the interval and ``std_err`` are NaN; with constant values
        the interval is the constant itself (for every interval).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> res = bootstrap_ci(rng.normal(1.0, 1.0, size=200), n_boot=2000, random_state=0)
    >>> bool(res.ci_low < 1.0 < res.ci_high)
    True
    >>> bootstrap_ci([1.0, 1.0, 1.0]).ci_high
    1.0
    """
    values = _check_values(values)
    _check_options(statistic, ci, interval, n_boot)
    func = _STATISTICS[statistic] if isinstance(statistic, str) else statistic
    nan = float("nan")
    if values.size == 0:
        return BootstrapCI(nan, nan, nan, nan, ci, interval)
    estimate = float(func(values, axis=0))
    if values.size == 1:
        return BootstrapCI(estimate, nan, nan, nan, ci, interval)
    if np.all(values == values[0]):
        # scipy's BCa is undefined (0/0) on constant data; every resample equals the sample.
        return BootstrapCI(estimate, estimate, estimate, 0.0, ci, interval)
    res = stats.bootstrap(
        (values,), func, n_resamples=int(n_boot), confidence_level=ci,
        method=_METHODS[interval], vectorized=isinstance(statistic, str) or None,
        batch=max(1, _MAX_BATCH_VALUES // values.size),
        rng=np.random.default_rng(random_state),
    )
    low, high = res.confidence_interval
    return BootstrapCI(estimate, float(low), float(high), float(res.standard_error), ci, interval)
