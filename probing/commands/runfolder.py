"""The one run-folder writer: tables checked against the vocabulary, written atomically.

Every table a command writes must use vocabulary columns (``probing._core.vocabulary``)
with their dtypes and end with the identity columns ``model, paradigm``. The folder is
written under a temporary name and renamed into place, so an interrupted run leaves
nothing a later run trusts.
"""

from __future__ import annotations

import json
from pathlib import Path

from probing._core.errors import ProbingError
from probing._core.io import atomic_folder, check_writable, write_frame
from probing._core.vocabulary import COLUMNS, IDENTITY, check_columns

__all__ = ["check_identity", "check_run_folder", "check_table", "write_run_folder"]


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
    # a label may be written as digits (item_id 3): integers are labels, floats are not
    "str": lambda c: _types().is_object_dtype(c) or _types().is_string_dtype(c)
    or isinstance(c.dtype, _types().CategoricalDtype) or _types().is_integer_dtype(c),
}


def check_identity(name, frame):
    """Raise unless ``frame`` ends with the identity columns ``model, paradigm``."""
    if list(frame.columns[-len(IDENTITY):]) != list(IDENTITY):
        raise ProbingError(f"{name}.csv: must end with the identity columns "
                           f"{', '.join(IDENTITY)}; got {list(frame.columns)}")


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
    check_identity(name, frame)
    for column in frame.columns:
        dtype = COLUMNS[column]["dtype"]
        values = frame[column]
        if values.notna().any() and not _DTYPE_OK[dtype](values):
            raise ProbingError(f"{where}: column {column!r} has dtype {values.dtype}, the "
                               f"vocabulary says {dtype}")


def check_run_folder(out, *, force=False):
    """Refuse to overwrite an existing non-empty folder unless ``force``."""
    if out is None:
        raise ProbingError("a run folder is needed (--out)")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ProbingError(f"--out {out}: exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not force:
        raise ProbingError(f"--out {out}: folder exists and is not empty (use --force to replace it)")
    if not out.parent.exists():
        raise ProbingError(f"--out {out}: parent folder {out.parent} does not exist")
    check_writable(out.parent)


def write_run_folder(out, result, manifest):
    """Check every table of ``result``, then write the run folder ``out`` atomically.

    Parameters
    ----------
    out : path-like
    result : probing.commands.Result
        ``tables`` and ``paradigm_tables`` become ``<name>.csv`` (a paradigm table's
        columns are the paradigm's own: only its identity columns are checked),
        ``figures`` ``<name>.png`` (closed after saving).
    manifest : dict
        Written as ``manifest.json``.
    """
    for name, frame in result.tables.items():
        check_table(name, frame)
    for name, frame in result.paradigm_tables.items():
        check_identity(name, frame)
    with atomic_folder(out) as tmp:
        for name, frame in result.all_tables.items():
            write_frame(frame, tmp / f"{name}.csv", ".csv")
        for name, figure in result.figures.items():
            figure.savefig(tmp / f"{name}.png", dpi=120, bbox_inches="tight")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    if result.figures:  # pyplot only when there are figures: --help must stay fast
        import matplotlib.pyplot as plt

        for figure in result.figures.values():
            plt.close(figure)
