"""Extraction on tiny random GPT-2, Llama and BERT: reference, pooling, padding, hooks."""

import numpy as np
import pytest
import torch

from probing._core.errors import ProbingError
from probing.models import encode_texts
from probing.models.batching import pad_sequences
from probing.models.hooks import record_sites, site_module
from probing.models.pooling import check_pooling, pool_ranges, token_ranges
from probing.models.site_activations import compute_activations, resolve_layers

from ._helpers import ARCHITECTURES, SENTENCES

TEXTS = SENTENCES[:6]
ALL = [[None]] * len(TEXTS)


def _framed(lm, text):
    ids = encode_texts(lm.tokenizer, [text])[0].token_ids
    end = [] if lm.end is None else [lm.end.token_id]
    return [lm.start_token_id, *ids, *end], len(ids)


def _reference(lm, pooling):
    """One unpadded sentence at a time through the full model's output_hidden_states."""
    rows = []
    for text in TEXTS:
        framed, n = _framed(lm, text)
        with torch.no_grad():
            hidden = lm.model(torch.tensor([framed]), output_hidden_states=True).hidden_states
        tokens = torch.stack(hidden)[:, 0, 1 : 1 + n]  # text tokens, without start/end framing
        pick = {"first": tokens[:, 0], "last": tokens[:, -1], "mean": tokens.mean(1)}[pooling]
        rows.append(pick.numpy())
    return np.stack(rows)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("pooling", ["first", "last", "mean"])
def test_equals_output_hidden_states_float64(make_lm, arch, pooling):
    lm = make_lm(arch)
    got = compute_activations(lm, TEXTS, ALL, pooling=pooling, store_dtype="float64", batch_size=4)
    np.testing.assert_allclose(got, _reference(lm, pooling), rtol=0, atol=1e-10)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_float32_within_measured_rounding(make_lm, arch):
    # batched float32 vs the float64 reference of the same weights: measured max error is
    # 1.1e-7 to 2.1e-7 of the largest activation (about float32's eps, 1.2e-7); allow 10x
    lm64 = make_lm(arch)
    lm32 = make_lm(arch, dtype=torch.float32)
    got = compute_activations(lm32, TEXTS, ALL, pooling="mean", store_dtype="float32", batch_size=4)
    ref = _reference(lm64, "mean")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=0, atol=2e-6 * np.abs(ref).max())


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("site", ["resid_post", "mlp_out", "attn_out"])
@pytest.mark.parametrize("side", ["right", "left"], ids=["right-pad", "left-pad"])
def test_batch_size_and_padding_invariance(make_lm, arch, site, side):
    lm = make_lm(arch)
    one = compute_activations(lm, TEXTS, ALL, site=site, pooling="mean", store_dtype="float64", batch_size=1)
    many = compute_activations(lm, TEXTS, ALL, site=site, pooling="mean", store_dtype="float64",
                               batch_size=4, padding_side=side, chunk_size=5)
    np.testing.assert_allclose(many, one, rtol=0, atol=1e-10)


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_sites_add_up_to_the_residual_stream(make_lm, arch):
    # pre-norm blocks: resid_post[1] = resid_post[0] + attn_out[1] + mlp_out[1] (mean is linear)
    lm = make_lm(arch)
    kwargs = {"pooling": "mean", "dtype": "float64", "layers": [1]}
    resid = compute_activations(lm, TEXTS, ALL, layers=[0, 1], pooling="mean", store_dtype="float64")
    attn = compute_activations(lm, TEXTS, ALL, site="attn_out", **kwargs)[:, 0]
    mlp = compute_activations(lm, TEXTS, ALL, site="mlp_out", **kwargs)[:, 0]
    np.testing.assert_allclose(resid[:, 1], resid[:, 0] + attn + mlp, atol=1e-10)


def test_pooling_by_hand_on_padded_batches():
    hidden_rows = [torch.arange(12.0).reshape(4, 3), torch.arange(100.0, 106.0).reshape(2, 3)]
    for side in ("right", "left"):
        batch = pad_sequences([[1, 2, 3, 4], [5, 6]], pad_id=0, padding_side=side)
        hidden = torch.full((2, 4, 3), float("nan"), dtype=torch.float64)  # pads are NaN
        for row, values in enumerate(hidden_rows):
            hidden[row, batch.columns[row]] = values.double()
        rows, ranges = [0, 0, 1], [(1, 3), (0, 4), (0, 2)]
        mean = pool_ranges(hidden, batch.attention_mask, rows, ranges, batch.columns, "mean")
        first = pool_ranges(hidden, batch.attention_mask, rows, ranges, batch.columns, "first")
        last = pool_ranges(hidden, batch.attention_mask, rows, ranges, batch.columns, "last")
        assert mean.tolist() == [[4.5, 5.5, 6.5], [4.5, 5.5, 6.5], [101.5, 102.5, 103.5]]
        assert first.tolist() == [[3, 4, 5], [0, 1, 2], [100, 101, 102]]
        assert last.tolist() == [[6, 7, 8], [9, 10, 11], [103, 104, 105]]


def test_token_ranges_follow_first_character():
    spans = [(0, 3), (4, 7), (8, 10), (10, 11)]  # "The cat sa t"
    assert token_ranges(spans, [None, (4, 11), (0, 4)], offset=1) == [(1, 5), (2, 5), (1, 2)]
    with pytest.raises(ProbingError, match="no token starts or lies in characters 3:4"):
        token_ranges(spans, [(3, 4)], offset=1)  # the space between two tokens


def test_segment_inside_a_merged_token_takes_that_token():
    spans = [(0, 8), (8, 10)]  # "tradeoff)." as "tradeoff" + ")."
    words = [(0, 8), (8, 9), (9, 10)]  # UD: tradeoff ) .
    assert token_ranges(spans, words, offset=1) == [(1, 2), (2, 3), (2, 3)]


def test_segment_without_tokens_names_the_text(make_lm):
    with pytest.raises(ProbingError, match="text 'The cat': no token starts or lies in characters 3:4"):
        compute_activations(make_lm("gpt2"), ["The cat"], [[(3, 4)]])


def test_texts_without_segments_give_no_rows(make_lm):
    lm = make_lm("gpt2")
    got = compute_activations(lm, ["The cat", "Dogs bark."], [[], [(0, 4)]], layers=[0, 2])
    assert got.shape == (1, 2, 32)
    empty = compute_activations(lm, ["The cat"], [[]], layers=[0, 2])
    assert empty.shape == (0, 2, 32)


def test_region_pooling_equals_mean_over_region_tokens(make_lm):
    lm = make_lm("gpt2")
    text = "The cat sat on the mat."
    enc = encode_texts(lm.tokenizer, [text])[0]
    whole = compute_activations(lm, [text], [[(4, 7)]], pooling="mean", store_dtype="float64")
    framed, _ = _framed(lm, text)
    with torch.no_grad():
        hidden = lm.model(torch.tensor([framed]), output_hidden_states=True).hidden_states
    cols = [1 + i for i, (s, _) in enumerate(enc.spans) if 4 <= s < 7]
    ref = np.stack([h[0, cols].mean(0).numpy() for h in hidden])
    np.testing.assert_allclose(whole[0], ref, atol=1e-10)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_hooks_removed_after_success_and_error(make_lm, arch):
    lm = make_lm(arch)
    base = lm.model.base_model
    modules = [site_module(base, "mlp_out", layer) for layer in (1, 2)]
    compute_activations(lm, TEXTS[:2], ALL[:2], site="mlp_out")
    assert all(not m._forward_hooks for m in modules)
    with pytest.raises(RuntimeError, match="boom"):
        with record_sites(base, "mlp_out", [1, 2]):
            assert all(len(m._forward_hooks) == 1 for m in modules)
            raise RuntimeError("boom")
    assert all(not m._forward_hooks for m in modules)


def test_unknown_site_lists_the_available_ones(make_lm):
    lm = make_lm("gpt2")
    with pytest.raises(ProbingError, match="available sites: resid_post, mlp_out, attn_out"):
        compute_activations(lm, TEXTS[:1], ALL[:1], site="resid_mid")


@pytest.mark.parametrize(("layers", "site", "expected"), [
    ("all", "resid_post", [0, 1, 2]), ("all", "attn_out", [1, 2]), ("-1", "resid_post", [2]),
    ("0,2", "resid_post", [0, 2]), (1, "mlp_out", [1]), ([0, -2], "resid_post", [0, 1]),
], ids=["all", "all-hook", "neg", "list-str", "int", "list"])
def test_resolve_layers(layers, site, expected):
    assert resolve_layers(layers, 2, site) == expected


@pytest.mark.parametrize(("layers", "site", "message"), [
    ("0", "mlp_out", "out of range for site 'mlp_out': allowed 1..2"),
    ("5", "resid_post", "allowed 0..2"), ("a,b", "resid_post", "integers like 0,6,-1"),
    ("1,1", "resid_post", "repeat"),
], ids=["hook-layer-0", "too-high", "not-int", "repeat"])
def test_resolve_layers_errors(layers, site, message):
    with pytest.raises(ProbingError, match=message):
        resolve_layers(layers, 2, site)


def test_bad_pooling_message():
    assert check_pooling("region:verb") == ("mean", "verb")
    with pytest.raises(ProbingError, match="first, last, mean or region:<name>; got 'max'"):
        check_pooling("max")


@pytest.mark.integration
def test_default_model_equals_output_hidden_states():
    from probing.models import load_model

    lm = load_model("smollm2-135m", device="cpu")
    texts = TEXTS[:3]
    got = compute_activations(lm, texts, [[None]] * 3, layers="0,15,-1", pooling="mean",
                              batch_size=3)
    for row, text in enumerate(texts):
        framed, n = _framed(lm, text)
        with torch.no_grad():
            hidden = lm.model(torch.tensor([framed]), output_hidden_states=True).hidden_states
        ref = np.stack([hidden[layer][0, 1 : 1 + n].mean(0).numpy() for layer in (0, 15, 30)])
        # float32 model, batched vs unbatched: same rounding scale as the tiny models
        np.testing.assert_allclose(got[row], ref, rtol=0, atol=1e-5 * np.abs(ref).max())
