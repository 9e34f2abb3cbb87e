"""The embedded default model, SmolLM2-135M-Instruct (GGUF), loaded once for the module.

Loading parses and dequantises the GGUF file (about 20 s on 2 CPU cores), so every test
here shares one float64 copy.
"""

import copy
import re

import numpy as np
import pandas as pd
import pytest
import torch

from probing.models import LanguageModel, load_model, score_tokens

from ._helpers import reference_causal

pytestmark = pytest.mark.integration

SENTENCES = [
    "The cat sat on the mat.",
    "Who should Derek hug after shocking Richard?",
    "The keys to the cabinet are on the table.",
    "A naïve café, isn't it?",
    "Dogs bark.",
    "Many people believe that the earth is round, and they're right.",
]

PAIRS = [
    ("The cat sits on the mat.", "The cat sit on the mat."),
    ("The keys to the cabinet are on the table.", "The keys to the cabinet is on the table."),
    ("She has eaten the cake.", "She has ate the cake."),
    ("The boys like themselves.", "The boys like himself."),
    ("Who did you see yesterday?", "Who did you saw yesterday?"),
    ("They were happy to see us.", "They was happy to see us."),
]


@pytest.fixture(scope="module")
def smollm():
    return load_model("smollm2-135m", dtype="float64", device="cpu")


def _table(texts):
    return pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(len(texts))], "text": texts})


def _assert_reference(lm, tokens, texts, atol):
    for i, text in enumerate(texts):
        expected = reference_causal(lm.model, lm.tokenizer, lm.start_token_id, text)
        got = tokens.loc[tokens["stimulus_id"] == f"s{i}", "logprob"].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=0, atol=atol)


def test_default_model_loads(smollm):
    config = smollm.model.config
    assert (config.num_hidden_layers, config.hidden_size) == (30, 576)
    assert smollm.kind == "causal" and smollm.dtype == torch.float64
    record = smollm.provenance
    assert record["source"] == "gguf" and re.fullmatch(r"[0-9a-f]{64}", record["sha256"])


def test_default_model_starts_with_endoftext(smollm):
    assert smollm.tokenizer.bos_token == "<|im_start|>"  # the GGUF's declared (chat) BOS
    assert (smollm.start.token, smollm.start_token_id) == ("<|endoftext|>", 0)
    assert smollm.provenance["start_token_policy"] == "endoftext"


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_batched_equals_reference_float64(smollm, padding_side):
    tokens = score_tokens(smollm, _table(SENTENCES), batch_size=4, padding_side=padding_side)
    _assert_reference(smollm, tokens, SENTENCES, atol=1e-8)


def test_prefix_sharing_equals_reference_float64(smollm):
    texts = [good for pair in PAIRS[:3] for good in pair]
    table = _table(texts).assign(pair_id=np.repeat(np.arange(3), 2))
    _assert_reference(smollm, score_tokens(smollm, table, share_prefixes=True), texts, atol=1e-8)


def test_float32_close_to_float64(smollm):
    lm32 = LanguageModel.from_objects(copy.deepcopy(smollm.model).float(), smollm.tokenizer)
    tokens = score_tokens(lm32, _table(SENTENCES), batch_size=4)
    _assert_reference(smollm, tokens, SENTENCES, atol=5e-4)


def test_obvious_pairs_are_ranked(smollm):
    texts = [text for pair in PAIRS for text in pair]
    tokens = score_tokens(smollm, _table(texts))
    sums = tokens.groupby("stimulus_id", sort=False)["logprob"].sum().to_numpy()
    assert (sums[0::2] > sums[1::2]).all()


def test_spans_on_the_real_tokenizer(smollm):
    tokens = score_tokens(smollm, _table(SENTENCES))
    for row in tokens.itertuples():
        text = SENTENCES[int(row.stimulus_id[1:])]
        surface = smollm.tokenizer.convert_tokens_to_string([row.token]).strip()
        assert text[row.char_start : row.char_end] == surface
