"""Tiny random models and offline tokenizers for the model-adapter tests.

Three tokenizer families, each trained in milliseconds on the corpus below with the
``tokenizers`` library: GPT-2 byte-level BPE, a Llama-style SentencePiece BPE (``▁``,
byte fallback) and BERT WordPiece. Each is paired with a 2-layer random model built
from a config. Tokenizers are rebuilt for every test, so no test can leak a change
into another.
"""

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import (
    BertConfig,
    BertForMaskedLM,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

from probing.models import LanguageModel

CORPUS = [
    "The cat sat on the mat.",
    "The dogs were barking at the mailman!",
    "A child who likes apples is happy.",
    "Who should Derek hug after shocking Richard?",
    "The keys to the cabinet are on the table.",
    "She said that the authors have written many books.",
    "Many people believe that the earth is round.",
    "The café served naïve tourists crème brûlée.",
    "Every senator who the reporters admired was re-elected, wasn't he?",
    "Those boys don't like the teachers' new rules.",
    "It's 3 o'clock; the meeting (as planned) starts soon.",
    "The horse raced past the barn fell.",
] * 4


def _train(tokenizer, trainer):
    tokenizer.train_from_iterator(CORPUS, trainer)
    return tokenizer.to_str()


def _gpt2_json():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return _train(
        tok,
        trainers.BpeTrainer(
            vocab_size=320,
            show_progress=False,
            special_tokens=["<|endoftext|>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )


def _llama_json():
    tok = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>", fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first")
    tok.decoder = decoders.Sequence(
        [
            decoders.Replace("\u2581", " "),
            decoders.ByteFallback(),
            decoders.Fuse(),
            decoders.Strip(" ", 1, 0),
        ]
    )
    special = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    return _train(
        tok, trainers.BpeTrainer(vocab_size=420, show_progress=False, special_tokens=special)
    )


def _bert_json():
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    return _train(
        tok,
        trainers.WordPieceTrainer(
            vocab_size=220,
            show_progress=False,
            special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
        ),
    )


_SPECIALS = {
    "gpt2": {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"},
    "llama": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "bert": {
        "unk_token": "[UNK]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "mask_token": "[MASK]",
    },
}


@pytest.fixture(scope="session")
def tokenizer_json():
    """Serialized tiny tokenizers, trained once per session."""
    return {"gpt2": _gpt2_json(), "llama": _llama_json(), "bert": _bert_json()}


def _config(arch, vocab_size, max_positions):
    if arch == "gpt2":
        return GPT2Config(
            vocab_size=vocab_size,
            n_positions=max_positions,
            n_embd=32,
            n_layer=2,
            n_head=2,
            initializer_range=0.2,
            bos_token_id=0,
            eos_token_id=0,
        )
    if arch == "llama":
        return LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=max_positions,
            initializer_range=0.2,
            bos_token_id=1,
            eos_token_id=2,
            pad_token_id=None,
        )
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_positions,
        initializer_range=0.2,
        pad_token_id=0,
    )


_CLASSES = {"gpt2": GPT2LMHeadModel, "llama": LlamaForCausalLM, "bert": BertForMaskedLM}


@pytest.fixture
def make_tokenizer(tokenizer_json):
    """``make_tokenizer(arch, **extra)`` -> a fresh ``PreTrainedTokenizerFast``."""

    def make(arch, **extra):
        return PreTrainedTokenizerFast(
            tokenizer_object=Tokenizer.from_str(tokenizer_json[arch]),
            **{**_SPECIALS[arch], **extra},
        )

    return make


@pytest.fixture
def make_model(make_tokenizer):
    """``make_model(arch, dtype=torch.float64, max_positions=512)`` -> (model, tokenizer)."""

    def make(arch, dtype=torch.float64, max_positions=512):
        tokenizer = make_tokenizer(arch)
        torch.manual_seed(0)
        model = _CLASSES[arch](_config(arch, len(tokenizer), max_positions))
        return model.to(dtype).eval(), tokenizer

    return make


@pytest.fixture
def make_lm(make_model):
    """``make_lm(arch, dtype=torch.float64, **kwargs)`` -> a :class:`LanguageModel`."""

    def make(arch, dtype=torch.float64, max_positions=512, **kwargs):
        model, tokenizer = make_model(arch, dtype, max_positions)
        return LanguageModel.from_objects(model, tokenizer, **kwargs)

    return make
