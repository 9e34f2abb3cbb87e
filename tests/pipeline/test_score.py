"""``score_sentences`` / ``score_pairs``: the one-call API gives what ``probing run`` gives."""

import warnings

import numpy as np
import pandas as pd
import pytest

from probing import score_pairs, score_sentences
from probing._core.errors import ProbingError
from probing.pipeline.paradigm_run import RunOptions, run_paradigm
from tests.models._helpers import reference_causal
from tests.pipeline.test_run import MINIMAL

TEXTS = ["The keys to the cabinet are here.", "A dog barks.", "Colorless green ideas sleep."]


@pytest.fixture
def gpt2(make_lm):
    return make_lm("gpt2")


def test_sentences_equal_a_plain_loop(gpt2):
    table = score_sentences(TEXTS, model=gpt2, batch_size=2)
    assert list(table.columns) == ["stimulus_id", "text", "logprob_sum", "logprob_mean",
                                   "n_tokens", "model"]
    assert table["text"].tolist() == TEXTS and table["model"].nunique() == 1
    expected = [reference_causal(gpt2.model, gpt2.tokenizer, gpt2.start_token_id, t).sum()
                for t in TEXTS]
    np.testing.assert_allclose(table["logprob_sum"], expected, rtol=0, atol=1e-8)


def test_word_level_uses_the_run_word_rule(gpt2):
    from probing.behaviour import build_word_surprisal
    from probing.models import score_tokens

    words = score_sentences(TEXTS[:1], model=gpt2, level="word")
    assert words["word"].tolist() == TEXTS[0].split()  # punctuation stays with its word
    table = pd.DataFrame({"stimulus_id": ["s0"], "text": TEXTS[:1]})
    expected = build_word_surprisal(score_tokens(gpt2, table), table)  # what probing run writes
    np.testing.assert_allclose(words["surprisal"], expected["surprisal"], rtol=0, atol=1e-10)
    assert words["eow_corrected"].all()


def test_pairs_equal_probing_run(gpt2, tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(MINIMAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a random model fails the sanity check by design
        run = run_paradigm(path, gpt2, tmp_path / "run", options=RunOptions(n_boot=10))["pairs"]
    ours = score_pairs(list(zip(run["good"], run["bad"], strict=True)), model=gpt2)
    np.testing.assert_allclose(ours["logprob_good"], run["logprob_good"], atol=1e-8)
    np.testing.assert_allclose(ours["logprob_bad"], run["logprob_bad"], atol=1e-8)
    assert ours["correct"].tolist() == run["correct"].tolist()
    table = pd.DataFrame({"good": run["good"], "bad": run["bad"], "phenomenon": "agr"})
    assert (score_pairs(table, model=gpt2)["phenomenon"] == "agr").all()
    # item_id and condition travel with each pair, in probing run's column order
    table = run[["phenomenon", "item_id", "condition", "good", "bad"]].sample(frac=1, random_state=0)
    kept = score_pairs(table, model=gpt2)
    assert list(kept.columns[:4]) == ["phenomenon", "pair_id", "item_id", "condition"]
    pd.testing.assert_frame_equal(
        kept[["item_id", "condition", "good", "correct"]].reset_index(drop=True),
        table.merge(run[["good", "correct"]], on="good")[["item_id", "condition", "good",
                                                          "correct"]].reset_index(drop=True))


@pytest.mark.parametrize(("call", "message"), [
    (lambda m: score_sentences("one string", model=m), "not one string"),
    (lambda m: score_sentences([], model=m), "no texts given"),
    (lambda m: score_sentences(["ok", ""], model=m), "bad at [1]"),
    (lambda m: score_sentences(["ok"], model=m, level="phrase"), "level must be one of"),
    (lambda m: score_pairs([("a", "b", "c")], model=m), "(good, bad) tuples"),
    (lambda m: score_pairs(pd.DataFrame({"x": [1]}), model=m), "columns good and bad"),
    (lambda m: score_pairs([("a", " ")], model=m), "non-empty string"),
    (lambda m: score_sentences(["ok"], model=m, device="cpu"), "only apply when model is a name"),
], ids=["string", "empty", "blank-text", "level", "triple", "no-columns", "blank-member",
        "load-options"])
def test_bad_input(call, message, gpt2):
    with pytest.raises(ProbingError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        call(gpt2)
