"""Activations on disk: the torch-free container and its content-keyed store.

:class:`Activations`
    ``(n_rows, n_layers, n_units)`` values, memory-mapped, with a tidy ``index`` table
    (``stimulus_id``, plus ``word_index, word`` for word-level extraction) and the
    layers, site, pooling, dtype and model provenance that produced them.
:func:`load_activations`
    Read a folder written by the store back (memory-mapped).
:func:`compute_cache_key`, :class:`ChunkWriter`, :func:`list_cache`, :func:`clear_cache`
    Content keys, chunked atomic writing with resume, and cache housekeeping.
"""

from probing.store.activations import INDEX_COLUMNS, STORE_DTYPES, Activations, load_activations
from probing.store.cache import (
    ChunkWriter,
    cache_root,
    clear_cache,
    compute_cache_key,
    entry_lock,
    hash_json,
    list_cache,
)

__all__ = [
    "INDEX_COLUMNS",
    "STORE_DTYPES",
    "Activations",
    "ChunkWriter",
    "cache_root",
    "clear_cache",
    "compute_cache_key",
    "entry_lock",
    "hash_json",
    "list_cache",
    "load_activations",
]
