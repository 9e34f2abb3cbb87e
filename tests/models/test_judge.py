"""A model as judge: label log-probabilities and expected ratings against plain PyTorch."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from probing._core.errors import ProbingError
from probing.alignment.judge_analysis import build_judge_ratings
from probing.models import LanguageModel
from probing.models.judge_prompts import build_judge_prompt, check_judge_tokens, judge_texts
from probing.paradigms.judge_scale import JudgeScale

CHAT = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
TEMPLATES = {"q1": "Rate this sentence: {sentence}\n{scale}", "q2": "{sentence} How good?\n{scale}"}


def _scale(labels=("1", "2", "3", "4"), templates=TEMPLATES):
    return JudgeScale(labels=labels, values=tuple(range(1, len(labels) + 1)),
                      descriptions=tuple(f"level {lab}" for lab in labels), templates=templates)


def _chat_lm(make_lm, arch="gpt2"):
    lm = make_lm(arch)
    tok = copy.deepcopy(lm.tokenizer)
    tok.chat_template = CHAT
    return LanguageModel.from_objects(lm.model, tok)


def _by_hand(lm, prompt, labels, start):
    """Expected rating and label mass from one unpadded forward's next-token logits."""
    tok = lm.tokenizer
    ids = ([lm.start_token_id] if start else []) + tok(prompt, add_special_tokens=False)["input_ids"]
    label_ids = [tok(lab, add_special_tokens=False)["input_ids"] for lab in labels]
    prefix = label_ids[0][:-1]  # the labels' shared leading tokens (a space in plain)
    with torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([ids + prefix])).logits[0].double()
    logp = torch.log_softmax(logits, -1)
    prefix_lp = sum(float(logp[len(ids) - 1 + j, t]) for j, t in enumerate(prefix))
    last = torch.tensor([ids_[-1] for ids_ in label_ids])
    lp = logp[-1, last].numpy() + prefix_lp
    p = np.exp(lp - np.logaddexp.reduce(lp))
    return float(p @ np.arange(1, len(labels) + 1)), float(np.exp(lp).sum())


@pytest.mark.parametrize("style", ["chat", "plain"])
def test_expected_rating_equals_a_hand_computation(make_lm, style):
    lm = _chat_lm(make_lm)
    scale = _scale()
    texts = pd.DataFrame({"stimulus_id": ["a", "b", "c"],
                          "text": ["The cat sat on the mat.", "Dogs barking the.", "Who hug?"]})
    for batch_size in (1, 4):
        ratings = build_judge_ratings(judge_texts(lm, texts, scale, styles=(style,),
                                                  batch_size=batch_size))
        assert len(ratings) == 3 * 2 * 2
        for row in ratings.itertuples():
            text = texts.set_index("stimulus_id").loc[row.stimulus_id, "text"]
            prompt, options = build_judge_prompt(lm.tokenizer, scale, row.template, text,
                                                 order=row.scale_order, style=style)
            want, mass = _by_hand(lm, prompt, options, start=style == "plain")
            assert row.expected_rating == pytest.approx(want, rel=1e-9)
            assert row.label_mass == pytest.approx(mass, rel=1e-9)
    assert ratings["label_mass"].max() < 1  # renormalised: the labels hold only part
    assert ratings["expected_rating"].std() > 0  # not a constant placeholder


def test_descending_order_lists_the_scale_reversed_and_keeps_the_values(make_lm):
    lm = _chat_lm(make_lm)
    scale = _scale()
    up, _ = build_judge_prompt(lm.tokenizer, scale, "q1", "Dogs bark.", order="ascending")
    down, options = build_judge_prompt(lm.tokenizer, scale, "q1", "Dogs bark.",
                                       order="descending")
    assert "1 = level 1\n2 = level 2\n3 = level 3\n4 = level 4" in up
    assert "4 = level 4\n3 = level 3\n2 = level 2\n1 = level 1" in down
    assert options == ("1", "2", "3", "4")
    table = judge_texts(lm, pd.DataFrame({"stimulus_id": ["a"], "text": ["Dogs bark."]}), scale,
                        templates=["q1"])
    down_rows = table[table["scale_order"] == "descending"]
    assert dict(zip(down_rows["option"], down_rows["scale_value"], strict=True)) == {
        "1": 1, "2": 2, "3": 3, "4": 4}
    # the hand computation reads label k's token and weights it by value k, in either order
    want, _ = _by_hand(lm, down, options, start=False)
    got = build_judge_ratings(down_rows)["expected_rating"].iat[0]
    assert got == pytest.approx(want, rel=1e-9)
    assert got != pytest.approx(build_judge_ratings(
        table[table["scale_order"] == "ascending"])["expected_rating"].iat[0], rel=1e-6)


def test_labels_of_several_tokens_are_refused(make_lm):
    lm = _chat_lm(make_lm)
    scale = JudgeScale(labels=("1", "xqz"), values=(1, 2), descriptions=("a", "b"),
                       templates=TEMPLATES, file="my_scale.yaml")
    with pytest.raises(ProbingError, match=r"^my_scale.yaml: scale.1.label: label 'xqz' is 3 "
                                           r"tokens of the tokenizer of tiny \(.*\) in the "
                                           r"chat style; each label must be one token$"):
        check_judge_tokens(lm.tokenizer, scale, style="chat", name="tiny")
    # plain labels share their leading space; past it each digit is one token
    check_judge_tokens(lm.tokenizer, _scale(), style="plain")


def test_chat_style_without_a_template_is_refused(make_lm):
    lm = make_lm("gpt2")
    with pytest.raises(ProbingError, match="has no chat template; use the plain style"):
        check_judge_tokens(lm.tokenizer, _scale(), style="chat")
