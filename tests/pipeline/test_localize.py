"""``probing localize``: the run folder, consistent with the analysis API, and its inputs."""

import json

import numpy as np
import pandas as pd
import pytest

from probing._core.config import config_context
from probing._core.errors import ProbingError
from probing.cli.main import main
from probing.localize import (
    RELIABILITY_COLUMNS,
    UNITS_COLUMNS,
    build_unit_responses,
    localize_units,
    pool_words,
)
from probing.paradigms import generate, load_paradigm
from probing.pipeline.extract import extract_activations
from probing.pipeline.localize import LocalizeOptions, check_localize_inputs, run_localize
from tests.conftest import PARADIGMS
from tests.pipeline.test_extract import model_dir  # noqa: F401

FEDORENKO = PARADIGMS / "fedorenko2010_localizer.yaml"
GENERATED = PARADIGMS / "language_localizer.yaml"
FILES = ["manifest.json", "units.csv", "units_by_half.csv", "reliability.csv",
         "layer_counts.csv", "stimuli.csv", "response_choice.csv", "selected_per_layer.png", "unit_stats.png"]


@pytest.fixture
def gpt2(make_lm):
    return make_lm("gpt2")


def test_run_folder_and_tables(gpt2, tmp_path):
    options = LocalizeOptions(selection="fwe", n_perm=100, nuisance=("n_tokens",),
                              random_state=2)
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_localize(FEDORENKO, gpt2, tmp_path / "run", options=options)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted(FILES)
    units = pd.read_csv(tmp_path / "run" / "units.csv")
    assert list(units.columns) == [*UNITS_COLUMNS, "model", "paradigm", "contrast"]
    assert len(units) == 3 * 32 and (units["contrast"] == "sentences-nonwords").all()
    assert units["p_corr"].between(1 / 101 - 1e-9, 1).all()
    reliability = pd.read_csv(tmp_path / "run" / "reliability.csv")
    assert list(reliability.columns) == [*RELIABILITY_COLUMNS, "model", "contrast", "selection"]
    assert reliability.loc[0, "selected_on"] == "run1" and reliability.loc[0, "measured_on"] == "run2"
    halves = tables["units_by_half"]
    assert sorted(set(halves["half"])) == ["run1", "run2"] and len(halves) == 2 * len(units)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["options"]["responses"] == "raw"
    assert manifest["responses"]["other"] == "absolute"
    assert manifest["responses"]["n_selected_chosen"] == int(units["selected"].sum())
    choice = tables["response_choice"].iloc[0]
    assert choice["n_changed"] == manifest["responses"]["n_changed"]
    assert choice["n_changed"] <= choice["n_selected_chosen"] + choice["n_selected_other"]
    assert manifest["n_stimuli"] == {"sentences": 240, "nonwords": 240}
    assert sum(manifest["selected_per_layer"].values()) == manifest["n_selected"]
    stimuli = pd.read_csv(tmp_path / "run" / "stimuli.csv")
    assert (stimuli["n_tokens"] > 12).all() and set(stimuli["half"]) == {"run1", "run2"}


def test_tables_equal_the_analysis_api(gpt2, tmp_path):
    # The pipeline adds no statistics of its own; halves are the runs, selected separately.
    options = LocalizeOptions(top_percent=5, responses="absolute", layers="1,2", pooling="mean")
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_localize(FEDORENKO, gpt2, tmp_path / "run", options=options)
        stimuli = generate(load_paradigm(FEDORENKO))
        acts = extract_activations(gpt2, stimuli, layers="1,2", pooling="mean")
    responses, units = build_unit_responses(acts, absolute=True)
    conditions = stimuli.table["condition"].to_numpy()
    expected = localize_units(responses, units, conditions, ("sentences", "nonwords"),
                              top_percent=5)
    pd.testing.assert_frame_equal(tables["units"][list(UNITS_COLUMNS)], expected)
    raw = localize_units(build_unit_responses(acts)[0], units, conditions,
                         ("sentences", "nonwords"), top_percent=5)
    choice = tables["response_choice"].iloc[0]
    assert choice["other"] == "raw"
    assert choice["n_changed"] == int((raw["selected"] ^ expected["selected"]).sum())
    run2 = (stimuli.table["run"] == 2).to_numpy()
    expected2 = localize_units(responses[run2], units, conditions[run2],
                               ("sentences", "nonwords"), top_percent=5)
    got2 = tables["units_by_half"].query("half == 'run2'")[list(UNITS_COLUMNS)]
    pd.testing.assert_frame_equal(got2.reset_index(drop=True), expected2)


def test_words_pooling_averages_word_vectors(gpt2, tmp_path):
    options = LocalizeOptions(pooling="words", layers="2", contrast="sentences-word_lists")
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_localize(GENERATED, gpt2, tmp_path / "run", options=options)
        stimuli, _, _ = check_localize_inputs(GENERATED, options)
        words = extract_activations(gpt2, stimuli, layers="2", pooling="mean", level="word")
    responses, _ = build_unit_responses(pool_words(words))
    first = stimuli.table["stimulus_id"].iloc[0]
    rows = np.asarray(words.values)[words.index["stimulus_id"] == first, 0]
    np.testing.assert_allclose(responses[0], rows.mean(0), rtol=1e-5)
    assert set(tables["units_by_half"]["half"]) == {"items_a", "items_b"}
    assert set(tables["stimuli"]["condition"]) == {"sentences", "word_lists"}


@pytest.mark.parametrize("options, message", [
    ({"contrast": "sentences-words"}, r"\['words'\] not a condition; conditions: nonwords, sentences"),
    ({"contrast": "sentences"}, "must be two conditions as A-B"),
    ({"split": "trial"}, "split 'trial' must have exactly two values"),
    ({"split": "block"}, "split 'block': not a stimuli column"),
], ids=["unknown-condition", "one-condition", "split-values", "split-column"])
def test_bad_paradigm_inputs_leave_nothing(gpt2, tmp_path, options, message):
    with pytest.raises(ProbingError, match=message):
        run_localize(FEDORENKO, gpt2, tmp_path / "run", options=LocalizeOptions(**options))
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("options, message", [
    ({"pooling": "first"}, "pooling 'first': allowed last, mean, words"),
    ({"responses": "signed"}, "responses 'signed': allowed raw, absolute"),
    ({"nuisance": ("n_syllables",)}, r"nuisance \['n_syllables'\]: allowed n_tokens"),
    ({"nuisance": ("n_tokens",), "test": "welch"}, "nuisance regressors need test 'glm'"),
    ({"selection": "fwe", "test": "welch"}, "selection 'fwe' permutes the GLM"),
    ({"layers": "1-3"}, "layers must be 'all' or integers"),
    ({"site": "resid_pre"}, "site 'resid_pre': allowed resid_post, mlp_out, attn_out"),
    ({"top_percent": 0}, "need 0 < top_percent <= 100"),
    ({"n_perm": 0}, "n_perm and batch_size must be >= 1"),
], ids=["pooling", "responses", "nuisance", "welch-nuisance", "fwe-welch", "layers", "site",
        "top", "n_perm"])
def test_bad_options(options, message):
    with pytest.raises(ProbingError, match=message):
        LocalizeOptions(**options)


def test_cli(model_dir, tmp_path, capsys):  # noqa: F811
    argv = ["localize", str(FEDORENKO), "--contrast", "sentences-nonwords", "--model",
            str(model_dir), "--layers", "0,-1", "--selection", "fdr", "--out",
            str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "units selected (fdr)" in out and "dice" in out
    assert "absolute responses instead of raw" in out
    assert main(argv) == 2  # the folder exists now
    assert "use --force" in capsys.readouterr().err
    assert (tmp_path / "run" / "units.csv").exists()


def test_cli_checks_inputs_before_loading_the_model(tmp_path, capsys):
    # A model path that does not exist: the contrast error must come first.
    argv = ["localize", str(FEDORENKO), "--contrast", "sentences-words", "--model",
            str(tmp_path / "no-model"), "--out", str(tmp_path / "run")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "['words'] not a condition" in err
    assert main([*argv[:3], "sentences-nonwords", *argv[4:], "--pooling", "first"]) == 2
    assert "pooling 'first': allowed last, mean, words" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.slow  # about a minute of the default model; the tiny-model tests cover the code
@pytest.mark.integration
def test_default_model_language_units_replicate_across_runs(tmp_path):
    # One stimulus set per run (96 stimuli): units selected on one run must still prefer
    # sentences on the other, and the two runs' selections overlap beyond chance.
    import shutil

    from probing.models import load_model

    data = tmp_path / "data"
    data.mkdir()
    for name in ("langloc_fmri_run1_stim_set1.csv", "langloc_fmri_run2_stim_set1.csv"):
        shutil.copyfile(PARADIGMS.parent / "data" / "fedorenko2010_localizer" / name, data / name)
    paradigm = tmp_path / "loc.yaml"
    paradigm.write_text(FEDORENKO.read_text().replace("../data/fedorenko2010_localizer", "data"))
    lm = load_model("smollm2-135m", device="cpu")
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_localize(paradigm, lm, tmp_path / "run",
                              options=LocalizeOptions(layers="8,16,24,30", top_percent=1))
    table = tables["reliability"].set_index(["selected_on", "metric"])
    assert table.loc[("run1", "dice"), "value"] > 5 * table.loc[("run1", "dice"), "expected"]
    assert table.loc[("run1", "dice"), "p_val"] < 1e-3
    for half in ("run1", "run2"):
        held = table.loc[(half, "held_out_stat")]
        assert held["value"] > held["expected"] + 2
