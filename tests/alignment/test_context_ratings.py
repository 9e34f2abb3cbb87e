"""Ratings collected after a context: the sentence scored given it, from a paradigm file.

Reference: the Python API on "context + ' ' + sentence" (``score_tokens``), summing the
log-probabilities of the tokens whose first visible character lies in the sentence.
"""

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.alignment import build_acceptability, compute_unigram_logprob, count_unigrams
from probing.cli.main import main
from probing.models import score_tokens
from probing.pipeline.paradigm_run import RunOptions, run_paradigm

WORDS = "the cat sat on the mat and the dog saw it there today".split()


def _data(tmp_path, rng, n=12, context=True):
    sentences = [" ".join(rng.choice(WORDS, size=rng.integers(3, 7))) + " ." for _ in range(n)]
    contexts = [" ".join(rng.choice(WORDS, size=5)) + ".\t" + " ".join(rng.choice(WORDS, size=4))
                + "." for _ in range(n)]
    frame = pd.DataFrame({"ID": range(100, 100 + n), "sentence": sentences,
                          "rating": rng.uniform(1, 4, n)})
    if context:
        frame["ctx"] = contexts
    path = tmp_path / "ratings.csv"
    frame.to_csv(path, index=False)
    return path, frame


def _paradigm(tmp_path, data, extra="", context=True):
    columns = "{text: sentence, rating: rating, item_id: ID" + (", context: ctx}" if context else "}")
    path = tmp_path / "p.yaml"
    path.write_text(f"name: rated\nversion: 1\nkind: ratings\nsource:\n  format: csv\n"
                    f"  path: {data.name}\n  columns: {columns}\n{extra}")
    return path


def _run(path, lm, out, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_paradigm(path, lm, out, options=RunOptions(n_boot=50, **options))


def _reference(lm, frame):
    """Sum of the sentence's token log-probabilities after its context, via the API."""
    contexts = [" ".join(c.split()) for c in frame["ctx"]]
    texts = [f"{c} {s}" for c, s in zip(contexts, frame["sentence"], strict=True)]
    ids = [f"rated-{i}" for i in frame["ID"]]
    tokens = score_tokens(lm, pd.DataFrame({"stimulus_id": ids, "text": texts}))
    starts = dict(zip(ids, [len(c) + 1 for c in contexts], strict=True))
    inside = tokens["char_start"] >= tokens["stimulus_id"].map(starts)
    sums = tokens.loc[inside].groupby("stimulus_id")["logprob"].agg(["sum", "size"])
    return sums.loc[ids]


@pytest.fixture
def gpt2(make_lm):
    return make_lm("gpt2", max_positions=512)


def test_context_scores_equal_the_api_reference(tmp_path, gpt2, rng):
    data, frame = _data(tmp_path, rng)
    tables = _run(_paradigm(tmp_path, data), gpt2, tmp_path / "run")
    detail = tables["acceptability"].set_index("stimulus_id")
    expected = _reference(gpt2, frame)
    np.testing.assert_allclose(detail.loc[expected.index, "logprob_sum"], expected["sum"],
                               rtol=0, atol=1e-9)
    np.testing.assert_array_equal(detail.loc[expected.index, "n_tokens"], expected["size"])
    # the unigram term and n_words are the sentence's, not the context's
    unigram = compute_unigram_logprob(frame["sentence"])
    np.testing.assert_allclose(detail.loc[expected.index, "unigram_logprob"],
                               unigram["unigram_logprob"])
    alone = score_tokens(gpt2, pd.DataFrame({"stimulus_id": expected.index,
                                             "text": frame["sentence"].to_numpy()}))
    alone = alone.groupby("stimulus_id")["logprob"].sum().loc[expected.index]
    assert np.abs(alone.to_numpy() - expected["sum"].to_numpy()).max() > 1e-3  # context matters
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert "given its context" in manifest["notes"]["alignment"]["scored"]


def test_without_context_the_sentence_sum_is_unchanged(tmp_path, gpt2, rng):
    data, frame = _data(tmp_path, rng, context=False)
    tables = _run(_paradigm(tmp_path, data, context=False), gpt2, tmp_path / "run")
    lp = tables["tokens"].groupby("stimulus_id")["logprob"].sum()
    detail = tables["acceptability"].set_index("stimulus_id")
    np.testing.assert_allclose(detail["logprob_sum"], lp.loc[detail.index], rtol=0, atol=1e-12)


def test_slor_length_in_tokens_and_a_corpus_from_the_paradigm_file(tmp_path, gpt2, rng):
    data, frame = _data(tmp_path, rng)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat . the dog saw it .\n" * 3)
    extra = "alignment:\n  slor_length: tokens\n  unigram: corpus.txt\n"
    tables = _run(_paradigm(tmp_path, data, extra), gpt2, tmp_path / "run")
    detail = tables["acceptability"].set_index("stimulus_id")
    counts = count_unigrams(corpus)
    unigram = compute_unigram_logprob(frame["sentence"], counts=counts)
    # by hand: 30 corpus words of 8 types; add-one smoothing over 8 + 1 (unseen) types
    counted = {"the": 9, "cat": 3, "sat": 3, "on": 3, "mat": 3, "dog": 3, "saw": 3, "it": 3}
    assert dict(counts) == counted
    words = frame["sentence"].iloc[0].replace(" .", "").split()
    by_hand = sum(np.log((counted.get(w, 0) + 1) / (30 + 8 + 1)) for w in words)
    assert unigram["unigram_logprob"].iloc[0] == pytest.approx(by_hand)
    expected = build_acceptability(detail.reset_index()[["stimulus_id", "logprob_sum",
                                                         "unigram_logprob", "n_tokens"]],
                                   length="n_tokens")
    slor = expected[expected["measure"] == "SLOR"].set_index("stimulus_id")["estimate"]
    np.testing.assert_allclose(detail.loc[slor.index, "SLOR"], slor)
    np.testing.assert_allclose(detail["SLOR"], (detail["logprob_sum"] - detail["unigram_logprob"])
                               / detail["n_tokens"])
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    source = manifest["notes"]["alignment"]["unigram_source"]
    assert source["corpus"] == str(corpus.resolve()) and source["smoothing"] == "add-one"


@pytest.fixture
def model_dir(make_model, tmp_path):
    import torch

    model, tokenizer = make_model("gpt2", dtype=torch.float64)
    model.save_pretrained(tmp_path / "tiny-gpt2")
    tokenizer.save_pretrained(tmp_path / "tiny-gpt2")
    return tmp_path / "tiny-gpt2"


def test_command_line_options_override_the_file(tmp_path, model_dir, rng, capsys, gpt2):
    data, frame = _data(tmp_path, rng)
    path = _paradigm(tmp_path, data, "alignment:\n  slor_length: words\n")
    out = tmp_path / "cli"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["run", str(path), "--model", str(model_dir), "--out", str(out),
                     "--model-dtype", "float64", "--slor-length", "tokens"])
    assert code == 0, capsys.readouterr().err
    detail = pd.read_csv(out / "acceptability.csv").set_index("stimulus_id")
    np.testing.assert_allclose(detail["SLOR"], (detail["logprob_sum"] - detail["unigram_logprob"])
                               / detail["n_tokens"])
    expected = _reference(gpt2, frame)
    np.testing.assert_allclose(detail.loc[expected.index, "logprob_sum"], expected["sum"],
                               atol=1e-9)


@pytest.mark.parametrize("extra, message", [
    ("alignment:\n  slor_length: chars\n",
     r"p.yaml:\d+: alignment.slor_length: 'chars' is not allowed; allowed: words, tokens"),
    ("alignment:\n  unigram: missing.txt\n",
     r"alignment.unigram: 'missing.txt' is not a file"),
    ("alignment:\n  spill: 2\n", r"alignment.spill: unknown field for kind 'ratings'"),
    ("alignment: words\n", r"alignment: must be a mapping of analysis options"),
], ids=["bad-length", "missing-corpus", "unknown-field", "not-a-mapping"])
def test_bad_alignment_fields_fail_before_the_model(tmp_path, rng, capsys, extra, message):
    data, _ = _data(tmp_path, rng)
    path = _paradigm(tmp_path, data, extra)
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--model", "nowhere"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert re.search(message, err), err


def test_bad_command_line_unigram(tmp_path, rng, capsys):
    data, _ = _data(tmp_path, rng)
    path = _paradigm(tmp_path, data)
    assert main(["run", str(path), "--unigram", "nope.txt", "--out", str(tmp_path / "r")]) == 2
    assert "--unigram: 'nope.txt' is not a file" in capsys.readouterr().err


def test_unigram_corpus_bad_input(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text(" .\n")
    with pytest.raises(ProbingError, match="empty.txt: unigram corpus has no words"):
        count_unigrams(empty)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ProbingError, match="bin.txt: unigram corpus cannot be read as UTF-8"):
        count_unigrams(binary)


@pytest.mark.integration
def test_context_scores_equal_the_api_on_the_default_model(tmp_path):
    """SmolLM2-135M-Instruct (GGUF Q4_1, de-quantised, here to float64): run == API."""
    from probing.models import load_model

    frame = pd.DataFrame({
        "ID": [1, 2, 3, 4, 5],
        "sentence": ["the cat sat on the mat .", "mat the on sat cat the", "it rained all day .",
                     "she go home yesterday .", "the dogs barks loud ."],
        "ctx": ["we bought a cat.\tit likes the mat.", "a poem:\tby a child.", "the sky was grey.",
                "her shift ended late.", "we heard the dogs."],
        "rating": [4.0, 1.5, 3.5, 2.0, 2.5]})
    data = tmp_path / "ratings.csv"
    frame.to_csv(data, index=False)
    lm = load_model("smollm2-135m", dtype="float64", device="cpu")
    tables = _run(_paradigm(tmp_path, data), lm, tmp_path / "run", batch_size=2)
    detail = tables["acceptability"].set_index("stimulus_id")
    expected = _reference(lm, frame)
    np.testing.assert_allclose(detail.loc[expected.index, "logprob_sum"], expected["sum"],
                               rtol=0, atol=1e-9)
    np.testing.assert_array_equal(detail.loc[expected.index, "n_tokens"], expected["size"])
