"""Batched scores against a plain PyTorch loop (one sentence, no padding), and invariances."""

import numpy as np
import pandas as pd
import pytest
import torch

from probing.models import TOKEN_COLUMNS, score_tokens
from probing.models.batching import pad_sequences
from probing.models.causal_lm import forward_logits

from ._helpers import CAUSAL, SENTENCES, reference_causal, reference_pll


def _table(texts=SENTENCES):
    return pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(len(texts))], "text": texts})


def _reference(lm, texts, pll="original"):
    if lm.kind == "masked":
        return [reference_pll(lm.model, lm.tokenizer, t, pll) for t in texts]
    return [reference_causal(lm.model, lm.tokenizer, lm.start_token_id, t) for t in texts]


def _per_stimulus(tokens):
    return {
        sid: group["logprob"].to_numpy() for sid, group in tokens.groupby("stimulus_id", sort=False)
    }


def _assert_matches(tokens, reference, atol):
    got = _per_stimulus(tokens)
    assert list(got) == [f"s{i}" for i in range(len(reference))]
    for i, expected in enumerate(reference):
        np.testing.assert_allclose(got[f"s{i}"], expected, rtol=0, atol=atol)


@pytest.mark.parametrize("batch_size", [1, 3, 8])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("arch", CAUSAL)
def test_causal_equals_reference_float64(make_lm, arch, padding_side, batch_size):
    lm = make_lm(arch)
    tokens = score_tokens(lm, _table(), batch_size=batch_size, padding_side=padding_side)
    _assert_matches(tokens, _reference(lm, SENTENCES), atol=1e-8)


@pytest.mark.parametrize("batch_size", [1, 3, 8])
@pytest.mark.parametrize("pll", ["original", "word_l2r"])
def test_pll_equals_reference_float64(make_lm, pll, batch_size):
    lm = make_lm("bert")
    tokens = score_tokens(lm, _table(), batch_size=batch_size, pll=pll)
    _assert_matches(tokens, _reference(lm, SENTENCES, pll), atol=1e-8)


def test_pll_variants_differ_only_on_multi_token_words(make_lm):
    lm = make_lm("bert")
    original = score_tokens(lm, _table(), pll="original")
    l2r = score_tokens(lm, _table(), pll="word_l2r")
    differs = ~np.isclose(original["logprob"], l2r["logprob"], rtol=0, atol=1e-12)
    next_in_word = original["token"].shift(-1).fillna("").str.startswith("##")
    assert differs.any()
    assert not (differs & ~next_in_word).any()


@pytest.mark.parametrize("arch", ["gpt2", "llama", "bert"])
def test_float32_within_tolerance(make_lm, arch):
    reference = _reference(make_lm(arch, dtype=torch.float64), SENTENCES)
    tokens = score_tokens(make_lm(arch, dtype=torch.float32), _table(), batch_size=4)
    _assert_matches(tokens, reference, atol=5e-4)


@pytest.mark.parametrize("arch", ["gpt2", "llama", "bert"])
def test_shuffled_table_gives_same_values_in_its_order(make_lm, arch, rng):
    lm = make_lm(arch)
    table = _table()
    shuffled = table.iloc[rng.permutation(len(table))].reset_index(drop=True)
    first, second = score_tokens(lm, table, batch_size=3), score_tokens(lm, shuffled, batch_size=3)
    assert second["stimulus_id"].unique().tolist() == shuffled["stimulus_id"].tolist()
    merged = first.merge(second, on=["stimulus_id", "token_index"], suffixes=("", "_shuffled"))
    assert len(merged) == len(first) == len(second)
    np.testing.assert_allclose(merged["logprob"], merged["logprob_shuffled"], rtol=0, atol=1e-10)


@pytest.mark.parametrize("arch", CAUSAL)
def test_left_padding_needs_position_ids(make_lm, arch):
    """The classic bug: without position ids, left-padded rows are shifted.

    GPT-2's absolute positions make that wrong; Llama's rotary positions are relative,
    so only rounding changes there.
    """
    lm = make_lm(arch)
    sequences = [[lm.start_token_id, 5, 6, 7, 8, 9], [lm.start_token_id, 5, 6]]
    batch = pad_sequences(sequences, pad_id=lm.start_token_id, padding_side="left")
    assert batch.position_ids[1].tolist() == [0, 0, 0, 0, 1, 2]
    with torch.no_grad():
        alone = lm.model(torch.tensor([sequences[1]])).logits[0]
        right, _ = forward_logits(lm.model, batch)
        wrong, _ = forward_logits(lm.model, batch, pass_position_ids=False)
    torch.testing.assert_close(right[1, 3:], alone, rtol=0, atol=1e-10)
    if arch == "gpt2":
        assert (wrong[1, 3:] - alone).abs().max() > 1e-3


@pytest.mark.parametrize("arch", CAUSAL)
def test_attention_mask_excludes_pads(make_lm, arch):
    lm = make_lm(arch)
    sequences = [[lm.start_token_id, 5, 6, 7, 8, 9], [lm.start_token_id, 5, 6]]
    logits = []
    for pad_id in (lm.start_token_id, 17):
        batch = pad_sequences(sequences, pad_id=pad_id, padding_side="left")
        with torch.no_grad():
            logits.append(forward_logits(lm.model, batch)[0][1, 3:])
    torch.testing.assert_close(logits[0], logits[1], rtol=0, atol=1e-12)


def test_output_columns_and_dtypes(make_lm):
    tokens = score_tokens(make_lm("gpt2"), _table(SENTENCES[:2]))
    assert tuple(tokens.columns) == TOKEN_COLUMNS
    assert tokens["token_index"].tolist()[:3] == [0, 1, 2]
    assert tokens.dtypes[["token_index", "token_id", "char_start", "char_end"]].eq("int64").all()
    np.testing.assert_allclose(tokens["surprisal"], -tokens["logprob"])
    np.testing.assert_allclose(tokens["surprisal_bits"], tokens["surprisal"] / np.log(2))
    assert (tokens["logprob"] < 0).all()
    assert tokens.attrs["scoring"]["model"]["start_token"] == "<|endoftext|>"


def test_long_sentence_under_a_small_token_budget(make_lm):
    lm = make_lm("bert")
    text = " ".join(["the cats sat on the mat, and"] * 43)
    n_tokens = len(lm.tokenizer(text, add_special_tokens=False)["input_ids"])
    assert n_tokens >= 300
    table = _table([text])
    small = score_tokens(lm, table, max_tokens_per_batch=30 * (n_tokens + 2))
    whole = score_tokens(lm, table, batch_size=10**6, max_tokens_per_batch=10**9)
    np.testing.assert_allclose(small["logprob"], whole["logprob"], rtol=0, atol=1e-10)


def test_progress_bar_does_not_change_scores(make_lm, capsys):
    lm = make_lm("gpt2")
    table = pd.DataFrame({"stimulus_id": ["a", "b", "c"],
                          "text": ["The cat sat.", "Dogs bark.", "The keys are here."]})
    quiet = score_tokens(lm, table, batch_size=1)
    loud = score_tokens(lm, table, batch_size=1, progress=True)
    pd.testing.assert_frame_equal(quiet, loud)
    assert "scoring" in capsys.readouterr().err


def _brute_force_scores(logits, rows, columns, targets, boundary):
    """``log p(target)`` and end-of-word log-mass from a float64 log-softmax."""
    logp = torch.log_softmax(logits.double(), dim=-1)[rows, columns]
    ends = torch.logsumexp(logp[:, boundary], dim=-1)
    return np.stack([logp[torch.arange(len(rows)), targets].numpy(), ends.numpy()], axis=1)


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
@pytest.mark.parametrize("scale", [3.0, 60.0])  # 60: logits span more than the fused range
def test_gather_scores_equals_log_softmax(rng, dtype, rtol, scale):
    from probing.models.causal_lm import _FUSED_RANGE, gather_scores

    logits = torch.as_tensor(rng.normal(size=(3, 5, 50)) * scale, dtype=dtype)
    rows, columns = torch.tensor([0, 0, 1, 2, 2]), torch.tensor([0, 4, 2, 1, 3])
    targets, boundary = torch.tensor([3, 7, 0, 49, 12]), torch.tensor([0, 5, 7, 30, 31])
    expected = _brute_force_scores(logits, rows, columns, targets, boundary)
    wide = bool(((logits.amax(-1) - logits.amin(-1)) >= _FUSED_RANGE).any())
    assert wide == (scale == 60.0)  # both paths are exercised
    got = gather_scores(logits.clone(), rows, columns, targets, boundary)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


def test_scores_do_not_depend_on_avoiding_padding(make_lm, monkeypatch):
    lm = make_lm("gpt2")
    texts = [*SENTENCES, *SENTENCES[:3]]
    tokens = score_tokens(lm, _table(texts), batch_size=4)
    import probing.models.causal_lm as causal

    plain = causal.plan_batches
    monkeypatch.setattr(causal, "plan_batches", lambda *a, **k: plain(
        *a, **{**k, "avoid_padding": False}))
    padded = score_tokens(lm, _table(texts), batch_size=4)
    for column in ("logprob", "logprob_eow"):
        np.testing.assert_allclose(tokens[column], padded[column], rtol=0, atol=1e-10)
