"""``extract_activations`` and ``probing extract``/``probing cache``: the cache contract."""

import json

import numpy as np
import pandas as pd
import pytest

import probing
from probing._core.errors import ProbingError
from probing.cli.main import main
from probing.models import encode_texts
from probing.paradigms import generate, load_paradigm
from probing.pipeline.extraction import build_segments, extract_activations
from probing.store import ChunkWriter, cache_root, list_cache, load_activations
from tests.pipeline.test_run import MINIMAL

TABLE = pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(5)], "text": [
    "The cat sat on the mat.", "Dogs bark.", "Who should Derek hug after shocking Richard?",
    "The keys to the cabinet are on the table.", "Many people believe that the earth is round."]})


@pytest.fixture
def gpt2(make_lm):
    return make_lm("gpt2")


@pytest.fixture
def stimuli(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(MINIMAL)
    return generate(load_paradigm(path), seed=1)


def _bytes(acts):
    return np.asarray(acts.values).tobytes()


def test_cache_hit_equals_miss_and_skips_the_model(gpt2, tmp_path, monkeypatch):
    miss = extract_activations(gpt2, TABLE, cache_dir=tmp_path, layers="0,-1")
    calls = []
    monkeypatch.setattr("probing.models.site_activations.compute_activations",
                        lambda *a, **k: calls.append(1))
    hit = extract_activations(gpt2, TABLE, cache_dir=tmp_path, layers="0,-1")
    assert calls == [] and _bytes(hit) == _bytes(miss)
    assert hit.index.equals(miss.index) and hit.layers == (0, 2)
    assert hit.provenance["key"] == miss.provenance["key"]


@pytest.mark.parametrize("change", [
    {"table": TABLE.assign(text=TABLE["text"].str.replace("cat", "dog"))},
    {"layers": "1"}, {"pooling": "mean"}, {"site": "mlp_out", "layers": "1,2"},
    {"dtype": "float16"}, {"level": "word"},
], ids=["stimulus", "layers", "pooling", "site", "dtype", "level"])
def test_changed_input_misses_the_cache(gpt2, tmp_path, change):
    first = extract_activations(gpt2, TABLE, cache_dir=tmp_path, layers="0,2")
    options = {"layers": "0,2", **{k: v for k, v in change.items() if k != "table"}}
    second = extract_activations(gpt2, change.get("table", TABLE), cache_dir=tmp_path, **options)
    assert second.provenance["key"] != first.provenance["key"]
    assert len(list_cache(tmp_path)) == 2


def test_changed_weights_miss_the_cache(make_lm, tmp_path):
    lm = make_lm("gpt2")
    first = extract_activations(lm, TABLE, cache_dir=tmp_path)
    with probing.models.site_activations.torch.no_grad():
        lm.model.transformer.h[0].mlp.c_fc.weight.mul_(1.1)  # add_ would be a no-op after LayerNorm
    second = extract_activations(lm, TABLE, cache_dir=tmp_path)
    assert second.provenance["key"] != first.provenance["key"]
    assert _bytes(second) != _bytes(first)


def test_no_cache_matches_cache(gpt2, tmp_path):
    cached = extract_activations(gpt2, TABLE, cache_dir=tmp_path)
    fresh = extract_activations(gpt2, TABLE, cache=False)
    np.testing.assert_array_equal(fresh.values, cached.values)
    assert list_cache(tmp_path / "elsewhere") == []


def test_resume_after_interruption_gives_identical_bytes(gpt2, tmp_path, monkeypatch):
    whole = extract_activations(gpt2, TABLE, cache_dir=tmp_path / "a", chunk_size=2, batch_size=2)
    write = ChunkWriter.write
    written = []

    def interrupted(self, i, values):
        if i == 2:
            raise KeyboardInterrupt
        written.append(i)
        write(self, i, values)

    monkeypatch.setattr(ChunkWriter, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        extract_activations(gpt2, TABLE, cache_dir=tmp_path / "b", chunk_size=2, batch_size=2)
    assert written == [0, 1] and not list_cache(tmp_path / "b")[0]["complete"]
    resumed = []
    monkeypatch.setattr(ChunkWriter, "write", lambda self, i, v: (resumed.append(i), write(self, i, v)))
    again = extract_activations(gpt2, TABLE, cache_dir=tmp_path / "b", chunk_size=2, batch_size=2)
    assert resumed == [2]
    assert _bytes(again) == _bytes(whole)
    key = whole.provenance["key"]
    assert (cache_root(tmp_path / "b") / key / "values.npy").read_bytes() == \
        (cache_root(tmp_path / "a") / key / "values.npy").read_bytes()


def test_out_folder_and_load_activations(gpt2, tmp_path):
    acts = extract_activations(gpt2, TABLE, cache_dir=tmp_path / "cache", out=tmp_path / "out")
    back = probing.load_activations(tmp_path / "out")
    np.testing.assert_array_equal(back.values, acts.values)
    assert back.index["stimulus_id"].tolist() == TABLE["stimulus_id"].tolist()
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert meta["provenance"]["architecture"] == "GPT2LMHeadModel"
    assert meta["provenance"]["probing_version"] == probing.__version__


def test_word_level_rows_and_values(gpt2, tmp_path):
    acts = extract_activations(gpt2, TABLE.iloc[:2], cache=False, level="word", pooling="last",
                               store_dtype="float64")
    assert acts.index.to_dict("list") == {
        "stimulus_id": ["s0"] * 6 + ["s1"] * 2, "word_index": [0, 1, 2, 3, 4, 5, 0, 1],
        "word": ["The", "cat", "sat", "on", "the", "mat.", "Dogs", "bark."]}
    # the last word's last token is the sentence's last token
    sentence = extract_activations(gpt2, TABLE.iloc[:2], cache=False, pooling="last", store_dtype="float64")
    np.testing.assert_array_equal(acts.values[5], sentence.values[0])
    np.testing.assert_array_equal(acts.values[7], sentence.values[1])


def test_region_pooling_uses_region_spans(gpt2, stimuli):
    segments, index = build_segments(stimuli, pooling="region:verb")
    regions = stimuli.regions[stimuli.regions["region"] == "verb"]
    assert segments[0] == [(regions["char_start"].iloc[0], regions["char_end"].iloc[0])]
    acts = extract_activations(gpt2, stimuli, cache=False, pooling="region:verb", store_dtype="float64")
    assert acts.shape[0] == len(stimuli.table) and acts.pooling == "region:verb"
    text = stimuli.table["text"].iloc[0]
    enc = encode_texts(gpt2.tokenizer, [text])[0]
    assert any(segments[0][0][0] <= s < segments[0][0][1] for s, _ in enc.spans)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"pooling": "region:nope"}, "no region 'nope'; regions:"),
    ({"level": "token"}, "level must be one of sentence, word"),
    ({"level": "word", "pooling": "region:verb"}, "pooling is first, last or mean"),
    ({"store_dtype": "int8"}, "store_dtype must be one of float16, float32, float64"),
    ({"site": "resid_mid"}, "available sites: resid_post, mlp_out, attn_out"),
], ids=["region", "level", "word-region", "dtype", "site"])
def test_bad_input(gpt2, stimuli, kwargs, message):
    with pytest.raises(ProbingError, match=message):
        extract_activations(gpt2, stimuli, cache=False, **kwargs)


@pytest.fixture
def model_dir(make_model, tmp_path):
    import torch

    model, tokenizer = make_model("gpt2", dtype=torch.float32)
    model.save_pretrained(tmp_path / "tiny-gpt2")
    tokenizer.save_pretrained(tmp_path / "tiny-gpt2")
    return tmp_path / "tiny-gpt2"


def test_cli_extract_and_cache(model_dir, tmp_path, capsys):
    paradigm = tmp_path / "tiny.yaml"
    paradigm.write_text(MINIMAL)
    cache = tmp_path / "cache"
    argv = ["extract", str(paradigm), "--model", str(model_dir), "--layers", "0,-1",
            "--pooling", "region:verb", "--store-dtype", "float16", "--out", str(tmp_path / "acts"),
            "--cache-dir", str(cache)]
    assert main(argv) == 0
    acts = load_activations(tmp_path / "acts")
    assert acts.dtype == "float16" and acts.layers == (0, 2) and acts.shape[1:] == (2, 32)
    assert main(["cache", "list", "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert acts.provenance["key"] in out and "complete" in out and "region:verb" in out
    assert main(["cache", "clear", "--cache-dir", str(cache)]) == 0
    assert "removed 1 entry" in capsys.readouterr().out and list_cache(cache) == []
    assert main([*argv, "--no-cache"]) == 0 and list_cache(cache) == []
    assert main([*argv[:-2], "--site", "bogus"]) == 2  # the declaration lists the sites
    assert "site 'bogus': allowed resid_post, mlp_out, attn_out" in capsys.readouterr().err


def test_the_store_index_carries_the_identity_columns(gpt2, stimuli, tmp_path):
    # index.csv holds item_id and condition beside stimulus_id: no re-join with stimuli
    acts = extract_activations(gpt2, stimuli, cache=False, out=tmp_path / "out", level="word")
    back = probing.load_activations(tmp_path / "out")
    table = stimuli.table.set_index("stimulus_id")
    assert list(back.index.columns[:5]) == ["stimulus_id", "word_index", "word", "item_id",
                                            "condition"]
    for column in ("item_id", "condition"):
        assert column in back.index
        expected = table.loc[back.index["stimulus_id"], column].astype(str).tolist()
        assert back.index[column].tolist() == expected == acts.index[column].tolist()


def test_a_store_without_identity_columns_still_loads(gpt2, stimuli, tmp_path):
    extract_activations(gpt2, stimuli, cache=False, out=tmp_path / "out")
    index = pd.read_csv(tmp_path / "out" / "index.csv")
    index[["stimulus_id"]].to_csv(tmp_path / "out" / "index.csv", index=False)  # as before 0.2
    back = probing.load_activations(tmp_path / "out")
    assert list(back.index.columns) == ["stimulus_id"]
    assert list(index.columns[:3]) == ["stimulus_id", "item_id", "condition"]
