"""The one run-folder writer: tables checked against the vocabulary, written atomically.

Every table a command writes must use vocabulary columns (``probing._core.vocabulary``)
with their dtypes and end with the identity columns ``model, paradigm``. The folder is
written under a temporary name and renamed into place, so an interrupted run leaves
nothing a later run trusts.
"""

from __future__ import annotations

import json

from probing._core.errors import ProbingError
from probing._core.io import atomic_folder, write_frame
from probing._core.vocabulary import COLUMNS, IDENTITY, check_columns

__all__ = ["check_table", "write_run_folder"]


def _types():
    # pandas only when a table is checked: ``probing --help`` imports this layer
    from pandas.api import types

    return types


def _integral(values):
    types = _types()
    values = values.dropna()
    return types.is_numeric_dtype(values) and bool((values == values.round()).all())


def _bools(values):
    return bool(values.dropna().map(lambda v: isinstance(v, bool) or v in (0, 1)).all())


_DTYPE_OK = {
    "int": lambda c: _types().is_integer_dtype(c) or _integral(c),
    "float": lambda c: _types().is_numeric_dtype(c) and not _types().is_bool_dtype(c),
    "bool": lambda c: _types().is_bool_dtype(c) or _bools(c),
    "str": lambda c: _types().is_object_dtype(c) or _types().is_string_dtype(c)
    or isinstance(c.dtype, _types().CategoricalDtype),
}


def check_table(name, frame):
    """Raise unless ``frame`` may be written as table ``name`` (see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> check_table("lens", pd.DataFrame({"layer": [0], "value": [1.5], "model": ["m"],
    ...                                   "paradigm": ["p"]}))
    >>> check_table("lens", pd.DataFrame({"layer": ["zero"], "model": ["m"], "paradigm": ["p"]}))
    Traceback (most recent call last):
    ...
    probing._core.errors.ProbingError: lens.csv: column 'layer' has dtype ..., the vocabulary says int
    """
    where = f"{name}.csv"
    check_columns(list(frame.columns), where)
    if list(frame.columns[-len(IDENTITY):]) != list(IDENTITY):
        raise ProbingError(f"{where}: must end with the identity columns {', '.join(IDENTITY)}; "
                           f"got {list(frame.columns)}")
    for column in frame.columns:
        dtype = COLUMNS[column]["dtype"]
        values = frame[column]
        if values.notna().any() and not _DTYPE_OK[dtype](values):
            raise ProbingError(f"{where}: column {column!r} has dtype {values.dtype}, the "
                               f"vocabulary says {dtype}")


def write_run_folder(out, result, manifest):
    """Check every table of ``result``, then write the run folder ``out`` atomically.

    Parameters
    ----------
    out : path-like
    result : probing.commands.Result
        ``tables`` become ``<name>.csv``, ``figures`` ``<name>.png`` (closed after saving).
    manifest : dict
        Written as ``manifest.json``.
    """
    for name, frame in result.tables.items():
        check_table(name, frame)
    with atomic_folder(out) as tmp:
        for name, frame in result.tables.items():
            write_frame(frame, tmp / f"{name}.csv", ".csv")
        for name, figure in result.figures.items():
            figure.savefig(tmp / f"{name}.png", dpi=120, bbox_inches="tight")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    if result.figures:  # pyplot only when there are figures: --help must stay fast
        import matplotlib.pyplot as plt

        for figure in result.figures.values():
            plt.close(figure)
