"""`probing run` on a dialogue paradigm: rendered with the chat template, scored per message."""

import json

import pandas as pd
import pytest
import torch

from probing.cli.main import main
from probing.models import LanguageModel
from probing.models.chat import chat_token_ids, render_chat, render_for_model
from probing.models.scoring import score_tokens
from probing.paradigms import generate, load_paradigm
from tests.conftest import PARADIGMS
from tests.models.test_chat import FAMILIES

SHIPPED = PARADIGMS / "source_monitoring.yaml"


def _chat_lm(make_model, family, arch):
    template, specials, extra = FAMILIES[family]
    model, tokenizer = make_model(arch)
    tokenizer.add_special_tokens({"additional_special_tokens": specials, **extra})
    tokenizer.chat_template = template
    model.resize_token_embeddings(len(tokenizer))
    return model, tokenizer


@pytest.fixture(scope="module")
def dialogues():
    return generate(load_paradigm(SHIPPED), seed=1)


@pytest.mark.parametrize("family, arch, prepended", [("chatml", "gpt2", True),
                                                      ("llama3", "llama", False)],
                         ids=["chatml-start-token", "llama3-bos-from-template"])
def test_scored_ids_are_the_templates_ids(make_model, dialogues, family, arch, prepended):
    model, tokenizer = _chat_lm(make_model, family, arch)
    start = "<|begin_of_text|>" if family == "llama3" else "auto"
    lm = LanguageModel.from_objects(model, tokenizer, start_token=start)
    rendered = render_for_model(dialogues, lm)
    assert rendered.info["rendering"]["start_token_prepended"] is prepended
    template = render_chat(dialogues, tokenizer)
    tokens = score_tokens(lm, rendered.table[["stimulus_id", "text"]])
    for sid, group in tokens.groupby("stimulus_id", sort=False):
        text = template.table.set_index("stimulus_id").loc[sid, "text"]
        expected = chat_token_ids(tokenizer, text)
        seen = ([] if prepended else [lm.start_token_id]) + group["token_id"].tolist()
        assert seen == expected
    regions = rendered.regions.merge(rendered.table[["stimulus_id", "text"]], on="stimulus_id")
    before = dialogues.regions.merge(dialogues.table[["stimulus_id", "text"]], on="stimulus_id")
    assert [t[s:e] for t, s, e in zip(regions["text"], regions["char_start"], regions["char_end"],
                                     strict=True)] == \
        [t[s:e] for t, s, e in zip(before["text"], before["char_start"], before["char_end"],
                                   strict=True)]


@pytest.fixture
def chat_model_dir(make_model, tmp_path):
    model, tokenizer = _chat_lm(make_model, "chatml", "gpt2")
    model.to(torch.float32).save_pretrained(tmp_path / "chat-gpt2")
    tokenizer.save_pretrained(tmp_path / "chat-gpt2")
    return tmp_path / "chat-gpt2"


def test_cli_run_scores_each_message_and_records_the_template(chat_model_dir, tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(SHIPPED), "--model", str(chat_model_dir), "--out", str(out)]) == 0
    regions = pd.read_csv(out / "regions.csv")
    assistant = regions[regions["region"] == "assistant_1"]
    assert len(assistant) == 32 and assistant["surprisal"].notna().all()
    assert {"system_1", "user_1", "thing", "quality"} <= set(regions["region"])
    manifest = json.loads((out / "manifest.json").read_text())
    rendering = manifest["notes"]["rendering"]
    assert rendering["template"] == "model" and rendering["chat_template"] == FAMILIES["chatml"][0]
    stimuli = pd.read_csv(out / "stimuli.csv")
    assert stimuli["text"].str.startswith("<|im_start|>system\n").all()


def test_cli_plain_rendering(chat_model_dir, tmp_path):
    out = tmp_path / "plain"
    assert main(["run", str(SHIPPED), "--model", str(chat_model_dir), "--out", str(out),
                 "--rendering", "plain"]) == 0
    stimuli = pd.read_csv(out / "stimuli.csv")
    assert stimuli["text"].str.startswith("System: You are a helpful assistant.").all()


def test_a_model_without_a_template_is_refused_before_loading(make_model, tmp_path, capsys):
    model, tokenizer = make_model("gpt2")
    folder = tmp_path / "base"
    tokenizer.save_pretrained(folder)  # config and tokenizer, no weights: loading would fail
    model.config.save_pretrained(folder)
    out = tmp_path / "run"
    assert main(["run", str(SHIPPED), "--model", str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "has no chat template" in err
    assert not out.exists()


def test_extraction_at_a_message_is_the_mean_hidden_state_of_its_tokens(make_model, dialogues):
    from probing.pipeline.extraction import extract_activations

    model, tokenizer = _chat_lm(make_model, "chatml", "gpt2")
    lm = LanguageModel.from_objects(model, tokenizer)
    acts = extract_activations(lm, dialogues, layers="all", pooling="region:assistant_1",
                               cache=False)
    rendered = render_for_model(dialogues, lm)
    for row, sid in enumerate(acts.index["stimulus_id"][:4]):
        text = rendered.table.set_index("stimulus_id").loc[sid, "text"]
        region = rendered.regions[(rendered.regions["stimulus_id"] == sid)
                                  & (rendered.regions["region"] == "assistant_1")].iloc[0]
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        # a token's first non-space character places it (+ 1: the start token in front)
        firsts = [s + len(text[s:e]) - len(text[s:e].lstrip()) for s, e in encoded["offset_mapping"]]
        inside = [i + 1 for i, s in enumerate(firsts) if region.char_start <= s < region.char_end]
        ids = torch.tensor([[lm.start_token_id, *encoded["input_ids"]]])
        with torch.no_grad():
            hidden = model(ids, output_hidden_states=True).hidden_states
        expected = torch.stack([h[0, inside].mean(0) for h in hidden]).numpy()
        assert abs(acts.values[row][:-1] - expected[:-1]).max() < 1e-5
