"""Model RDMs: from stimulus factors, from a paradigm's ``model_rdms``, or from data.

A model RDM states which stimuli a theory predicts to be represented alike:

categorical factor
    0 for two stimuli with the same level, 1 for different levels.
continuous factor
    ``|a - b|``, the absolute difference of the two values.
another layer or model
    Any :class:`RDMs` (for example ``compute_rdm(other_layer).subset(0)``).
a user array
    Through :func:`~probing.rsa.check_rdm` (condensed, or square, symmetric with a zero
    diagonal).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing.rsa.rdm import RDMs, pair_indices

__all__ = ["KINDS", "build_model_rdm", "build_model_rdms"]

KINDS = ("categorical", "continuous")


def _labels(table, id_column):
    if id_column is None:
        return tuple(table.index)
    if id_column not in table:
        raise ProbingError(f"build_model_rdm: id_column {id_column!r} is not a column; "
                           f"columns: {list(table.columns)}")
    return tuple(table[id_column].tolist())


@renamed(kind="feature_type")
def build_model_rdm(table, *, factor, feature_type="categorical", id_column="stimulus_id"):
    """Model RDM of one factor over the rows (stimuli) of a table.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per stimulus (RDM row), for example a stimuli table.
    factor : str
        The column holding the factor.
    feature_type : {"categorical", "continuous"}, default "categorical"
        ``categorical``: 0 same level, 1 different; ``continuous``: ``|a - b|``.
    id_column : str or None, default "stimulus_id"
        Column with the stimulus ids (None: the table's index).

    Returns
    -------
    RDMs
        One RDM, ``metric`` equal to ``feature_type``, descriptor ``model_rdm = factor``.

    Examples
    --------
    >>> table = pd.DataFrame({"stimulus_id": ["a", "b", "c"], "number": ["sg", "sg", "pl"],
    ...                       "length": [3, 5, 4]})
    >>> build_model_rdm(table, factor="number").values
    array([[0., 1., 1.]])
    >>> build_model_rdm(table, factor="length", feature_type="continuous").values
    array([[2., 1., 1.]])
    """
    if feature_type not in KINDS:
        raise ProbingError(f"build_model_rdm: feature_type must be one of {list(KINDS)}, got "
                           f"{feature_type!r}")
    if not isinstance(table, pd.DataFrame):
        raise ProbingError(f"build_model_rdm: table must be a pandas DataFrame, got "
                           f"{type(table).__name__}")
    if factor not in table:
        raise ProbingError(f"build_model_rdm: factor {factor!r} is not a column; columns: "
                           f"{list(table.columns)}")
    column = table[factor]
    if column.isna().any():
        raise ProbingError(f"build_model_rdm: factor {factor!r} has missing values")
    rows, cols = pair_indices(len(table))
    if feature_type == "categorical":
        codes = pd.factorize(column)[0]
        values = (codes[rows] != codes[cols]).astype(float)
    else:
        if not pd.api.types.is_numeric_dtype(column):
            raise ProbingError(f"build_model_rdm: a continuous factor must be numeric; "
                               f"{factor!r} has dtype {column.dtype}")
        numbers = column.to_numpy(dtype=float)
        values = np.abs(numbers[rows] - numbers[cols])
    return RDMs(values, stimulus_ids=_labels(table, id_column), distance=feature_type,
                descriptors={"model_rdm": [factor]})


def _factor_of(name, spec):
    factor = spec.get("factor") if isinstance(spec, Mapping) else spec
    if not isinstance(factor, str):
        raise ProbingError(f"build_model_rdms: model_rdms.{name} must name a factor "
                           f"(a column), as 'F' or {{factor: F}}; got {spec!r}")
    return factor


@renamed(kinds="feature_types")
def build_model_rdms(stimuli, *, model_rdms=None, feature_types=None, id_column="stimulus_id"):
    """The model RDMs a paradigm declares, over its stimuli.

    Parameters
    ----------
    stimuli : probing.stimuli.Stimuli or pandas.DataFrame
        Generated stimuli (their ``info["model_rdms"]`` is used when ``model_rdms`` is
        None) or a stimuli table.
    model_rdms : mapping or sequence of pairs, optional
        ``{name: factor}``, ``{name: {"factor": F}}`` (the paradigm-file form) or
        ``((name, factor), ...)`` (a loaded paradigm's ``spec.model_rdms``).
    feature_types : mapping, optional
        ``{name: "continuous"}`` for the continuous ones; default categorical.
    id_column : str or None, default "stimulus_id"

    Returns
    -------
    dict
        ``{name: RDMs}``, in declaration order, each with descriptor ``model_rdm = name``.

    Examples
    --------
    >>> table = pd.DataFrame({"stimulus_id": list("abcd"), "number": ["sg", "pl"] * 2,
    ...                       "animacy": ["an", "an", "in", "in"]})
    >>> rdms = build_model_rdms(table, model_rdms={"number": {"factor": "number"}})
    >>> list(rdms), rdms["number"].values.tolist()
    (['number'], [[1.0, 0.0, 1.0, 1.0, 0.0, 1.0]])
    """
    table = stimuli if isinstance(stimuli, pd.DataFrame) else getattr(stimuli, "table", None)
    if table is None:
        raise ProbingError(f"build_model_rdms: stimuli must be a Stimuli or a DataFrame, got "
                           f"{type(stimuli).__name__}")
    if model_rdms is None and not isinstance(stimuli, pd.DataFrame):
        model_rdms = stimuli.info.get("model_rdms")
    if not model_rdms:
        raise ProbingError("build_model_rdms: no model_rdms given and the stimuli declare none")
    pairs = model_rdms.items() if isinstance(model_rdms, Mapping) else model_rdms
    feature_types = dict(feature_types or {})
    out = {}
    for name, spec in pairs:
        rdm = build_model_rdm(table, factor=_factor_of(name, spec),
                              feature_type=feature_types.get(name, "categorical"), id_column=id_column)
        out[name] = RDMs(rdm.values, stimulus_ids=rdm.stimulus_ids, distance=rdm.distance,
                         descriptors={"model_rdm": [name]})
    return out
