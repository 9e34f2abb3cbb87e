"""The one run-folder writer: tables checked against the vocabulary, written atomically.

Every table a command writes must use vocabulary columns (``probing._core.vocabulary``)
with their dtypes and end with the identity columns ``model, paradigm``. The folder is
written under a temporary name and renamed into place, so an interrupted run leaves
nothing a later run trusts.

A study folder (a command declared with :class:`probing.commands.Parts`, such as
``probing lesion``) holds one complete run folder per part (``OUT/<paradigm>/``, each
written atomically by :func:`write_part`) and the study's own tables beside them
(:func:`write_run_folder` with ``beside_parts=True``: every file renamed into place
together, ``manifest.json`` last). A part is finished exactly when its ``manifest.json``
exists (:func:`finished_part`), so a rerun reuses what a killed run finished and redoes
the rest.
"""

from __future__ import annotations

import json
from pathlib import Path

from probing._core.errors import ProbingError
from probing._core.io import atomic_folder, atomic_paths, check_writable, write_frame
from probing._core.vocabulary import COLUMNS, IDENTITY, check_columns, rename_old_columns

__all__ = ["check_identity", "check_run_folder", "check_table", "finished_part", "read_part",
           "start_study", "write_part", "write_run_folder"]


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
    >>> check_table("lens", pd.DataFrame({"layer": [0], "estimate": [1.5], "model": ["m"],
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


def check_run_folder(out, *, force=False, resume=False):
    """Refuse to overwrite an existing non-empty folder unless ``force`` (or ``resume``:
    a study folder whose finished parts are reused)."""
    if out is None:
        raise ProbingError("a run folder is needed (--out)")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ProbingError(f"--out {out}: exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not (force or resume):
        raise ProbingError(f"--out {out}: folder exists and is not empty (use --force to replace it)")
    if not out.parent.exists():
        raise ProbingError(f"--out {out}: parent folder {out.parent} does not exist")
    check_writable(out.parent)


def _write_files(path_of, result, manifest):
    """Every table, figure and the manifest of ``result`` to ``path_of(file name)``."""
    for name, frame in result.all_tables.items():
        write_frame(frame, path_of(f"{name}.csv"), ".csv")
    for name, figure in result.figures.items():
        figure.savefig(path_of(f"{name}.png"), format="png", dpi=120, bbox_inches="tight")
    path_of("manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")


def _check_tables(result):
    for name, frame in result.tables.items():
        check_table(name, frame)
    for name, frame in result.paradigm_tables.items():
        check_identity(name, frame)


def write_run_folder(out, result, manifest, *, beside_parts=False):
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
    beside_parts : bool
        ``out`` is a study folder that keeps its parts' folders: the files are written
        under temporary names and renamed into place together, ``manifest.json`` last,
        instead of replacing the whole folder.
    """
    _check_tables(result)
    if not beside_parts:
        with atomic_folder(out) as tmp:
            _write_files(lambda name: tmp / name, result, manifest)
    else:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        names = ["manifest.json", *(f"{n}.csv" for n in result.all_tables),
                 *(f"{n}.png" for n in result.figures)]  # the manifest first: renamed last
        with atomic_paths([out / name for name in names]) as tmp:
            _write_files(lambda name: tmp[out / name], result, manifest)
    if result.figures:  # pyplot only when there are figures: --help must stay fast
        import matplotlib.pyplot as plt

        for figure in result.figures.values():
            plt.close(figure)


def start_study(out):
    """Mark the study folder ``out`` unfinished (its own ``manifest.json`` removed) before
    any part runs, so a killed rerun never leaves an old study manifest beside new parts."""
    (Path(out) / "manifest.json").unlink(missing_ok=True)


def finished_part(out, name):
    """The manifest of the finished part ``out/name``, or None when it is not finished."""
    manifest = Path(out) / name / "manifest.json"
    return json.loads(manifest.read_text()) if manifest.is_file() else None


def read_part(out, name, tables):
    """The tables ``tables`` (names) of the finished part ``out/name``, read back (a part
    an older release wrote has its old column names renamed: see ``rename_old_columns``)."""
    import pandas as pd

    paths = {table: Path(out) / name / f"{table}.csv" for table in tables}
    return {table: rename_old_columns(pd.read_csv(path), str(path))
            for table, path in paths.items()}


def write_part(out, name, result, manifest):
    """Write part ``name`` of the study ``out`` as a complete run folder, atomically."""
    Path(out).mkdir(parents=True, exist_ok=True)
    write_run_folder(Path(out) / name, result, manifest)
