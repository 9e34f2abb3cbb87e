"""``probing ablate``: run folder, consistency with the analysis, bad unit tables refused
before the model loads."""

import json

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.causal import ABLATION_COLUMNS
from probing.cli.main import main
from probing.pipeline.commands.ablate import AblateOptions, run_ablate
from tests.conftest import PARADIGMS

PARADIGM = PARADIGMS / "agreement_pp_attractor.yaml"
FAST = {"limit": 3, "n_boot": 50, "n_sets": 5, "batch_size": 16}


@pytest.fixture
def gpt2(make_lm):
    return make_lm("gpt2")


def never_loaded():
    raise AssertionError("the model was loaded although an input was bad")


def _units(tmp_path, rows, name="units.csv", **extra):
    path = tmp_path / name
    pd.DataFrame(rows, columns=["layer", "site", "unit"]).assign(**extra).to_csv(path, index=False)
    return path


def test_ablate_run_folder(gpt2, tmp_path):
    units = _units(tmp_path, [(1, "resid_post", 3), (1, "resid_post", 5), (2, "mlp_out", 0)])
    tables = run_ablate(PARADIGM, gpt2, tmp_path / "run", options=AblateOptions(units=units, **FAST))
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == sorted(["manifest.json", "ablation.csv", "ablation_behaviour.csv",
                            "ablation_null.csv", "units.csv", "random_sets.csv",
                            "ablation.png"])
    table = pd.read_csv(tmp_path / "run" / "ablation.csv")
    assert list(table.columns) == [*ABLATION_COLUMNS, "model", "paradigm"]
    assert set(table["metric"]) == {"logprob_diff", "accuracy"}
    assert (table["n"] == 12).all() and (table["n_sets"] == 5).all()  # 3 items x 4 pairs
    given = table[table["unit_set"] == "given"]
    assert (given["p_val"] >= 1 / 6).all()
    null = tables["ablation_null"]
    assert len(null) == 2 * 5
    # the random row's effect is the mean of the random sets' effects
    random = table[(table["unit_set"] == "random") & (table["metric"] == "logprob_diff")]
    assert random["estimate"].iloc[0] == pytest.approx(
        null.loc[null["metric"] == "logprob_diff", "estimate"].mean())
    behaviour = tables["ablation_behaviour"].set_index(["unit_set", "metric"])["estimate"]
    effect = given.set_index("metric")["estimate"]
    assert behaviour[("given", "logprob_diff")] - behaviour[("none", "logprob_diff")] == \
        pytest.approx(effect["logprob_diff"])
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["notes"]["n_units"] == 3


def test_zero_ablation_of_a_whole_layer_changes_behaviour_and_mean_differs(gpt2, tmp_path):
    rows = [(1, "resid_post", u) for u in range(32)]  # the tiny GPT-2's full width
    units = _units(tmp_path, rows)
    zero = run_ablate(PARADIGM, gpt2, tmp_path / "zero", options=AblateOptions(units=units, **FAST))["ablation_behaviour"]
    mean = run_ablate(PARADIGM, gpt2, tmp_path / "mean", options=AblateOptions(units=units, ablation="mean", **FAST))["ablation_behaviour"]
    key = (zero["unit_set"] == "given") & (zero["metric"] == "logprob_diff")
    plain = zero[(zero["unit_set"] == "none") & (zero["metric"] == "logprob_diff")]
    assert zero.loc[key, "estimate"].iloc[0] != pytest.approx(plain["estimate"].iloc[0])
    assert zero.loc[key, "estimate"].iloc[0] != pytest.approx(mean.loc[key, "estimate"].iloc[0])


def test_selected_column_keeps_only_selected_rows(gpt2, tmp_path):
    path = tmp_path / "units.csv"
    pd.DataFrame({"layer": [1, 1, 2], "site": "mlp_out", "unit": [0, 1, 2],
                  "selected": [True, False, True]}).to_csv(path, index=False)
    tables = run_ablate(PARADIGM, gpt2, tmp_path / "run", options=AblateOptions(units=path, **FAST))
    assert tables["units"][["layer", "unit"]].values.tolist() == [[1, 0], [2, 2]]


def test_factorial_paradigm_measures_prediction_accuracy(gpt2, tmp_path):
    units = _units(tmp_path, [(1, "attn_out", 4)])
    table = run_ablate(PARADIGMS / "syntaxgym_number_src.yaml", gpt2, tmp_path / "run",
                       options=AblateOptions(units=units, **FAST))["ablation"]
    assert set(table["metric"]) == {"accuracy"} and table["phenomenon"].nunique() >= 1


@pytest.mark.parametrize("rows,extra,message", [
    ([(1, "resid_post", 3)], {"layer": ["x"]}, "layer must hold whole numbers"),
    ([(1, "nowhere", 3)], {}, r"unknown site\(s\) \['nowhere'\]"),
    ([(1, "resid_post", -3)], {}, "layer and unit must be >= 0"),
    ([(1, "resid_post", 3), (1, "resid_post", 3)], {}, "is listed twice"),
], ids=["layer", "site", "negative", "duplicate"])
def test_bad_unit_table_never_loads_the_model(tmp_path, rows, extra, message):
    units = _units(tmp_path, rows, **extra)
    with pytest.raises(ProbingError, match=message):
        run_ablate(PARADIGM, never_loaded, tmp_path / "run", options=AblateOptions(units=units))
    assert not (tmp_path / "run").exists()


def test_missing_file_and_columns(tmp_path):
    with pytest.raises(ProbingError, match="no such file"):
        run_ablate(PARADIGM, never_loaded, tmp_path / "run", options=AblateOptions(units=tmp_path / "none.csv"))
    path = tmp_path / "u.csv"
    pd.DataFrame({"layer": [1], "unit": [2]}).to_csv(path, index=False)
    with pytest.raises(ProbingError, match=r"missing column\(s\) \['site'\]"):
        run_ablate(PARADIGM, never_loaded, tmp_path / "run", options=AblateOptions(units=path))


def test_unit_out_of_range_is_refused_before_any_forward(gpt2, tmp_path):
    units = _units(tmp_path, [(1, "resid_post", 32)])
    with pytest.raises(ProbingError, match=r"unit 32 is out of range; units must lie in \[0, 32\)"):
        run_ablate(PARADIGM, gpt2, tmp_path / "run", options=AblateOptions(units=units, **FAST))
    units = _units(tmp_path, [(9, "resid_post", 1)], name="u2.csv")
    with pytest.raises(ProbingError, match=r"unknown layer\(s\) \[9\]"):
        run_ablate(PARADIGM, gpt2, tmp_path / "run", options=AblateOptions(units=units, **FAST))
    assert not (tmp_path / "run").exists()


def test_rsa_paradigm_is_refused(tmp_path):
    units = _units(tmp_path, [(1, "resid_post", 3)])
    with pytest.raises(ProbingError, match="probing ablate needs kind: minimal_pairs or "
                                           "factorial"):
        run_ablate(PARADIGMS / "rsa_number_animacy.yaml", never_loaded, tmp_path / "run",
                   options=AblateOptions(units=units))


@pytest.mark.parametrize("argv,message", [
    (["ablate", "PARADIGM", "--units", "missing.csv"], "--units missing.csv: no such file"),
    (["ablate", "PARADIGM", "--units", "UNITS", "--n-sets", "0"], "n_sets must be >= 1"),
    (["patch", "PARADIGM", "--per-head"], "--per-head needs --site head_out"),
    (["patch", "PARADIGM", "--layers", "a"], "got 'a'"),
    (["mediate", "PARADIGM", "--contrast", "tense"], "--contrast 'tense'"),
    (["mediate", "PARADIGM", "--top-k", "0"], "top_k must be >= 1"),
], ids=["units-file", "n-sets", "per-head", "layers", "contrast", "top-k"])
def test_cli_bad_input_exits_2_before_loading(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.setattr("probing.models.load_model", lambda *args, **kwargs: never_loaded())
    monkeypatch.chdir(tmp_path)
    units = _units(tmp_path, [(1, "resid_post", 3)])
    argv = [str(PARADIGM) if a == "PARADIGM" else str(units) if a == "UNITS" else a
            for a in argv]
    assert main([*argv, "--model", str(tmp_path / "no-model"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "o").exists()


def test_head_out_units_count_across_heads(gpt2, tmp_path):
    # mediate's top_units.csv numbers head_out units across heads (head * head_dim + u);
    # ablating all of head 1's units is zeroing head 1 (they were refused: "units 0..15")
    from probing.interventions import Intervention
    from probing.paradigms import generate, load_paradigm
    from probing.pipeline.ablate_run import _limit, _score

    head_dim = gpt2.model.config.n_embd // gpt2.model.config.n_head
    units = _units(tmp_path, [(1, "head_out", head_dim + u) for u in range(head_dim)])
    tables = run_ablate(PARADIGM, gpt2, tmp_path / "run", options=AblateOptions(units=units, **FAST))
    rows = tables["ablation_behaviour"]
    got = rows.loc[(rows["unit_set"] == "given") & (rows["metric"] == "logprob_diff"), "estimate"]
    stimuli = _limit(generate(load_paradigm(PARADIGM)), FAST["limit"])
    _, plain = _score(gpt2, stimuli, [], AblateOptions(**FAST))
    _, want = _score(gpt2, stimuli, [Intervention(layer=1, site="head_out", heads=(1,))],
                     AblateOptions(**FAST))
    assert float(got.iloc[0]) == pytest.approx(want["logprob_diff"].mean(), abs=1e-9)
    assert want["logprob_diff"].mean() != pytest.approx(plain["logprob_diff"].mean())
    # the null of a whole head is whole heads of the same layer, written beside the result
    sets = pd.read_csv(tmp_path / "run" / "random_sets.csv")
    assert len(sets) == FAST["n_sets"] * head_dim and set(sets["layer"]) == {1}
    for _, one in sets.groupby("set"):
        heads = one["unit"] // head_dim
        assert heads.nunique() == 1 and sorted(one["unit"] % head_dim) == list(range(head_dim))


def _hooked_logprob_diff(lm, stimuli, layer, units, value_of):
    """Mean good-minus-bad log-probability with a plain forward hook on block ``layer``'s
    output setting ``units`` at every token of the stimulus (the start token prepended
    to it is left alone) to ``value_of(i)`` (stimulus ``i``)."""
    import torch

    from probing.models import score_tokens

    table = stimuli.table
    sums = {}
    def setter(value):
        def hook(module, args, output):
            hidden = output[0] if isinstance(output, tuple) else output
            hidden[:, 1:, list(units)] = value.to(hidden.dtype)
            return output
        return hook

    for i, row in enumerate(table.itertuples(index=False)):
        hook = setter(torch.as_tensor(value_of(i)))
        handle = lm.model.transformer.h[layer - 1].register_forward_hook(hook)
        try:
            tokens = score_tokens(lm, table.iloc[[i]][["stimulus_id", "text"]])
        finally:
            handle.remove()
        sums[row.stimulus_id] = tokens["logprob"].sum()
    good = table[table["role"] == "good"].set_index("pair_id")["stimulus_id"]
    bad = table[table["role"] == "bad"].set_index("pair_id")["stimulus_id"].loc[good.index]
    return float(np.mean([sums[g] - sums[b] for g, b in zip(good, bad, strict=True)]))


@pytest.mark.parametrize("ablation", ["zero", "mean", "resample"])
def test_each_ablation_equals_a_plain_hook(gpt2, tmp_path, ablation):
    import torch

    from probing.paradigms import generate, load_paradigm
    from probing.pipeline.ablate_run import _limit, resample_draws

    layer, units = 1, (3, 5)
    path = _units(tmp_path, [(layer, "resid_post", u) for u in units])
    options = AblateOptions(units=path, ablation=ablation, limit=2, n_sets=1, n_boot=10)
    tables = run_ablate(PARADIGM, gpt2, tmp_path / "run", options=options)
    rows = tables["ablation_behaviour"].set_index(["unit_set", "metric"])["estimate"]
    stimuli = _limit(generate(load_paradigm(PARADIGM)), 2)
    states = []  # each stimulus's plain block-1 output, start token first
    for text in stimuli.table["text"]:
        ids = [gpt2.start_token_id, *gpt2.tokenizer(text, add_special_tokens=False)["input_ids"]]
        with torch.no_grad():
            out = gpt2.model(torch.tensor([ids]), output_hidden_states=True)
        states.append(out.hidden_states[layer][0, :, list(units)].numpy())
    if ablation == "zero":
        values = [np.zeros(len(units))] * len(states)
    elif ablation == "mean":
        values = [np.concatenate([s[1:] for s in states]).mean(axis=0)] * len(states)
    else:  # the token of another stimulus, drawn as documented
        draws = resample_draws([len(s) - 1 for s in states], options.random_state)
        values = [states[j][1 + t] for j, t in draws]
        assert len({tuple(v) for v in values}) > 1  # not one value for every stimulus
    want = _hooked_logprob_diff(gpt2, stimuli, layer, units, lambda i: values[i])
    assert rows[("given", "logprob_diff")] == pytest.approx(want, abs=1e-9)
    assert want != pytest.approx(rows[("none", "logprob_diff")], abs=1e-6)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["options"]["ablation"] == ablation


def _mediate_folder(tmp_path, paradigm, splits):
    """A unit table as ``probing mediate --split`` leaves it, with its split table."""
    folder = tmp_path / "mediate"
    folder.mkdir()
    units = _units(folder, [(1, "resid_post", 3)], name="top_units.csv", paradigm=paradigm)
    pd.DataFrame({"pair_id": range(len(splits)), "item_id": list(splits),
                  "split": list(splits.values())}).to_csv(folder / "mediation_split.csv",
                                                          index=False)
    return units


def test_units_from_a_mediation_split_are_ablated_on_its_test_items_only(gpt2, tmp_path):
    from probing.pipeline.sources import load_paradigm_value

    items = list(pd.unique(load_paradigm_value(PARADIGM).stimuli.table["item_id"]))
    splits = {items[0]: "selection", items[1]: "both", items[2]: "test", items[3]: "test"}
    units = _mediate_folder(tmp_path, "agreement_pp_attractor", splits)
    options = AblateOptions(units=units, **{**FAST, "limit": 2})
    run_ablate(PARADIGM, gpt2, tmp_path / "run", options=options)
    table = pd.read_csv(tmp_path / "run" / "ablation.csv")
    assert (table["n"] == 8).all()  # the 2 test items x 4 pairs, not the first 2 items
    notes = json.loads((tmp_path / "run" / "manifest.json").read_text())["notes"]
    assert notes["n_items"] == 2  # items, not pairs
    held_out = notes["held_out"]
    assert held_out["n_items_dropped"] == 2
    assert held_out["n_items_held_out"] == len(items) - 2


def test_units_selected_on_another_paradigm_keep_every_item(tmp_path):
    from probing.pipeline.ablate_run import held_out_items
    from probing.pipeline.sources import load_paradigm_value

    paradigm = load_paradigm_value(PARADIGM)
    first = paradigm.stimuli.table["item_id"].iloc[0]
    units = _mediate_folder(tmp_path, "agreement_simple", {first: "selection"})
    stimuli, record = held_out_items(paradigm, units)
    assert record is None and len(stimuli.table) == len(paradigm.stimuli.table)


def test_units_selected_on_every_item_are_refused_before_loading(tmp_path):
    from probing.pipeline.sources import load_paradigm_value

    items = pd.unique(load_paradigm_value(PARADIGM).stimuli.table["item_id"])
    units = _mediate_folder(tmp_path, "agreement_pp_attractor", dict.fromkeys(items, "both"))
    with pytest.raises(ProbingError, match="selected these units"):
        run_ablate(PARADIGM, never_loaded, tmp_path / "run", options=AblateOptions(units=units, **FAST))
    assert not (tmp_path / "run").exists()
