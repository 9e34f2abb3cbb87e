"""benchmarks/source_monitoring.py: the sentence is the same across speakers, read at its
last token; the states equal the tiny chat model's own hidden states there."""

import importlib.util

import numpy as np
import pytest
import torch

from probing.models import LanguageModel
from probing.models.chat import render_for_model
from tests.conftest import REPO
from tests.models.test_chat import FAMILIES

_spec = importlib.util.spec_from_file_location("source_monitoring",
                                               REPO / "benchmarks" / "source_monitoring.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.fixture(scope="module")
def stimuli():
    return bench.load_stimuli(n_items=2)


def test_one_sentence_three_speakers_read_at_its_full_stop(stimuli):
    table = stimuli.table
    assert sorted(table["speaker"]) == sorted(bench.SPEAKERS * 2)
    text = table.set_index("stimulus_id")["text"]
    words = stimuli.words.set_index("stimulus_id")
    for _, group in table.groupby("item_id"):
        sentences = {text[s][:words.loc[s, "char_end"]].rsplit(": ", 1)[1]
                     for s in group["stimulus_id"]}
        assert len(sentences) == 1 and next(iter(sentences)).endswith(".")
    assert (words["char_end"] == text.loc[words.index].str.len()).all()  # the last character


@pytest.fixture
def lm(make_model):
    template, specials, _ = FAMILIES["chatml"]
    model, tokenizer = make_model("gpt2")
    tokenizer.add_special_tokens({"additional_special_tokens": specials})
    tokenizer.chat_template = template
    model.resize_token_embeddings(len(tokenizer))
    return LanguageModel.from_objects(model, tokenizer)


def test_states_are_the_models_hidden_states_at_the_full_stop(stimuli, lm):
    states, layers = bench.sentence_states(lm, stimuli)
    rendered = render_for_model(stimuli, lm)
    for row, sid in enumerate(stimuli.table["stimulus_id"]):
        text = rendered.table.set_index("stimulus_id").loc[sid, "text"]
        end = text.index("<|im_end|>", rendered.messages.query("stimulus_id == @sid")
                         ["char_start"].max())
        enc = lm.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        last = max(i for i, (a, _) in enumerate(enc["offset_mapping"]) if a < end) + 1
        ids = torch.tensor([[lm.start_token_id, *enc["input_ids"]]])
        with torch.no_grad():
            hidden = lm.model(ids, output_hidden_states=True).hidden_states
        expected = np.stack([hidden[layer][0, last].numpy() for layer in layers])
        np.testing.assert_allclose(states[row], expected, rtol=1e-6, atol=1e-8)
