"""Stimuli -> layerwise activations, through the content-keyed cache.

:func:`extract_activations` turns a stimuli table into pooling segments (whole text, a
named region, or one per word), hashes everything that changes the output into a cache
key, and either reads a complete cache entry or streams chunks into it (resuming the
chunks an interrupted run left) before reading it back memory-mapped.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

import probing
from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing._core.io import atomic_folder, make_folder
from probing._core.resources import check_disk, check_memory
from probing._core.words import words_table
from probing.stimuli import Stimuli, check_text_table
from probing.store import (
    STORE_DTYPES,
    Activations,
    ChunkWriter,
    cache_root,
    compute_cache_key,
    entry_lock,
    hash_json,
    load_activations,
)

__all__ = ["LEVELS", "build_segments", "estimate_extraction", "extract_activations"]

LEVELS = ("sentence", "word")


#: Identity columns of the stimuli table that an activation store's ``index.csv`` carries
#: (those the table has), so that an analysis groups or labels rows without re-joining it.
INDEX_IDENTITY = ("item_id", "condition", "phenomenon", "pair_id", "role", "suite")


def with_identity(index, table):
    """``index`` with the stimuli table's identity columns after its own columns.

    Examples
    --------
    >>> table = pd.DataFrame({"stimulus_id": ["a", "b"], "item_id": ["1", "1"],
    ...                       "condition": ["sg", "pl"], "text": ["x", "y"]})
    >>> with_identity(pd.DataFrame({"stimulus_id": ["b", "a", "b"]}), table).values.tolist()
    [['b', '1', 'pl'], ['a', '1', 'sg'], ['b', '1', 'pl']]
    """
    columns = [c for c in INDEX_IDENTITY if c in table and c not in index]
    if not columns:
        return index
    ids = table.drop_duplicates("stimulus_id")
    ids = ids.set_index(ids["stimulus_id"].astype(str))
    found = ids.loc[index["stimulus_id"].astype(str), columns].astype(str).reset_index(drop=True)
    out = index.reset_index(drop=True)
    for column in columns:
        out[column] = found[column].to_numpy()
    return out


def _tables(stimuli):
    if isinstance(stimuli, Stimuli):
        return stimuli.table, stimuli.regions, stimuli.words
    if isinstance(stimuli, pd.DataFrame):
        check_text_table(stimuli, "stimuli table")
        return stimuli, None, None
    raise ProbingError(f"stimuli must be a Stimuli or a DataFrame; got {type(stimuli).__name__}")


def _whitespace_words(table):
    return words_table(table["stimulus_id"], table["text"])


def build_segments(stimuli, *, pooling="last", level="sentence"):
    """Per stimulus, the char segments to pool over, and the index of the output rows.

    Parameters
    ----------
    stimuli : Stimuli or pandas.DataFrame
        A DataFrame needs ``stimulus_id, text``; ``region:<name>`` needs a Stimuli with
        regions; word level uses the ``words`` table, else whitespace words.
    pooling : str
    level : {"sentence", "word"}

    Returns
    -------
    segments : list of list
        Per stimulus, ``(char_start, char_end)`` pairs or None (whole text).
    index : pandas.DataFrame
        ``stimulus_id`` (+ ``word_index, word`` at word level), one row per segment.
    """
    from probing.models.pooling import check_pooling

    check_pooling(pooling)
    table, regions, words = _tables(stimuli)
    ids = table["stimulus_id"].astype(str).tolist()
    if level not in LEVELS:
        raise ProbingError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    if level == "word":
        if str(pooling).startswith("region:"):
            raise ProbingError("word-level extraction pools over words: pooling is first, last or mean")
        words = words if words is not None else _whitespace_words(table)
        words = words.assign(stimulus_id=words["stimulus_id"].astype(str))
        by_id = {sid: g.sort_values("word_index") for sid, g in words.groupby("stimulus_id", sort=False)}
        empty = pd.DataFrame(columns=words.columns)
        groups = [by_id.get(sid, empty) for sid in ids]
        segments = [[(int(a), int(b)) for a, b in zip(g["char_start"], g["char_end"], strict=True)]
                    for g in groups]
        index = pd.concat(groups, ignore_index=True)[["stimulus_id", "word_index", "word"]]
        return segments, index.astype({"word_index": int})
    index = pd.DataFrame({"stimulus_id": ids})
    if not str(pooling).startswith("region:"):
        return [[None] for _ in ids], index
    name = pooling[len("region:"):]
    if regions is None or name not in set(regions["region"]):
        known = [] if regions is None else sorted(set(regions["region"].astype(str)))
        raise ProbingError(f"pooling {pooling!r}: no region {name!r}; regions: {known}")
    spans = regions[regions["region"] == name].assign(stimulus_id=lambda r: r["stimulus_id"].astype(str))
    spans = spans.drop_duplicates("stimulus_id").set_index("stimulus_id")
    missing = [sid for sid in ids if sid not in spans.index]
    if missing:
        raise ProbingError(f"pooling {pooling!r}: stimuli {missing[:5]} have no region {name!r}")
    return [[(int(spans.at[s, "char_start"]), int(spans.at[s, "char_end"]))] for s in ids], index


@renamed(dtype="store_dtype")
def extract_activations(lm, stimuli, *, layers="all", site="resid_post", pooling="last",
                        level="sentence", store_dtype="float32", batch_size=32,
                        max_tokens_per_batch=None, padding_side="right", chunk_size=512,
                        cache=True, cache_dir=None, out=None):
    """Layerwise pooled activations of stimuli, cached on disk and memory-mapped.

    Parameters
    ----------
    lm : probing.models.LanguageModel
    stimuli : Stimuli or pandas.DataFrame
        ``stimulus_id, text`` (regions and words from a :class:`~probing.stimuli.Stimuli`).
        A dialogue paradigm's stimuli are rendered with the model's chat template first
        (:func:`probing.models.chat.render_for_model`) unless they already are.
    layers : "all", int, str ("0,6,-1") or list of int
        0 = embeddings, i = output of block i.
    site : {"resid_post", "mlp_out", "attn_out"}
    pooling : {"last", "first", "mean"} or "region:<name>"
    level : {"sentence", "word"}
        ``word``: one row per word, pooled over its tokens.
    store_dtype : {"float32", "float16", "float64"}
        Storage dtype.
    batch_size, max_tokens_per_batch, padding_side, chunk_size
        How the work is cut (not part of the cache key: results agree to rounding).
    cache : bool, default True
        Read/write ``<cache_dir>/activations/<key>/``; False recomputes.
    cache_dir : path-like, optional
        Defaults to the config's ``cache_dir``, else ``~/.cache/probing``.
    out : path-like, optional
        Also write the store folder here (``values.npy, index.csv, meta.json``).

    Returns
    -------
    Activations
        ``values`` of shape ``(n_rows, n_layers, n_units)``; ``index`` aligned rows:
        ``stimulus_id`` (and ``word_index, word`` at word level) with the stimuli's
        identity columns (``item_id, condition`` and those of :data:`INDEX_IDENTITY` the
        table has), written to ``index.csv``.
    """
    from probing.models.chat import render_for_model
    from probing.models.site_activations import (
        compute_activations,
        model_identity,
        n_layers,
        resolve_layers,
    )

    if isinstance(stimuli, Stimuli) and "rendering" not in stimuli.info:
        stimuli = render_for_model(stimuli, lm)  # dialogues: the model's chat template
    if store_dtype not in STORE_DTYPES:
        raise ProbingError(f"store_dtype must be one of {', '.join(STORE_DTYPES)}; got "
                           f"{store_dtype!r}")
    layers = resolve_layers(layers, n_layers(lm), site)
    segments, index = build_segments(stimuli, pooling=pooling, level=level)
    index = with_identity(index, _tables(stimuli)[0])
    if index.empty:  # checked before any folder is made: no half-written entry
        raise ProbingError(f"no {level}s to extract: the stimuli table has no rows"
                           + (" with words" if level == "word" else ""))
    texts = _tables(stimuli)[0]["text"].tolist()
    stim_hash = hash_json({"ids": index.to_dict("list"), "texts": texts, "segments": segments})
    key = compute_cache_key(model=model_identity(lm), stimuli=stim_hash, layers=layers, site=site,
                            pooling=pooling, level=level, dtype=store_dtype, version=probing.__version__)
    meta = {"layers": layers, "site": site, "pooling": pooling, "level": level, "dtype": store_dtype,
            "key": key, "provenance": {**lm.provenance, "probing_version": probing.__version__}}
    options = {"layers": layers, "site": site, "pooling": pooling, "store_dtype": store_dtype,
               "batch_size": batch_size, "max_tokens_per_batch": max_tokens_per_batch,
               "padding_side": padding_side, "chunk_size": chunk_size}
    if not cache and out is None:
        _check_memory(lm, texts, len(index), layers, store_dtype, options, streaming=False)
        values = compute_activations(lm, texts, segments, **options)
        return Activations(values, index, layers=tuple(layers), site=site, pooling=pooling,
                           level=level, provenance={"key": key, **meta["provenance"]})
    need = _check_memory(lm, texts, len(index), layers, store_dtype, options)
    folder = cache_root(cache_dir) / key if cache else Path(out)
    # under the entry's lock: a second process waits, then reuses the complete entry
    with entry_lock(folder):
        if not _is_complete(folder, key):
            check_disk(folder, need["disk"], what="extraction")
            _write_entry(lm, texts, segments, index, meta, folder, options)
    if out is not None and Path(out).resolve() != folder.resolve():
        check_disk(out, need["disk"] // 2, what="copying the activations")
        _copy_entry(folder, Path(out))
    return load_activations(out if out is not None else folder)


def estimate_extraction(lm, texts, n_rows, layers, dtype, options, *, streaming):
    """Bytes of memory and disk an extraction plans to use (an upper-bound estimate).

    Memory: one batch of hidden states (``batch_size x longest text x (n_blocks + 1) x
    hidden``, in the model's dtype; a text's length in characters bounds its tokens)
    plus one chunk of pooled values; without streaming to disk (``cache=False`` and
    no ``out``) all ``n_rows x n_layers x n_units`` values twice (the chunks and their
    concatenation). Disk: the chunks and ``values.npy`` side by side while finishing.

    Returns
    -------
    dict
        ``memory, disk`` in bytes.
    """
    from probing.models.site_activations import n_layers

    hidden = int(lm.model.config.hidden_size)
    longest = min(max(len(t) for t in texts) + 2,
                  int(getattr(lm.model.config, "max_position_embeddings", 0) or 10**6))
    per_model = lm.model.dtype.itemsize
    batch = min(options["batch_size"], len(texts)) * longest * (n_layers(lm) + 1) * hidden * per_model
    row = len(layers) * hidden * np.dtype(dtype).itemsize
    chunk = min(options["chunk_size"], n_rows) * row
    total = n_rows * row
    return {"memory": batch + chunk + (0 if streaming else 2 * total), "disk": 2 * total}


def _check_memory(lm, texts, n_rows, layers, dtype, options, *, streaming=True):
    need = estimate_extraction(lm, texts, n_rows, layers, dtype, options, streaming=streaming)
    advice = "" if streaming else "stream to disk (keep the cache on or pass --out), "
    check_memory(need["memory"], what=f"extracting {n_rows} rows x {len(layers)} layers",
                 advice=f"{advice}extract fewer layers (--layers 0,6,-1) or fewer stimuli, "
                        f"or lower --batch-size")
    return need


def _is_complete(folder, key):
    try:
        return load_activations(folder).provenance["key"] == key
    except (ProbingError, FileNotFoundError, KeyError):
        return False


def _write_entry(lm, texts, segments, index, meta, folder, options):
    from probing.models.site_activations import compute_activations

    make_folder(folder)
    (folder / "meta.json").unlink(missing_ok=True)  # never trust a folder being rewritten
    plan = {"key": meta["key"], **{k: v for k, v in options.items() if k not in meta}}
    writer = ChunkWriter(folder, plan)
    compute_activations(lm, texts, segments, sink=writer, **options)
    n_chunks = int(np.ceil(len(texts) / options["chunk_size"]))
    writer.finish(n_chunks, index, meta)


def _copy_entry(folder, out):
    """Copy a complete entry to ``out`` through a temporary sibling (all or nothing)."""
    if out.exists() and any(out.iterdir()) and not (out / "values.npy").exists():
        raise ProbingError(f"--out {out}: folder exists and is not an activations folder")
    make_folder(out.parent)
    with atomic_folder(out) as tmp:
        for name in ("values.npy", "index.csv", "meta.json"):
            shutil.copyfile(folder / name, tmp / name)
