"""Input checks shared by the causal analyses: finite arrays, groups, options."""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError


def as_array(values, name, func, *, ndim=None, allow_nan=False):
    """``values`` as a float array of ``ndim`` dimensions; NaN/inf raise unless allowed."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ProbingError(f"{func}: {name} must be numeric ({err})") from None
    if ndim is not None and array.ndim not in np.atleast_1d(ndim):
        allowed = " or ".join(str(d) for d in np.atleast_1d(ndim))
        raise ProbingError(f"{func}: {name} must have {allowed} dimensions, got shape "
                           f"{array.shape}")
    bad = np.isinf(array) if allow_nan else ~np.isfinite(array)
    if bad.any():
        what = "inf" if allow_nan else "NaN or inf"
        raise ProbingError(f"{func}: {name} contains {what} (at index "
                           f"{tuple(int(i) for i in np.argwhere(bad)[0])})")
    return array


def same_length(func, n, **arrays):
    """Raise unless every array's first axis has length ``n``."""
    for name, array in arrays.items():
        if array is not None and len(array) != n:
            raise ProbingError(f"{func}: {name} has {len(array)} rows, expected {n} "
                               f"(one per item)")


def group_codes(groups, n, func):
    """Integer codes ``0..n_groups-1`` of ``groups`` (default: each row its own group)."""
    if groups is None:
        return np.arange(n)
    groups = np.asarray(groups, dtype=object)
    if groups.shape != (n,):
        raise ProbingError(f"{func}: groups must have one label per item ({n}), got shape "
                           f"{groups.shape}")
    if pd.isna(groups).any():
        raise ProbingError(f"{func}: groups contains missing labels")
    return pd.factorize(groups, sort=True)[0]


def check_options(func, *, n_boot=None, ci=None):
    """Validate the bootstrap options every analysis takes."""
    if n_boot is not None and (isinstance(n_boot, bool) or int(n_boot) != n_boot
                               or n_boot < 1):
        raise ProbingError(f"{func}: n_boot must be a positive integer, got {n_boot!r}")
    if ci is not None and not 0 < ci < 1:
        raise ProbingError(f"{func}: ci must lie in (0, 1), got {ci!r}")


def check_choice(func, name, value, allowed):
    if value not in allowed:
        raise ProbingError(f"{func}: {name} must be one of {list(allowed)}, got {value!r}")
    return value


def check_labels(func, name, labels, n):
    """``labels`` (one per entry of an axis of length ``n``) or ``0..n-1`` when None."""
    if labels is None:
        return list(range(n))
    labels = list(labels)
    if len(labels) != n:
        raise ProbingError(f"{func}: {name} has {len(labels)} labels for an axis of length {n}")
    if len(set(labels)) != n:
        raise ProbingError(f"{func}: {name} has duplicate labels {labels}")
    return labels
