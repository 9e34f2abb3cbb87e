"""benchmarks/task_drift.py on a tiny chat model: deltas against plain torch, causal runs."""

import importlib.util

import numpy as np
import pytest
import torch

from probing._core.config import config_context
from probing.models import LanguageModel
from probing.models.chat import render_for_model
from tests.conftest import REPO
from tests.models.test_chat import FAMILIES

_spec = importlib.util.spec_from_file_location("task_drift", REPO / "benchmarks" / "task_drift.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.fixture(scope="module")
def stimuli():
    return bench.load_conversations(items_per_suite=1)


@pytest.fixture
def lm(make_model):
    template, specials, _ = FAMILIES["chatml"]
    model, tokenizer = make_model("gpt2", max_positions=1024)  # a character-level tokenizer
    tokenizer.add_special_tokens({"additional_special_tokens": specials})
    tokenizer.chat_template = template
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    return LanguageModel.from_objects(model, tokenizer)


def _last_token(offsets, char):
    return max(i for i, (s, _) in enumerate(offsets) if s <= char)


def test_delta_is_the_tool_end_minus_the_user_end_state(lm, stimuli, tmp_path):
    assert len(stimuli.table) == 12 and set(stimuli.table["condition"]) == {"clean", "injected", "benign"}
    with config_context(cache_dir=tmp_path):
        delta, layers = bench.deltas(lm, stimuli)
    rendered = render_for_model(stimuli, lm)
    regions = rendered.regions.set_index(["stimulus_id", "region"])
    for row, sid in enumerate(rendered.table["stimulus_id"]):
        text = rendered.table["text"].iloc[row]
        enc = lm.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = torch.tensor([[lm.start_token_id, *enc["input_ids"]]])
        with torch.no_grad():
            hidden = lm.model(ids, output_hidden_states=True).hidden_states
        user = 1 + _last_token(enc["offset_mapping"], regions.loc[(sid, "user_end"), "char_start"])
        tool = 1 + _last_token(enc["offset_mapping"], regions.loc[(sid, "tool_end"), "char_start"])
        for j, layer in enumerate(layers[:-1]):  # the last hidden state is after the final norm
            expected = (hidden[layer][0, tool] - hidden[layer][0, user]).numpy()
            np.testing.assert_allclose(delta[row, j], expected, rtol=1e-4, atol=1e-5)


def test_causal_runs_score_both_replies_and_edit_only_injected_tool_outputs(lm, stimuli, tmp_path):
    width = lm.model.config.hidden_size
    direction = np.eye(width)[0]
    short = stimuli.table.loc[stimuli.table["suite"].isin(["banking", "slack"]), "stimulus_id"]
    # (the travel and workspace tool outputs pass the tiny model's 1,024 character positions)
    table = bench.run_causal(tmp_path, bench._subset(stimuli, short), lm, 1, direction,
                             items_per_suite=1, n_random=2)
    assert set(table["reply"]) == {"follow", "obey"}
    assert sorted(table.loc[table["edit"] == "random_direction", "seed"].unique()) == [0, 1]
    assert set(table["edit"]) == {"none", "probe_direction", "random_direction"}
    assert set(table.loc[table["edit"] != "none", "condition"]) == {"injected"}
    wide = table.pivot_table(index=["stimulus_id", "condition"], columns="edit", values="logprob")
    injected = wide.xs("injected", level="condition")
    assert not np.allclose(injected["none"], injected["probe_direction"])


def test_causal_summary_is_the_item_mean_of_preference_changes():
    import pandas as pd

    rows = []
    for item, shift in (("a", 0.2), ("b", 0.4)):
        runs = [("clean", "none", None, -1.0), ("injected", "none", None, -1.0 + shift),
                ("injected", "probe_direction", None, -1.0),
                ("injected", "random_direction", 0, -1.0 + shift + 0.1),
                ("injected", "random_direction", 1, -1.0 + shift - 0.5)]
        for condition, edit, seed, obey in runs:
            rows += [{"item_id": item, "condition": condition, "edit": edit, "seed": seed,
                      "reply": "obey", "logprob": obey},
                     {"item_id": item, "condition": condition, "edit": edit, "seed": seed,
                      "reply": "follow", "logprob": -2.0}]
    table = bench.summarize_causal(pd.DataFrame(rows), n_boot=50)
    by = table[table["seed"].isna()].set_index("contrast")
    assert by.loc["injection", "estimate"] == pytest.approx(0.3)
    assert by.loc["probe_direction", "estimate"] == pytest.approx(-0.3)
    assert by.loc["random_directions", "estimate"] == pytest.approx(-0.2)  # mean of +0.1 and -0.5
    assert by.loc["injection", "n_items"] == 2
    seeds = table[table["contrast"] == "random_direction"].set_index("seed")["estimate"]
    assert seeds.loc[0] == pytest.approx(0.1) and seeds.loc[1] == pytest.approx(-0.5)
    # -0.3 is below one of the two random means (+0.1) and above the other: p = (1 + 1) / 3
    assert by.loc["probe_direction", "p_val"] == pytest.approx(2 / 3)


def test_probe_tables_report_the_chosen_layer_and_every_layer():
    import pandas as pd

    table = bench.load_conversations(items_per_suite=5).table  # 20 items, one per cell
    rng = np.random.default_rng(0)
    delta = rng.normal(size=(len(table), 3, 8))
    injected = (table["condition"] == "injected").to_numpy()
    delta[injected, 1, 0] += 4.0  # layer 1 marks the injection in every suite
    out = bench.probe_tables(delta, table, [0, 1, 2], model="m", probe="ridge",
                             control_seeds=(0,), n_boot=100)
    curve = out["curve"].set_index(["task", "contrast", "layer"])["estimate"]
    assert curve.loc[("task", "injected-clean", 1)] > 0.95
    assert set(out["choices"].loc[out["choices"]["task"] == "task", "layer"]) == {1}
    chosen = out["chosen"].set_index(["task", "contrast"])
    assert chosen.loc[("task", "injected-clean"), "estimate"] == pytest.approx(
        curve.loc[("task", "injected-clean", 1)])
    assert chosen["n_items"].eq(20).all() and len(out["choices"]) == 40  # 20 folds x 2 label sets
    assert bench.causal_layer(out["choices"].assign(model="smollm2-135m"), "ridge") == 1
    assert isinstance(out["chosen"], pd.DataFrame) and "layer" not in out["chosen"]
