"""The torch-free store: container, chunked atomic writes, resume, keys, housekeeping."""

import json

import numpy as np
import pandas as pd
import pytest

from probing._core.config import config_context
from probing._core.errors import ProbingError
from probing.store import (
    Activations,
    ChunkWriter,
    cache_root,
    clear_cache,
    compute_cache_key,
    list_cache,
    load_activations,
)

META = {"layers": [0, 3], "site": "resid_post", "pooling": "last", "level": "sentence",
        "dtype": "float32", "key": "k1", "provenance": {"model": "tiny"}}


def _index(n):
    return pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(n)]})


def _write(folder, chunks, *, meta=META, plan=None):
    writer = ChunkWriter(folder, plan or {"chunk_size": 2})
    for i, chunk in enumerate(chunks):
        writer.write(i, chunk)
    writer.finish(len(chunks), _index(sum(len(c) for c in chunks)), meta)


def test_round_trip_is_memory_mapped_and_read_only(tmp_path, rng):
    chunks = [rng.normal(size=(2, 2, 5)).astype(np.float32), rng.normal(size=(1, 2, 5)).astype(np.float32)]
    _write(tmp_path / "e", chunks)
    acts = load_activations(tmp_path / "e")
    assert isinstance(acts.values, np.memmap) or isinstance(acts.values.base, np.memmap)
    np.testing.assert_array_equal(acts.values, np.concatenate(chunks))
    assert acts.layers == (0, 3) and acts.site == "resid_post" and acts.provenance["key"] == "k1"
    assert acts.index["stimulus_id"].tolist() == ["s0", "s1", "s2"]
    np.testing.assert_array_equal(acts.layer(3), np.concatenate(chunks)[:, 1])
    assert not (tmp_path / "e" / "chunks").exists()
    with pytest.raises(ValueError):
        acts.values[0, 0, 0] = 1.0


def test_float16_round_trip_within_its_precision(tmp_path, rng):
    exact = rng.normal(scale=3.0, size=(3, 2, 8))
    _write(tmp_path / "e", [exact.astype(np.float16)], meta={**META, "dtype": "float16"})
    acts = load_activations(tmp_path / "e")
    assert acts.dtype == "float16"
    # float16 has a 10-bit mantissa: relative rounding error at most 2**-11
    np.testing.assert_allclose(acts.values.astype(np.float64), exact, rtol=2.0**-11, atol=0)


def test_resume_skips_written_chunks_and_plan_change_discards_them(tmp_path):
    writer = ChunkWriter(tmp_path / "e", {"chunk_size": 2})
    writer.write(0, np.ones((2, 1, 1), np.float32))
    again = ChunkWriter(tmp_path / "e", {"chunk_size": 2})
    assert again.has(0) and not again.has(1)
    other = ChunkWriter(tmp_path / "e", {"chunk_size": 3})
    assert not other.has(0)


def test_incomplete_folder_is_never_trusted(tmp_path):
    writer = ChunkWriter(tmp_path / "e", {"chunk_size": 2})
    writer.write(0, np.ones((2, 1, 1), np.float32))
    with pytest.raises(ProbingError, match="not a complete activations folder"):
        load_activations(tmp_path / "e")
    with pytest.raises(ProbingError, match=r"chunks \[1\] missing"):
        writer.finish(2, _index(3), META)
    (tmp_path / "e" / "meta.json").write_text(json.dumps({**META, "complete": False}))
    with pytest.raises(ProbingError, match="incomplete"):
        load_activations(tmp_path / "e")


def test_no_temporary_files_left(tmp_path):
    _write(tmp_path / "e", [np.zeros((2, 2, 2), np.float32)])
    assert sorted(p.name for p in (tmp_path / "e").iterdir()) == ["index.csv", "meta.json", "values.npy"]


@pytest.mark.parametrize("change", [
    {"stimuli": "other"}, {"layers": [0, 2]}, {"site": "mlp_out"}, {"pooling": "mean"},
    {"level": "word"}, {"dtype": "float16"}, {"version": "0.2.0"}, {"model": {"sha256": "b"}},
], ids=["stimuli", "layers", "site", "pooling", "level", "dtype", "version", "model"])
def test_key_changes_with_every_input(change):
    base = {"model": {"sha256": "a"}, "stimuli": "h", "layers": [0, 1], "site": "resid_post",
            "pooling": "last", "level": "sentence", "dtype": "float32", "version": "0.1.0"}
    assert compute_cache_key(**base) == compute_cache_key(**dict(base))
    assert compute_cache_key(**base) != compute_cache_key(**{**base, **change})


def test_list_and_clear(tmp_path):
    with config_context(cache_dir=tmp_path):
        root = cache_root()
        _write(root / "abc123", [np.zeros((2, 2, 2), np.float32)])
        ChunkWriter(root / "def456", {"chunk_size": 2})
        entries = list_cache()
        assert [(e["key"], e["complete"]) for e in entries] == [("abc123", True), ("def456", False)]
        assert entries[0]["n_rows"] == 2 and entries[0]["model"] == "tiny"
        assert clear_cache(keys=["def"]) == ["def456"]
        assert clear_cache() == ["abc123"] and list_cache() == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"values": np.zeros((2, 3))}, "n_rows, n_layers, n_units"),
    ({"values": np.zeros((2, 2, 3), np.int64)}, "dtype must be one of"),
    ({"index": pd.DataFrame({"x": [1, 2]})}, "missing column"),
    ({"index": _index(3)}, "index has 3 rows, values 2"),
    ({"layers": (0,)}, "1 layers for 2 slices"),
    ({"level": "token"}, "level must be one of"),
], ids=["ndim", "dtype", "columns", "rows", "layers", "level"])
def test_activations_bad_input(kwargs, message):
    args = {"values": np.zeros((2, 2, 3), np.float32), "index": _index(2), "layers": (0, 1),
            "site": "resid_post", "pooling": "last", **kwargs}
    with pytest.raises(ProbingError, match=message):
        Activations(**args)


def test_activations_layer_error():
    acts = Activations(np.zeros((2, 2, 3), np.float32), _index(2), layers=(0, 4), site="resid_post",
                       pooling="last")
    with pytest.raises(ProbingError, match=r"layer 2 not extracted; available: \[0, 4\]"):
        acts.layer(2)
