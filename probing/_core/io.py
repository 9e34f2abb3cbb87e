"""Atomic writes: a reader never sees a half-written file.

Each writer writes to a temporary sibling and renames it into place, so an interrupted
run leaves either the old file or nothing, never a truncated file a later run trusts.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    Parameters
    ----------
    path : str or path-like
        Final destination. Its parent folder must exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("hi")
    >>> (d / "x.txt").read_text()
    'hi'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path, text):
    """Write ``text`` to ``path`` atomically (UTF-8, ``\\n`` newlines)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)


def write_table(table, path):
    """Write a DataFrame as CSV, or parquet when ``path`` ends in ``.parquet``.

    CSV output is deterministic: fixed column order, no index, ``\\n`` line endings.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        write_frame(table, tmp, path.suffix)


def write_frame(table, path, suffix):
    """Write ``table`` to ``path`` in the format that ``suffix`` names (not atomic)."""
    if suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False, lineterminator="\n")


def read_table(path):
    """Read a table written by :func:`write_table`."""
    import pandas as pd

    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    # empty cells mean "not applicable" in our tables and must come back as "", not NaN
    return pd.read_csv(path, keep_default_na=False)


@contextlib.contextmanager
def atomic_paths(paths):
    """Yield ``{final_path: temp_path}``; rename all only if the block succeeds.

    Used where several files form one output (a stimuli table and its regions): on
    error none of them appears.
    """
    with contextlib.ExitStack() as stack:
        yield {Path(p): stack.enter_context(atomic_path(p)) for p in paths}


@contextlib.contextmanager
def atomic_folder(out):
    """Yield a temporary folder beside ``out``; on success it replaces ``out`` whole.

    A reader sees the old folder or the complete new one, never a half-written one; on
    error the temporary folder is removed and ``out`` is left as it was.
    """
    import shutil

    out = Path(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
