"""Token spans: ``text[char_start:char_end]`` is the token's surface without leading space."""

import pytest
from transformers.models.bert import BertTokenizerLegacy

from probing._core.errors import ProbingError
from probing.models import encode_texts
from probing.models.token_alignment import normalise_span

from ._helpers import SENTENCES

TEXTS = [*SENTENCES, "Zoë’s crème—brûlée!", "  leading  spaces ,and(brackets)", "tab\tand\nnewline"]


def _surface(tokenizer, token):
    return tokenizer.convert_tokens_to_string([token]).removeprefix("##").strip()


@pytest.mark.parametrize("arch", ["gpt2", "llama", "bert"])
def test_span_is_token_surface_without_leading_space(make_tokenizer, arch):
    tokenizer = make_tokenizer(arch)
    checked = {"whole": 0, "partial": 0}
    for text, encoded in zip(TEXTS, encode_texts(tokenizer, TEXTS), strict=True):
        tokens = tokenizer.convert_ids_to_tokens(encoded.token_ids)
        for token, (start, end) in zip(tokens, encoded.spans, strict=True):
            assert 0 <= start <= end <= len(text)
            span, surface = text[start:end], _surface(tokenizer, token)
            if token == tokenizer.unk_token:
                assert span and not any(ch.isspace() for ch in span)
            elif "\ufffd" in surface:  # holds part of a multi-byte character: all of it
                whole = surface.strip("\ufffd")
                assert whole in span and len(span) - len(whole) in (1, 2), (text, token)
                assert any(ord(ch) > 127 for ch in span.replace(whole, "", 1))
                checked["partial"] += 1
            else:
                assert span.casefold() == surface.casefold(), (text, token)
                checked["whole"] += 1
    assert checked["whole"] > 50
    assert checked["partial"] > 0 or arch == "bert"


@pytest.mark.parametrize("arch", ["gpt2", "llama", "bert"])
def test_spans_cover_every_visible_character_in_order(make_tokenizer, arch):
    for text, encoded in zip(TEXTS, encode_texts(make_tokenizer(arch), TEXTS), strict=True):
        covered = {i for start, end in encoded.spans for i in range(start, end)}
        assert covered == {i for i, ch in enumerate(text) if not ch.isspace()}, text
        assert encoded.spans == sorted(encoded.spans)


def test_known_gpt2_spans(make_tokenizer):
    text = "Hi, naïve café!"
    tokenizer = make_tokenizer("gpt2")
    encoded = encode_texts(tokenizer, [text])[0]
    pieces = [text[s:e] for s, e in encoded.spans]
    assert pieces[-1] == "!" and "," in pieces
    assert " " not in "".join(pieces)


@pytest.mark.parametrize(
    "token, start, end, expected",
    [
        ("\u0120world", 5, 11, (6, 11)),
        ("\u2581", 0, 1, (0, 0)),  # prepended SentencePiece marker pointing at a letter
        ("\u0120", 5, 6, (6, 6)),  # lone space token: empty span before the next word
        ("abc", -2, 99, (0, 11)),  # clamped to the text
    ],
    ids=["bpe-space", "lone-metaspace", "lone-space", "clamp"],
)
def test_normalise_span(token, start, end, expected):
    assert normalise_span("Hello world", token, start, end) == expected


class _SlowView:
    """A fast tokenizer seen as a slow one: no offsets, only ids and token strings."""

    is_fast = False

    def __init__(self, tokenizer):
        self._tokenizer = tokenizer

    def __call__(self, text, add_special_tokens=False):
        return {
            "input_ids": self._tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"]
        }

    def convert_ids_to_tokens(self, ids):
        return self._tokenizer.convert_ids_to_tokens(ids)

    def convert_tokens_to_string(self, tokens):
        return self._tokenizer.convert_tokens_to_string(tokens)


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_slow_fallback_matches_offsets(make_tokenizer, arch):
    tokenizer = make_tokenizer(arch)
    fast = encode_texts(tokenizer, TEXTS)
    slow = encode_texts(_SlowView(tokenizer), TEXTS)
    for text, f, s in zip(TEXTS, fast, slow, strict=True):
        assert s.token_ids == f.token_ids
        assert s.spans == f.spans, text


def _legacy_bert(make_tokenizer, tmp_path):
    vocab = make_tokenizer("bert").get_vocab()
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(sorted(vocab, key=vocab.get)) + "\n", encoding="utf-8")
    return BertTokenizerLegacy(str(path), do_lower_case=True, strip_accents=False)


def test_slow_bert_tokenizer_is_aligned(make_tokenizer, tmp_path):
    slow = _legacy_bert(make_tokenizer, tmp_path)
    assert not slow.is_fast
    texts = ["The cats sat on the mat.", "Who should Derek hug?"]
    fast = encode_texts(make_tokenizer("bert"), texts)
    for f, s in zip(fast, encode_texts(slow, texts), strict=True):
        assert (s.token_ids, s.spans) == (f.token_ids, f.spans)


def test_slow_tokenizer_that_cannot_be_aligned_raises(make_tokenizer, tmp_path):
    slow = _legacy_bert(make_tokenizer, tmp_path)
    with pytest.raises(ProbingError, match="use a fast tokenizer"):
        encode_texts(slow, ["The \u263a cat."])  # the smiley becomes [UNK]


def test_word_ids_group_subword_pieces(make_tokenizer):
    encoded = encode_texts(make_tokenizer("bert"), ["The cats sat."])[0]
    tokens = make_tokenizer("bert").convert_ids_to_tokens(encoded.token_ids)
    assert tokens[:3] == ["the", "cat", "##s"]
    assert encoded.word_ids[1] == encoded.word_ids[2] != encoded.word_ids[0]
