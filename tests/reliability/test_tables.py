"""A plain stimuli table (stimulus_id, text) works on its own; a bad one fails in one line
before any model loads, and leaves nothing behind."""

import numpy as np
import pandas as pd
import pytest

from probing.cli.main import main
from probing.stimuli import load_stimuli
from probing.store import list_cache, load_activations

GOOD = "stimulus_id,item_id,condition,text,animacy\n007,1,a,The dog barks.,yes\nb2,1,b,The rock falls.,no\n"


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_plain_csv_extracts_without_companion_files(model_dir, tmp_path):
    path = _write(tmp_path, "my.csv", GOOD)
    argv = ["extract", str(path), "--model", str(model_dir), "--out", str(tmp_path / "acts"),
            "--cache-dir", str(tmp_path / "cache"), "--layers", "0,-1"]
    assert main(argv) == 0
    acts = load_activations(tmp_path / "acts")
    assert acts.index["stimulus_id"].tolist() == ["007", "b2"]  # ids stay text
    assert acts.shape == (2, 2, 32) and np.isfinite(acts.values).all()


@pytest.mark.parametrize("suffix", [".tsv", ".parquet"], ids=["tsv", "parquet"])
def test_tsv_and_parquet_read_like_csv(tmp_path, suffix):
    frame = pd.read_csv(_write(tmp_path, "a.csv", GOOD), dtype=str)
    path = tmp_path / f"b{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, sep="\t", index=False)
    assert load_stimuli(path).table.equals(load_stimuli(tmp_path / "a.csv").table)


def test_defaults_for_optional_columns(tmp_path):
    stimuli = load_stimuli(_write(tmp_path, "m.csv", "text,stimulus_id\nHi there.,x\n"))
    assert stimuli.table.to_dict("records") == [
        {"stimulus_id": "x", "item_id": "x", "condition": "all", "text": "Hi there."}]
    assert stimuli.regions[["region", "char_start", "char_end"]].values.tolist() == [["sentence", 0, 9]]


@pytest.mark.filterwarnings("ignore:SANITY CHECK FAILED")  # a random model fails it
def test_plain_csv_runs(model_dir, tmp_path):
    path = _write(tmp_path, "my.csv", GOOD)
    out = tmp_path / "run"
    assert main(["run", str(path), "--model", str(model_dir), "--out", str(out)]) == 0
    scores = pd.read_csv(out / "scores.csv", dtype={"stimulus_id": str})
    assert scores["stimulus_id"].tolist() == ["007", "b2"]
    assert scores["logprob_sum"].lt(0).all() and scores["n_tokens"].gt(0).all()
    assert (out / "words.csv").exists() and (out / "manifest.json").exists()


BAD = [
    ("empty.csv", "", r"empty.csv: file is empty; expected a header row"),
    ("blank.csv", "\n\n", r"blank.csv: file is empty"),
    ("header.csv", "stimulus_id,text\n", r"header.csv: header only, no rows"),
    ("cols.csv", "id,sentence\n1,Hi.\n",
     r"cols.csv: missing column\(s\) stimulus_id, text \(header has id, sentence\); required "
     r"columns: stimulus_id, text; optional: item_id, condition"),
    ("dup.csv", "stimulus_id,text\na,Hi.\nb,Yo.\na,Ho.\n",
     r"dup.csv: row 3, column stimulus_id: 'a' repeats \(first in row 1\)"),
    ("text.csv", "stimulus_id,text\na,Hi.\nb,   \n", r"text.csv: row 2, column text: empty"),
    ("noid.csv", "stimulus_id,text\n,Hi.\n", r"noid.csv: row 1, column stimulus_id: empty"),
    ("short.csv", "stimulus_id,text\na\n", r"short.csv: row 1, column text: empty"),
    ("bytes.csv", b"stimulus_id,text\na,\xff\xfe\n", r"bytes.csv: cannot read the table \(Unicode"),
    ("x.parquet", "not parquet", r"x.parquet: cannot read the table"),
]


@pytest.mark.parametrize("command", ["extract", "run"])
@pytest.mark.parametrize(("name", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_table_one_line_before_the_model_nothing_written(
        tmp_path, monkeypatch, capsys, command, name, text, message):
    import re

    def no_model(*args, **kwargs):
        raise AssertionError("the model must not load for a bad table")

    monkeypatch.setattr("probing.models.load_model", no_model)
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = [command, str(path), "--model", "unused", "--out", str(tmp_path / "out")]
    if command == "extract":
        argv += ["--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(message, err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert list_cache(tmp_path / "cache") == []


def test_generated_file_with_broken_meta_is_one_line(tmp_path):
    path = _write(tmp_path, "s.csv", GOOD)
    _write(tmp_path, "s.meta.json", "{not json")
    from probing._core.errors import ProbingError

    with pytest.raises(ProbingError, match=r"s.csv: cannot read the stimuli written by "
                       r"'probing generate' \(JSONDecodeError.*remove s.meta.json"):
        load_stimuli(path)


def test_empty_dataframe_writes_no_cache_entry(make_lm, tmp_path):
    from probing._core.errors import ProbingError
    from probing.pipeline.extraction import extract_activations

    empty = pd.DataFrame({"stimulus_id": [], "text": []})
    with pytest.raises(ProbingError, match="no sentences to extract"):
        extract_activations(make_lm("gpt2"), empty, cache_dir=tmp_path)
    assert not (tmp_path / "activations").exists()
