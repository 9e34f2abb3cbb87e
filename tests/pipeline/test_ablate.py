"""``probing ablate``: run folder, consistency with the analysis, bad unit tables refused
before the model loads."""

import json

import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.causal import ABLATION_COLUMNS
from probing.cli.main import main
from probing.pipeline.ablate import run_ablate
from probing.pipeline.causal_inputs import CausalOptions
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
    tables = run_ablate(PARADIGM, gpt2, tmp_path / "run", units=units,
                        options=CausalOptions(**FAST))
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
    assert random["effect"].iloc[0] == pytest.approx(
        null.loc[null["metric"] == "logprob_diff", "effect"].mean())
    behaviour = tables["ablation_behaviour"].set_index(["unit_set", "metric"])["value"]
    effect = given.set_index("metric")["effect"]
    assert behaviour[("given", "logprob_diff")] - behaviour[("none", "logprob_diff")] == \
        pytest.approx(effect["logprob_diff"])
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["notes"]["n_units"] == 3


def test_zero_ablation_of_a_whole_layer_changes_behaviour_and_mean_differs(gpt2, tmp_path):
    rows = [(1, "resid_post", u) for u in range(32)]  # the tiny GPT-2's full width
    units = _units(tmp_path, rows)
    zero = run_ablate(PARADIGM, gpt2, tmp_path / "zero", units=units,
                      options=CausalOptions(**FAST))["ablation_behaviour"]
    mean = run_ablate(PARADIGM, gpt2, tmp_path / "mean", units=units,
                      options=CausalOptions(op="mean", **FAST))["ablation_behaviour"]
    key = (zero["unit_set"] == "given") & (zero["metric"] == "logprob_diff")
    plain = zero[(zero["unit_set"] == "none") & (zero["metric"] == "logprob_diff")]
    assert zero.loc[key, "value"].iloc[0] != pytest.approx(plain["value"].iloc[0])
    assert zero.loc[key, "value"].iloc[0] != pytest.approx(mean.loc[key, "value"].iloc[0])


def test_selected_column_keeps_only_selected_rows(gpt2, tmp_path):
    path = tmp_path / "units.csv"
    pd.DataFrame({"layer": [1, 1, 2], "site": "mlp_out", "unit": [0, 1, 2],
                  "selected": [True, False, True]}).to_csv(path, index=False)
    tables = run_ablate(PARADIGM, gpt2, tmp_path / "run", units=path,
                        options=CausalOptions(**FAST))
    assert tables["units"][["layer", "unit"]].values.tolist() == [[1, 0], [2, 2]]


def test_factorial_paradigm_measures_prediction_accuracy(gpt2, tmp_path):
    units = _units(tmp_path, [(1, "attn_out", 4)])
    table = run_ablate(PARADIGMS / "syntaxgym_number_src.yaml", gpt2, tmp_path / "run",
                       units=units, options=CausalOptions(**FAST))["ablation"]
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
        run_ablate(PARADIGM, never_loaded, tmp_path / "run", units=units)
    assert not (tmp_path / "run").exists()


def test_missing_file_and_columns(tmp_path):
    with pytest.raises(ProbingError, match="no such file"):
        run_ablate(PARADIGM, never_loaded, tmp_path / "run", units=tmp_path / "none.csv")
    path = tmp_path / "u.csv"
    pd.DataFrame({"layer": [1], "unit": [2]}).to_csv(path, index=False)
    with pytest.raises(ProbingError, match=r"missing column\(s\) \['site'\]"):
        run_ablate(PARADIGM, never_loaded, tmp_path / "run", units=path)


def test_unit_out_of_range_is_refused_before_any_forward(gpt2, tmp_path):
    units = _units(tmp_path, [(1, "resid_post", 32)])
    with pytest.raises(ProbingError, match=r"unit 32 is out of range; units must lie in \[0, 32\)"):
        run_ablate(PARADIGM, gpt2, tmp_path / "run", units=units, options=CausalOptions(**FAST))
    units = _units(tmp_path, [(9, "resid_post", 1)], name="u2.csv")
    with pytest.raises(ProbingError, match=r"unknown layer\(s\) \[9\]"):
        run_ablate(PARADIGM, gpt2, tmp_path / "run", units=units, options=CausalOptions(**FAST))
    assert not (tmp_path / "run").exists()


def test_rsa_paradigm_is_refused(tmp_path):
    units = _units(tmp_path, [(1, "resid_post", 3)])
    with pytest.raises(ProbingError, match="probing ablate needs kind: minimal_pairs or "
                                           "factorial"):
        run_ablate(PARADIGMS / "rsa_number_animacy.yaml", never_loaded, tmp_path / "run",
                   units=units)


@pytest.mark.parametrize("argv,message", [
    (["ablate", "PARADIGM", "--units", "missing.csv"], "--units missing.csv: no such file"),
    (["ablate", "PARADIGM", "--units", "UNITS", "--n-sets", "0"], "--n-sets must be >= 1"),
    (["patch", "PARADIGM", "--per-head"], "--per-head needs --site head_out"),
    (["patch", "PARADIGM", "--layers", "a"], "--layers 'a'"),
    (["mediate", "PARADIGM", "--contrast", "tense"], "--contrast 'tense'"),
    (["mediate", "PARADIGM", "--top-k", "0"], "--top-k must be >= 1"),
], ids=["units-file", "n-sets", "per-head", "layers", "contrast", "top-k"])
def test_cli_bad_input_exits_2_before_loading(tmp_path, capsys, monkeypatch, argv, message):
    import probing.cli.causal as cli

    monkeypatch.setattr(cli, "load_from_args", lambda args: never_loaded())
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
    from probing.pipeline.ablate import _limit, _score

    head_dim = gpt2.model.config.n_embd // gpt2.model.config.n_head
    units = _units(tmp_path, [(1, "head_out", head_dim + u) for u in range(head_dim)])
    tables = run_ablate(PARADIGM, gpt2, tmp_path / "run", units=units,
                        options=CausalOptions(**FAST))
    rows = tables["ablation_behaviour"]
    got = rows.loc[(rows["unit_set"] == "given") & (rows["metric"] == "logprob_diff"), "value"]
    stimuli = _limit(generate(load_paradigm(PARADIGM)), FAST["limit"])
    _, plain = _score(gpt2, stimuli, [], CausalOptions(**FAST))
    _, want = _score(gpt2, stimuli, [Intervention(layer=1, site="head_out", heads=(1,))],
                     CausalOptions(**FAST))
    assert float(got.iloc[0]) == pytest.approx(want["logprob_diff"].mean(), abs=1e-9)
    assert want["logprob_diff"].mean() != pytest.approx(plain["logprob_diff"].mean())
    # the null of a whole head is whole heads of the same layer, written beside the result
    sets = pd.read_csv(tmp_path / "run" / "random_sets.csv")
    assert len(sets) == FAST["n_sets"] * head_dim and set(sets["layer"]) == {1}
    for _, one in sets.groupby("set"):
        heads = one["unit"] // head_dim
        assert heads.nunique() == 1 and sorted(one["unit"] % head_dim) == list(range(head_dim))
