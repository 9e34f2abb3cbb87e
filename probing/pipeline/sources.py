"""Where a command's stimuli come from: a paradigm file or a stimuli table.

``probing extract`` and ``probing run`` accept either. A table (``.csv``, ``.tsv``,
``.parquet``) is read and checked row by row (:func:`probing.stimuli.load_stimuli`);
anything else is a paradigm file, validated and generated. Both happen before a model
loads, so a bad file costs a second, not a model load.
"""

from __future__ import annotations

from pathlib import Path

from probing._core.locations import resolve_file
from probing.commands import Paradigm
from probing.paradigms import generate, load_paradigm
from probing.pipeline.manifest import file_sha256
from probing.stimuli import TABLE_SUFFIXES, load_stimuli

__all__ = ["is_table", "load_paradigm_value", "load_source"]


def is_table(path):
    """Whether ``path`` names a stimuli table (by its suffix) rather than a paradigm file."""
    return Path(path).suffix.lower() in TABLE_SUFFIXES


def load_paradigm_value(path, *, seed=None):
    """The :class:`~probing.commands.Paradigm` of a paradigm file or a stimuli table.

    The one place a command's stimuli are read or generated; the value is passed down.

    Parameters
    ----------
    path : str or path-like
        A file, or a shipped paradigm by name (``"agreement_simple"``).
    seed : int, optional
        Overrides a paradigm file's seed (ignored for a table).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "my.tsv"
    >>> _ = path.write_text("stimulus_id\\ttext\\na\\tDogs bark.\\n")
    >>> paradigm = load_paradigm_value(path)
    >>> paradigm.name, paradigm.kind, paradigm.seed, len(paradigm.sha256)
    ('my', 'rsa', None, 64)
    """
    path = resolve_file(path)
    if is_table(path):
        return Paradigm(None, load_stimuli(path), path, file_sha256(path), None)
    spec = load_paradigm(path)
    seed = spec.seed if seed is None else seed
    return Paradigm(spec, generate(spec, seed=seed), path, file_sha256(path), seed)


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
    """
    paradigm = load_paradigm_value(path, seed=seed)
    return paradigm.stimuli, paradigm.seed
