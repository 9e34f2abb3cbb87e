"""Content-keyed cache of activations: key hashing, chunked atomic writes, resume.

An entry is a folder ``<cache_root>/<key>/``. While a run is in progress, each chunk of
stimuli is written atomically to ``chunks/<i>.npy`` as soon as its batches finish, so
peak memory does not grow with the number of stimuli and an interrupted run resumes at
the first missing chunk. :meth:`ChunkWriter.finish` streams the chunks into one
``values.npy`` (never holding more than a chunk in memory), writes ``index.csv`` and,
last, ``meta.json``; only then is the entry complete.

One process at a time writes an entry: :func:`entry_lock` holds an OS file lock
(``.<key>.lock`` beside the entry, released by the kernel even on ``kill -9``). A second
process asking for the same key waits, then finds the entry complete and reads it; it
never writes beside the first or duplicates its work.

The key hashes everything that changes the output (model id and weights hash or
revision, the stimuli and their spans, layers, site, pooling, level, dtype, package
version), so a changed input never meets a stale entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np

from probing._core.config import get_config
from probing._core.errors import ProbingError
from probing._core.io import atomic_path, make_folder, write_table, write_text_atomic

__all__ = ["ChunkWriter", "cache_root", "clear_cache", "compute_cache_key", "entry_lock",
           "hash_json", "list_cache"]

_PLAN = "plan.json"
log = logging.getLogger(__name__)


@contextlib.contextmanager
def entry_lock(folder):
    """Hold the write lock of the entry ``folder`` (waits for another holder).

    ``filelock`` rather than our own: it wraps ``fcntl.flock`` / ``msvcrt.locking``
    portably, and an OS lock dies with its process, so a killed writer never leaves a
    stale lock behind.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "k"
    >>> with entry_lock(folder):
    ...     pass
    """
    from filelock import FileLock, Timeout

    folder = Path(folder)
    make_folder(folder.parent)
    lock = FileLock(folder.parent / f".{folder.name}.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("%s: another process is writing this entry; waiting for it", folder)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def hash_json(record):
    """SHA-256 of a JSON-able record (keys sorted, so order does not matter).

    Examples
    --------
    >>> hash_json({"a": 1, "b": [2]}) == hash_json({"b": [2], "a": 1})
    True
    """
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compute_cache_key(*, model, stimuli, layers, site, pooling, level, dtype, version):
    """The cache key: a hash of everything that changes the stored bytes.

    Parameters
    ----------
    model : dict
        Model identity (id, weights hash or revision, dtype, start token...).
    stimuli : str
        Hash of the stimuli (ids, texts and the spans pooled over).
    layers : sequence of int
    site, pooling, level, dtype, version : str

    Returns
    -------
    str
        32 hex characters.
    """
    record = {"model": model, "stimuli": stimuli, "layers": [int(x) for x in layers],
              "site": site, "pooling": pooling, "level": level, "dtype": dtype,
              "version": version}
    return hash_json(record)[:32]


def cache_root(cache_dir=None):
    """The activations cache folder: ``cache_dir``, the config's, or ``~/.cache/probing``."""
    root = cache_dir or get_config()["cache_dir"] or Path.home() / ".cache" / "probing"
    return Path(root) / "activations"


def list_cache(cache_dir=None):
    """One record per cache entry.

    Returns
    -------
    list of dict
        Keys ``key, complete, model, site, pooling, level, layers, dtype, n_rows, bytes,
        path``; incomplete entries (interrupted runs) have ``complete=False``.
    """
    root = cache_root(cache_dir)
    if not root.exists():
        return []
    entries = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        meta_path = folder / "meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        entries.append({"key": folder.name, "complete": bool(meta.get("complete")),
                        "model": meta.get("provenance", {}).get("model"),
                        "site": meta.get("site"), "pooling": meta.get("pooling"),
                        "level": meta.get("level"), "layers": meta.get("layers"),
                        "dtype": meta.get("dtype"), "n_rows": meta.get("n_rows"),
                        "bytes": size, "path": str(folder)})
    return entries


def clear_cache(cache_dir=None, *, keys=None):
    """Remove cache entries (all, or those whose key starts with one of ``keys``).

    Returns
    -------
    list of str
        Keys removed.
    """
    removed = []
    for entry in list_cache(cache_dir):
        if keys is None or any(entry["key"].startswith(k) for k in keys):
            with entry_lock(entry["path"]):  # never pull an entry from under its writer
                shutil.rmtree(entry["path"], ignore_errors=True)
            removed.append(entry["key"])
    return removed


class ChunkWriter:
    """Writes one entry chunk by chunk; resumes chunks an interrupted run left.

    Parameters
    ----------
    folder : path-like
        The entry folder (created).
    plan : dict
        What fixes the chunk layout and its bytes (chunk size, batch size, padding...);
        chunks left by a run with another plan are discarded, never mixed.
    """

    def __init__(self, folder, plan):
        self.folder = Path(folder)
        self.chunks = self.folder / "chunks"
        make_folder(self.chunks)
        for stale in [*self.folder.glob(".*.tmp"), *self.chunks.glob(".*.tmp")]:
            stale.unlink()  # temporaries of a killed writer (the caller holds the lock)
        plan_path = self.chunks / _PLAN
        if plan_path.exists() and json.loads(plan_path.read_text()) != json.loads(json.dumps(plan)):
            shutil.rmtree(self.chunks)
            self.chunks.mkdir()
        if not plan_path.exists():
            write_text_atomic(plan_path, json.dumps(plan, sort_keys=True))

    def _path(self, i):
        return self.chunks / f"{i:06d}.npy"

    def has(self, i):
        """Whether chunk ``i`` is already on disk (written completely)."""
        return self._path(i).exists()

    def write(self, i, values):
        """Write chunk ``i`` (``(n_rows_i, n_layers, n_units)``) atomically."""
        with atomic_path(self._path(i)) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, np.ascontiguousarray(values))

    def finish(self, n_chunks, index, meta):
        """Stream the chunks into ``values.npy``, then write ``index.csv`` and ``meta.json``.

        Parameters
        ----------
        n_chunks : int
        index : pandas.DataFrame
            One row per row of the concatenated chunks.
        meta : dict
            ``layers, site, pooling, level, dtype, key, provenance``.
        """
        missing = [i for i in range(n_chunks) if not self.has(i)]
        if missing:
            raise ProbingError(f"{self.folder}: chunks {missing[:5]} missing; cannot finish")
        first = np.load(self._path(0), mmap_mode="r")
        shape = (len(index), *first.shape[1:])
        header = {"descr": np.lib.format.dtype_to_descr(first.dtype), "fortran_order": False,
                  "shape": shape}
        del first
        # plain appends, not a writable memmap: dirty mapped pages would count as resident
        # memory and grow with the number of stimuli
        with atomic_path(self.folder / "values.npy") as tmp:
            with open(tmp, "wb") as fh:
                np.lib.format.write_array_header_1_0(fh, header)
                row = 0
                for i in range(n_chunks):
                    chunk = np.load(self._path(i))
                    fh.write(np.ascontiguousarray(chunk).tobytes())
                    row += len(chunk)
            if row != shape[0]:
                raise ProbingError(f"{self.folder}: chunks hold {row} rows, index {shape[0]}")
        write_table(index, self.folder / "index.csv")
        meta = {**meta, "n_rows": int(shape[0]), "complete": True}
        write_text_atomic(self.folder / "meta.json", json.dumps(meta, indent=2, sort_keys=True,
                                                                 default=str) + "\n")
        shutil.rmtree(self.chunks)
