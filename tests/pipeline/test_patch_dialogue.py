"""``probing patch`` on dialogue pairs, addressed by message, role or span: the chat
template's tokens, patched at a region's last token, equal a plain forward hook."""

import pytest
import torch

from probing._core.errors import ProbingError
from probing.cli.main import main
from probing.models import LanguageModel
from probing.models.chat import render_chat
from probing.paradigms import generate, load_paradigm
from probing.pipeline.commands.patch import PatchOptions, run_patch
from tests.conftest import PARADIGMS
from tests.pipeline.test_dialogue_run import _chat_lm

LEXICON = (PARADIGMS.parent / "data" / "lexicon" / "english_core.tsv").resolve()


def _paradigm(tmp_path, red="big", blue="bad"):
    """Words split alike by the tiny tokenizer by default (big / bad: 3 tokens each)."""
    path = tmp_path / f"facts_{blue}.yaml"
    path.write_text(f"""name: facts
version: 1
kind: dialogue
description: a fact told by the user, then thanks
reference: test
seed: 0
lexicon: {LEXICON}
factors:
  colour: [red, blue]
slots:
  thing: {{pos: noun, number: sg, animacy: inanimate}}
messages:
  - role: system
    content: Be brief.
  - role: user
    content:
      red: "The {{thing}} is {red}."
      blue: "The {{thing}} is {blue}."
  - role: assistant
    content: I see.
  - role: user
    content: Thanks a lot.
items_per_cell: 3
""", encoding="utf-8")
    return path


@pytest.fixture
def chat_lm(make_model):
    model, tokenizer = _chat_lm(make_model, "chatml", "gpt2")
    return LanguageModel.from_objects(model.to(torch.float64), tokenizer)


def _hooked(lm, source, target, layer, ps, pt):
    """The sentence read-out of ``target`` with ``source``'s layer state at ``ps`` written
    at ``pt`` (a forward hook on block ``layer - 1``), from plain torch."""
    model = lm.model
    with torch.no_grad():
        state = model(torch.tensor([source]), output_hidden_states=True).hidden_states[layer][0, ps]

        def hook(module, args, output):
            hidden = output[0] if isinstance(output, tuple) else output
            hidden[0, pt] = state
            return output

        handle = model.transformer.h[layer - 1].register_forward_hook(hook)
        try:
            logp = torch.log_softmax(model(torch.tensor([target])).logits[0], dim=-1)
        finally:
            handle.remove()
    steps = torch.arange(len(target) - 1)
    return float((logp[steps, source[1:]] - logp[steps, target[1:]]).sum())


def _ids_and_position(lm, text, span):
    enc = lm.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    inside = [i for i, (a, _) in enumerate(enc["offset_mapping"]) if span[0] <= a < span[1]]
    return [lm.start_token_id, *enc["input_ids"]], inside[-1] + 1  # after the start token


@pytest.mark.parametrize("region, message", [("user_1", "user_1"), ("user", "user_2"),
                                             ("thing", "thing")])
def test_patching_a_region_equals_a_forward_hook(chat_lm, tmp_path, region, message):
    path = _paradigm(tmp_path)
    options = PatchOptions(contrast="colour", region=region, layers="1", n_boot=10)
    tables = run_patch(path, chat_lm, tmp_path / f"run-{region}", options=options)
    assert tables["excluded_pairs"].empty
    rows = tables["patching_pairs"]
    assert set(rows["position"].str.split(":").str[1]) == {message}
    chat = render_chat(generate(load_paradigm(path)), chat_lm.tokenizer)
    text = chat.table.set_index("stimulus_id")["text"]
    spans = chat.regions[chat.regions["region"] == message].set_index("stimulus_id")
    pairs = tables["patch_pairs"].set_index("pair_id")
    for pair_id, row in rows.set_index("pair_id").iterrows():
        ids = {}
        for member in ("source", "target"):
            sid = chat.table.loc[chat.table["text"] == pairs.loc[pair_id, member],
                                 "stimulus_id"].iat[0]
            ids[member] = _ids_and_position(chat_lm, text[sid], (spans.loc[sid, "char_start"],
                                                                  spans.loc[sid, "char_end"]))
        (source, ps), (target, pt) = ids["source"], ids["target"]
        expected = _hooked(chat_lm, source, target, 1, ps, pt)
        assert row["patched"] == pytest.approx(expected, abs=1e-8)


def test_a_region_that_tokenizes_differently_is_refused_with_a_reason(chat_lm, tmp_path):
    path = _paradigm(tmp_path, red="red", blue="blue")  # 2 and 4 tokens
    options = PatchOptions(contrast="colour", region="user_1", layers="1", n_boot=10)
    with pytest.raises(ProbingError, match=r"no pair can be aligned .* first reason: word \d+ "
                       r"\('red\.<\|im_end\|>' / 'blue\.<\|im_end\|>'\) has 4 and 6 "
                       r"tokens: the sentence read-out needs every word split alike"):
        run_patch(path, chat_lm, tmp_path / "run", options=options)


def test_bad_dialogue_input_is_one_line_before_the_model_loads(tmp_path, capsys):
    path = str(_paradigm(tmp_path))
    missing = str(tmp_path / "no-model")  # nothing to load: the errors come first
    cases = [([], "a dialogue paradigm has no good and bad members: give --contrast FACTOR "
                  "to pair its dialogues; allowed: colour"),
             (["--contrast", "colour", "--region", "tool"],
              "--region 'tool' is no region of it; allowed system_1, user_1, thing, "
              "assistant_1, user_2, answer, system, user, assistant")]
    for extra, message in cases:
        assert main(["patch", path, "--model", missing, "--out", str(tmp_path / "o"),
                     *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "o").exists()
