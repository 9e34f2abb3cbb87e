"""The :class:`Activations` container and :func:`load_activations`.

A store folder holds three files:

``values.npy``
    ``(n_rows, n_layers, n_units)`` in the stored dtype; read back memory-mapped.
``index.csv``
    One row per row of ``values``: ``stimulus_id`` (sentence-level) or
    ``stimulus_id, word_index, word`` (word-level), then the stimuli's identity columns
    (``item_id, condition``, ...; stores written before 0.2 lack them and still load).
``meta.json``
    ``layers, site, pooling, level, dtype, key, complete, provenance``; written last, so
    a folder without it (or with ``complete: false``) is never trusted.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing._core.io import read_table

__all__ = ["INDEX_COLUMNS", "STORE_DTYPES", "Activations", "load_activations"]

INDEX_COLUMNS = {"sentence": ("stimulus_id",), "word": ("stimulus_id", "word_index", "word")}
STORE_DTYPES = ("float16", "float32", "float64")


@dataclasses.dataclass(frozen=True, repr=False)
class Activations:
    """Pooled representations aligned with the stimuli table by ``stimulus_id``.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(n_rows, n_layers, n_units)``; read-only (usually a memory map).
    index : pandas.DataFrame
        ``n_rows`` rows; columns ``INDEX_COLUMNS[level]``.
    layers : tuple of int
        Layer of each slice of axis 1 (0 = embeddings, i = output of block i).
    site : str
        ``resid_post``, ``mlp_out`` or ``attn_out``.
    pooling : str
        ``first``, ``last``, ``mean`` or ``region:<name>``.
    level : {"sentence", "word"}
    provenance : dict
        Model provenance and the cache key.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> acts = Activations(np.zeros((2, 3, 4), np.float32), pd.DataFrame({"stimulus_id": ["a", "b"]}),
    ...                    layers=(0, 1, 2), site="resid_post", pooling="last")
    >>> acts.layer(2).shape
    (2, 4)
    """

    values: np.ndarray
    index: pd.DataFrame
    layers: tuple
    site: str
    pooling: str
    level: str = "sentence"
    provenance: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.level not in INDEX_COLUMNS:
            raise ProbingError(f"level must be one of {sorted(INDEX_COLUMNS)}; got {self.level!r}")
        if self.values.ndim != 3:
            raise ProbingError(f"values must be (n_rows, n_layers, n_units); got shape {self.values.shape}")
        if self.values.dtype.name not in STORE_DTYPES:
            raise ProbingError(f"dtype must be one of {list(STORE_DTYPES)}; got {self.values.dtype}")
        missing = [c for c in INDEX_COLUMNS[self.level] if c not in self.index]
        if missing:
            raise ProbingError(f"index: missing column(s) {missing}")
        if len(self.index) != self.values.shape[0]:
            raise ProbingError(f"index has {len(self.index)} rows, values {self.values.shape[0]}")
        if len(self.layers) != self.values.shape[1]:
            raise ProbingError(f"{len(self.layers)} layers for {self.values.shape[1]} slices")
        object.__setattr__(self, "layers", tuple(int(x) for x in self.layers))
        if isinstance(self.values, np.ndarray) and self.values.flags.writeable:
            view = self.values.view()
            view.flags.writeable = False
            object.__setattr__(self, "values", view)

    @property
    def dtype(self):
        return self.values.dtype.name

    @property
    def shape(self):
        return self.values.shape

    def layer(self, layer):
        """``(n_rows, n_units)`` values of one layer (by layer number, not position)."""
        if layer not in self.layers:
            raise ProbingError(f"layer {layer} not extracted; available: {list(self.layers)}")
        return self.values[:, self.layers.index(layer)]

    def __repr__(self):
        return (f"Activations(shape={self.shape}, layers={list(self.layers)}, site={self.site!r}, "
                f"pooling={self.pooling!r}, level={self.level!r}, dtype={self.dtype})")


def load_activations(folder):
    """Read a store folder written by extraction, memory-mapped.

    Parameters
    ----------
    folder : str or path-like
        Holds ``values.npy``, ``index.csv`` and ``meta.json``.

    Returns
    -------
    Activations

    Raises
    ------
    ProbingError
        If the folder is missing or incomplete (an interrupted run).
    """
    folder = Path(folder)
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        raise ProbingError(f"{folder}: not a complete activations folder (no meta.json)")
    try:
        meta = json.loads(meta_path.read_text())
        if not meta.get("complete"):
            raise ProbingError(f"{folder}: activations are incomplete (interrupted run)")
        values = np.load(folder / "values.npy", mmap_mode="r")
        index = read_table(folder / "index.csv")
    except ProbingError:
        raise
    except (OSError, ValueError, AttributeError) as err:  # damaged after it was written
        raise ProbingError(f"{folder}: damaged activations folder ({type(err).__name__}: "
                           f"{' '.join(str(err).split())[:120]}); clear it and extract again"
                           ) from None
    if values.shape[0] != meta.get("n_rows", values.shape[0]):
        raise ProbingError(f"{folder}: values.npy has {values.shape[0]} rows, meta.json says "
                           f"{meta['n_rows']}; clear it and extract again")
    for column in ("stimulus_id", "item_id", "condition"):  # ids are strings, as in the stimuli
        if column in index:
            index[column] = index[column].astype(str)
    return Activations(values, index, layers=tuple(meta["layers"]), site=meta["site"],
                       pooling=meta["pooling"], level=meta["level"],
                       provenance={"key": meta["key"], **meta["provenance"]})
