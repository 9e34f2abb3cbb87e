"""Logit-lens read-outs of intermediate layers (``score_tokens(..., layers=...)``)."""

import numpy as np
import pandas as pd
import pytest
import torch

from probing._core.errors import ProbingError
from probing.behaviour import build_word_surprisal
from probing.models import score_tokens

from ._helpers import CAUSAL, SENTENCES

TABLE = pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(4)], "text": SENTENCES[:4]})


def _layer(tokens, layer):
    return tokens[tokens["layer"] == layer].drop(columns="layer").reset_index(drop=True)


@pytest.mark.parametrize(("arch", "dtype"), [("gpt2", torch.float64), ("llama", torch.float64),
                                             ("gpt2", torch.float32)],
                         ids=["gpt2", "llama", "gpt2-float32"])
def test_last_layer_equals_the_model(make_lm, arch, dtype):
    lm = make_lm(arch, dtype=dtype)
    plain = score_tokens(lm, TABLE)
    lens = score_tokens(lm, TABLE, layers="all")
    assert lens["layer"].unique().tolist() == [0, 1, 2]
    last = _layer(lens, 2)
    for column in ("logprob", "logprob_eow"):
        np.testing.assert_allclose(last[column], plain[column], atol=1e-6, rtol=0)
    words = build_word_surprisal(last, TABLE)
    np.testing.assert_allclose(words["surprisal"], build_word_surprisal(plain, TABLE)["surprisal"],
                               atol=1e-6, rtol=0)
    assert words["eow_corrected"].all()
    assert lens.attrs["scoring"]["layers"] == [0, 1, 2]


@pytest.mark.parametrize("arch", CAUSAL, ids=CAUSAL)
def test_last_layer_equals_the_model_under_sliding_windows(make_lm, arch):
    lm = make_lm(arch)
    attr = "n_positions" if arch == "gpt2" else "max_position_embeddings"
    setattr(lm.model.config, attr, 12)  # the same weights, a 12-token context
    table = pd.DataFrame({"stimulus_id": ["long"], "text": [" ".join(SENTENCES[:3])]})
    plain = score_tokens(lm, table, stride=5)
    lens = score_tokens(lm, table, stride=5, layers="1,-1")
    assert plain.attrs["scoring"]["windowed"] == ["long"] == lens.attrs["scoring"]["windowed"]
    for column in ("logprob", "logprob_eow"):
        np.testing.assert_allclose(_layer(lens, 2)[column], plain[column], atol=1e-6, rtol=0)
    assert not np.allclose(_layer(lens, 1)["logprob"], plain["logprob"], atol=1e-3)


def _reference_lens(lm, text, layer):
    """log p(t_i) read from ``hidden_states[layer]`` through the final norm and the head."""
    ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    inputs = torch.tensor([[lm.start_token_id, *ids]])
    with torch.no_grad():
        hidden = lm.model(inputs, output_hidden_states=True).hidden_states[layer]
        norm = lm.model.transformer.ln_f if hasattr(lm.model, "transformer") else lm.model.model.norm
        logp = lm.model.lm_head(norm(hidden))[0].log_softmax(-1)
    return np.array([logp[i, token].item() for i, token in enumerate(ids)])


@pytest.mark.parametrize(("arch", "layer"), [("gpt2", 0), ("llama", 1)],
                         ids=["gpt2-embeddings", "llama-block1"])
def test_intermediate_layers_match_a_plain_pytorch_read_out(make_lm, arch, layer):
    lm = make_lm(arch)
    lens = _layer(score_tokens(lm, TABLE, layers=[layer]), layer)
    for sid, text in zip(TABLE["stimulus_id"], TABLE["text"], strict=True):
        got = lens.loc[lens["stimulus_id"] == sid, "logprob"].to_numpy()
        np.testing.assert_allclose(got, _reference_lens(lm, text, layer), atol=1e-9)


def test_batch_size_and_layer_order_do_not_change_numbers(make_lm):
    lm = make_lm("gpt2")
    a = score_tokens(lm, TABLE, layers=[2, 0], batch_size=1)
    b = score_tokens(lm, TABLE, layers=[0, 2], batch_size=4, padding_side="left")
    for layer in (0, 2):
        pd.testing.assert_frame_equal(_layer(a, layer), _layer(b, layer), atol=1e-9, rtol=0)


def test_encoder_models_are_refused(make_lm):
    with pytest.raises(ProbingError, match=r"is a masked \(encoder\) model"):
        score_tokens(make_lm("bert"), TABLE, layers="all")


@pytest.mark.parametrize(("options", "message"), [
    ({"layers": "5"}, r"layers \[5\] out of range"),
    ({"layers": "1", "share_prefixes": True}, "cannot be combined with share_prefixes"),
], ids=["range", "share_prefixes"])
def test_bad_options(make_lm, options, message):
    with pytest.raises(ProbingError, match=message):
        score_tokens(make_lm("gpt2"), TABLE.assign(item_id="i"), **options)


def test_a_model_that_rescales_its_logits_is_refused(make_lm):
    lm = make_lm("gpt2")

    def scale(module, args, output):  # as an architecture with a logit scale would
        output.logits = output.logits * 2.0
        return output

    handle = lm.model.register_forward_hook(scale)
    try:
        with pytest.raises(ProbingError, match="do not reproduce its logits"):
            score_tokens(lm, TABLE, layers="1")
    finally:
        handle.remove()
