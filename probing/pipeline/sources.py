"""Where a command's stimuli come from: a paradigm file or a stimuli table.

``probing extract`` and ``probing run`` accept either. A table (``.csv``, ``.tsv``,
``.parquet``) is read and checked row by row (:func:`probing.stimuli.load_stimuli`);
anything else is a paradigm file, validated and generated. Both happen before a model
loads, so a bad file costs a second, not a model load.
"""

from __future__ import annotations

from pathlib import Path

from probing.paradigms import generate, load_paradigm
from probing.stimuli import TABLE_SUFFIXES, load_stimuli

__all__ = ["is_table", "load_source"]


def is_table(path):
    """Whether ``path`` names a stimuli table (by its suffix) rather than a paradigm file."""
    return Path(path).suffix.lower() in TABLE_SUFFIXES


def load_source(path, *, seed=None):
    """The stimuli of a paradigm file or a table, and the seed that made them.

    Parameters
    ----------
    path : str or path-like
    seed : int, optional
        Overrides a paradigm file's seed (ignored for a table).

    Returns
    -------
    stimuli : Stimuli
    seed : int or None
        The generation seed (None for a table).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "my.tsv"
    >>> _ = path.write_text("stimulus_id\\ttext\\na\\tDogs bark.\\n")
    >>> stimuli, seed = load_source(path)
    >>> stimuli.kind, len(stimuli.table), seed
    ('rsa', 1, None)
    """
    if is_table(path):
        return load_stimuli(path), None
    spec = load_paradigm(path)
    return generate(spec, seed=seed), spec.seed if seed is None else seed
