"""The start-token rule: BOS unless it is a chat marker, then <|endoftext|>, then EOS."""

import pytest

from probing._core.errors import ProbingError
from probing.models import is_chat_marker, resolve_start_token
from probing.models.start_token import resolve_end_token

CHATML = "{% for m in messages %}<|im_start|>{{ m['content'] }}<|im_end|>{% endfor %}"


def test_gpt2_style_uses_endoftext_as_bos(make_tokenizer):
    start = resolve_start_token(make_tokenizer("gpt2"))
    assert (start.token, start.token_id, start.policy) == ("<|endoftext|>", 0, "bos_token")


def test_llama_style_uses_bos(make_tokenizer):
    tokenizer = make_tokenizer("llama")
    start = resolve_start_token(tokenizer)
    assert (start.token, start.policy) == ("<s>", "bos_token")
    assert start.token_id == tokenizer.convert_tokens_to_ids("<s>")


def test_chat_marker_bos_falls_back_to_endoftext(make_tokenizer):
    # SmolLM2-Instruct's GGUF: BOS <|im_start|>, EOS <|im_end|>, documents separated by id 0
    tokenizer = make_tokenizer(
        "gpt2", bos_token="<|im_start|>", eos_token="<|im_end|>", chat_template=CHATML
    )
    start = resolve_start_token(tokenizer)
    assert (start.token, start.token_id, start.policy) == ("<|endoftext|>", 0, "endoftext")


def test_bos_found_literally_in_chat_template_is_a_marker(make_tokenizer):
    tokenizer = make_tokenizer(
        "llama", chat_template="{% for m in messages %}<s>{{ m['content'] }}{% endfor %}"
    )
    start = resolve_start_token(tokenizer)
    assert (start.token, start.policy) == ("</s>", "eos_token")


def test_template_that_uses_bos_variable_keeps_bos(make_tokenizer):
    tokenizer = make_tokenizer(
        "llama",
        chat_template="{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}",
    )
    assert resolve_start_token(tokenizer).token == "<s>"


def test_no_start_token_raises_and_names_the_override(make_tokenizer):
    tokenizer = make_tokenizer("llama", bos_token="<|im_start|>", eos_token="<|im_end|>")
    with pytest.raises(ProbingError, match="start_token="):
        resolve_start_token(tokenizer)


@pytest.mark.parametrize("override", ["</s>", 2], ids=["string", "id"])
def test_user_override(make_tokenizer, override):
    tokenizer = make_tokenizer("llama")
    start = resolve_start_token(tokenizer, override)
    assert (start.token, start.token_id, start.policy) == ("</s>", 2, "user")


@pytest.mark.parametrize(
    "override, message",
    [
        ("<nope>", "not in the tokenizer"),
        (10**6, "outside the vocabulary"),
        (1.5, "start_token must be"),
    ],
    ids=["unknown-string", "id-out-of-range", "float"],
)
def test_bad_override(make_tokenizer, override, message):
    with pytest.raises(ProbingError, match=message):
        resolve_start_token(make_tokenizer("llama"), override)


def test_masked_models_use_cls_and_sep(make_tokenizer):
    tokenizer = make_tokenizer("bert")
    start, end = resolve_start_token(tokenizer, kind="masked"), resolve_end_token(tokenizer)
    assert (start.token, start.policy, end.token, end.policy) == (
        "[CLS]",
        "cls_token",
        "[SEP]",
        "sep_token",
    )


def test_is_chat_marker_reads_dict_templates(make_tokenizer):
    tokenizer = make_tokenizer("gpt2", chat_template={"default": "<|begin|>{{ x }}", "tool": ""})
    assert is_chat_marker(tokenizer, "<|begin|>")
    assert not is_chat_marker(tokenizer, "<|endoftext|>")
