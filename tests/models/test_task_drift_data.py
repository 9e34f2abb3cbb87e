"""data/agentdojo_task_drift: the shipped conversations rebuild, render and keep their spans."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from probing.models.chat import render_chat
from probing.paradigms.importers.jsonl_dialogues import read_dialogue_jsonl
from probing.probes.heldout import heldout_folds

FOLDER = Path(__file__).resolve().parents[2] / "data" / "agentdojo_task_drift"
CHATML = ("{% for message in messages %}"
          "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("agentdojo_build", FOLDER / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lines():
    return [json.loads(line) for line in (FOLDER / "conversations.jsonl").read_text().splitlines()]


def test_the_shipped_conversations_are_what_build_py_makes_from_the_extract(build, lines):
    data = json.loads((FOLDER / "agentdojo_v1.json").read_text())
    assert build.conversations(data) == lines
    assert "MIT License" in (FOLDER / "LICENSE").read_text()


def test_every_item_has_three_conditions_sharing_all_but_the_insertion(lines):
    by_item = {}
    for row in lines:
        by_item.setdefault(row["item_id"], {})[row["condition"]] = row
    assert all(set(v) == {"clean", "injected", "benign"} for v in by_item.values())
    for item in by_item.values():
        injected, benign = item["injected"], item["benign"]
        assert injected["goal"] in injected["messages"][2]["content"]
        assert injected["goal"] not in benign["messages"][2]["content"]
        assert abs(benign["insertion_chars"] - injected["insertion_chars"]) <= max(
            0.05 * injected["insertion_chars"], 2)
        for row in item.values():
            assert row["messages"][:2] == injected["messages"][:2]
            tool = row["messages"][2]["content"]
            span = {s["name"]: s for s in row["spans"]}.get("insertion")
            rest = tool if span is None else tool[:span["start"]] + tool[span["end"]:]
            inj = {s["name"]: s for s in injected["spans"]}["insertion"]
            itool = injected["messages"][2]["content"]
            # equal up to the blank lines an attack template puts around itself
            squeeze = "".join
            assert squeeze(rest.split()) == squeeze((itool[:inj["start"]] + itool[inj["end"]:]).split())


def test_every_conversation_renders_and_its_spans_decode_back(make_tokenizer, lines):
    tokenizer = make_tokenizer("gpt2")
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tokenizer.chat_template = CHATML
    stimuli = read_dialogue_jsonl(FOLDER / "conversations.jsonl")
    chat = render_chat(stimuli, tokenizer)
    text = dict(zip(chat.table["stimulus_id"], chat.table["text"], strict=True))
    regions = chat.regions.set_index(["stimulus_id", "region"])
    for row in lines:
        sid, tool = row["stimulus_id"], row["messages"][2]["content"]
        rendered = text[sid]
        start, end = regions.loc[(sid, "tool_1"), ["char_start", "char_end"]]
        assert rendered[start:end] == tool
        assert rendered[slice(*regions.loc[(sid, "tool_end"), ["char_start", "char_end"]])] == tool[-1]
        user = row["messages"][1]["content"]
        assert rendered[slice(*regions.loc[(sid, "user_end"), ["char_start", "char_end"]])] == user[-1]
        if row["condition"] != "clean":
            s, e = regions.loc[(sid, "insertion"), ["char_start", "char_end"]]
            span = {x["name"]: x for x in row["spans"]}["insertion"]
            assert rendered[s:e] == tool[span["start"]:span["end"]]
            if row["condition"] == "injected":
                assert row["goal"] in rendered[s:e]


def test_held_out_folds_of_the_shipped_design_never_leak_a_suite_or_template(lines):
    suites = np.array([r["suite"] for r in lines])
    templates = np.array([r["template"] for r in lines])
    folds = heldout_folds(suites, templates)
    assert len(folds) == len(set(suites)) * len(set(templates)) == 20
    for train, test in folds:
        assert not set(suites[train]) & set(suites[test])
        assert not set(templates[train]) & set(templates[test])
