"""Column checks and NaN-strict group sums shared by the behaviour builders."""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError


def require_columns(frame, columns, what):
    """Raise ``ProbingError`` naming the columns of ``columns`` that ``frame`` lacks."""
    if not isinstance(frame, pd.DataFrame):
        raise ProbingError(f"{what}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ProbingError(f"{what}: missing column(s) {missing}; required: {list(columns)}")


def strict_sum(frame, keys, columns):
    """Group sums in which any NaN makes the group's sum NaN (an empty group sums to 0)."""
    grouped = frame.groupby(keys, sort=True)
    sums = grouped[list(columns)].sum()
    has_nan = frame[list(columns)].isna().groupby([frame[k] for k in keys], sort=True).any()
    return sums.mask(has_nan)


def plain(values):
    """A tuple of builtin scalars, so error messages read ``('npi', 0)`` on any numpy."""
    return tuple(v.item() if isinstance(v, np.generic) else v for v in values)
