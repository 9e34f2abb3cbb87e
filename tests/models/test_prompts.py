"""Prompted judgements: option log-probabilities against a plain PyTorch loop."""

import numpy as np
import pandas as pd
import pytest
import torch

from probing._core.errors import ProbingError
from probing.models import LanguageModel
from probing.models.prompts import build_prompt, prompt_pairs, score_options

CHAT = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def _by_hand(lm, prompt, option, start):
    """log p(option | prompt): one unpadded forward of prompt + option, summed by hand."""
    tok = lm.tokenizer
    context = ([lm.start_token_id] if start else []) + tok(prompt, add_special_tokens=False)["input_ids"]
    opt = tok(option, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([context + opt])
    with torch.no_grad():
        logp = torch.log_softmax(lm.model(input_ids=ids).logits[0].double(), -1)
    return sum(float(logp[len(context) - 1 + j, t]) for j, t in enumerate(opt))


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_option_logprobs_equal_a_hand_computation(make_lm, arch):
    lm = make_lm(arch)
    prompts = ["The cat sat on the mat. Answer:", "Who should Derek hug? Answer:", "Dogs. Answer:"]
    # options differing in the last token only (one pass), of unequal lengths (one pass each)
    options = [(" cat", " mat"), (" the teachers", " rules"), (" a", " b", " the cabinet")]
    expected = [[_by_hand(lm, p, o, start=True) for o in opts]
                for p, opts in zip(prompts, options, strict=True)]
    for batch_size in (1, 3):  # padding and batching change nothing
        got = score_options(lm, prompts, options, batch_size=batch_size)
        for values, want in zip(got, expected, strict=True):
            np.testing.assert_allclose(values, want, rtol=1e-9, atol=1e-9)
    assert np.exp(got[0]).max() < 1  # a real distribution, not a placeholder


def test_chat_prompts_use_the_template_and_no_start_token(make_lm):
    lm = make_lm("gpt2")
    chat_lm = LanguageModel.from_objects(lm.model, _with_template(lm.tokenizer))
    prompt, options = build_prompt(chat_lm.tokenizer, "yes_no", "chat", sentence="The cat sat.")
    assert prompt.startswith("<|im_start|>user\nIs the following") and prompt.endswith("assistant\n")
    assert options == ("Yes", "No")
    got = score_options(chat_lm, [prompt], [options], start=False)[0]
    np.testing.assert_allclose(got, [_by_hand(chat_lm, prompt, o, start=False) for o in options],
                               rtol=1e-9)


def _with_template(tokenizer):
    import copy

    tok = copy.deepcopy(tokenizer)
    tok.chat_template = CHAT
    return tok


def test_prompt_pairs_counterbalances_forced_choice(make_lm):
    lm = make_lm("gpt2")
    pairs = pd.DataFrame({"phenomenon": "agr", "pair_id": [0, 1],
                          "good": ["The cat sat.", "The dogs were barking."],
                          "bad": ["The cat sit.", "The dogs was barking."]})
    table = prompt_pairs(lm, pairs, styles=("plain",))
    fc = table[table["task"] == "forced_choice"]
    assert sorted(fc["order"].unique()) == ["bad_first", "good_first"]
    first = fc[(fc["pair_id"] == 0) & (fc["order"] == "bad_first")]
    assert first.set_index("option")["role"].to_dict() == {"1": "bad", "2": "good"}
    prompt, opts = build_prompt(lm.tokenizer, "forced_choice", "plain", first="The cat sit.",
                                second="The cat sat.")
    expected = [_by_hand(lm, prompt, o, start=True) for o in opts]
    np.testing.assert_allclose(first["logprob_option"], expected, rtol=1e-9)
    yn = table[table["task"] == "yes_no"]
    assert len(yn) == 2 * 2 * 2 and set(yn["option"]) == {"Yes", "No"}


def test_chat_style_without_template_is_one_line_error(make_lm):
    lm = make_lm("gpt2")
    with pytest.raises(ProbingError, match="has no chat template; use the plain style"):
        build_prompt(lm.tokenizer, "yes_no", "chat", sentence="x")
    with pytest.raises(ProbingError, match="prompt task 'rate': allowed yes_no, forced_choice"):
        build_prompt(lm.tokenizer, "rate", "plain", sentence="x")


def test_masked_model_is_refused(make_lm):
    with pytest.raises(ProbingError, match="need a causal model"):
        score_options(make_lm("bert"), ["a"], [("b",)])
