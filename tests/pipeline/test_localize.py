"""``probing localize``: the run folder, consistent with the analysis API, and its inputs."""

import json

import numpy as np
import pandas as pd
import pytest

from probing._core.config import config_context
from probing._core.errors import ProbingError
from probing.cli.main import main
from probing.localize import (
    OVERLAP_NULL_COLUMNS,
    PROFILE_COLUMNS,
    RELIABILITY_COLUMNS,
    UNITS_COLUMNS,
    build_overlap_null,
    build_response_profile,
    build_unit_responses,
    localize_units,
    overlap_pvalue,
    pool_words,
)
from probing.paradigms import generate, load_paradigm
from probing.pipeline.extraction import extract_activations
from probing.pipeline.localize_run import LocalizeOptions, check_localize_inputs, run_localize
from tests.conftest import PARADIGMS
from tests.pipeline.test_extract import model_dir  # noqa: F401

FEDORENKO = PARADIGMS / "fedorenko2010_localizer.yaml"
GENERATED = PARADIGMS / "language_localizer.yaml"
FILES = ["manifest.json", "units.csv", "units_by_half.csv", "reliability.csv",
         "layer_counts.csv", "stimuli.csv", "response_choice.csv", "overlap_null.csv",
         "selected_per_layer.png", "unit_stats.png"]


@pytest.fixture
def gpt2(make_lm):
    return make_lm("gpt2")


def test_run_folder_and_tables(gpt2, tmp_path):
    options = LocalizeOptions(selection="fwe", n_perm=100, nuisance=("n_tokens",),
                              random_state=2, n_perm_overlap=2)
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_localize(FEDORENKO, gpt2, tmp_path / "run", options=options)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted(FILES)
    units = pd.read_csv(tmp_path / "run" / "units.csv")
    assert list(units.columns) == [*UNITS_COLUMNS, "contrast", "model", "paradigm"]
    assert len(units) == 3 * 32 and (units["contrast"] == "sentences-nonwords").all()
    assert units["p_corr"].between(1 / 101 - 1e-9, 1).all()
    reliability = pd.read_csv(tmp_path / "run" / "reliability.csv")
    assert list(reliability.columns) == [*RELIABILITY_COLUMNS, "contrast", "selection", "model",
                                         "paradigm"]
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
    options = LocalizeOptions(top_percent=5, responses="absolute", layers="1,2", pooling="mean",
                              n_perm_overlap=5)
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
    halves = np.where(run2, "run2", "run1")
    null = build_overlap_null(responses, units, conditions, halves, ("sentences", "nonwords"),
                              n_perm=5, top_percent=5)
    pd.testing.assert_frame_equal(tables["overlap_null"][list(OVERLAP_NULL_COLUMNS)], null)
    dice = tables["reliability"].set_index(["selected_on", "metric"]).loc[("run1", "dice")]
    assert dice["p_val"] == overlap_pvalue(dice["estimate"], null.query("metric == 'dice'")["estimate"])
    assert dice["n_perm"] == 5


def test_words_pooling_averages_word_vectors(gpt2, tmp_path):
    options = LocalizeOptions(pooling="words", layers="2", contrast="sentences-word_lists",
                              n_perm_overlap=0)
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
    ({"n_perm_overlap": -1}, r"n_perm_overlap must be >= 0 \(0: no overlap test\); got -1"),
    ({"max_tokens": 12, "pooling": "words"}, "cannot be combined with pooling 'words'; got 12"),
], ids=["pooling", "responses", "nuisance", "welch-nuisance", "fwe-welch", "layers", "site",
        "top", "n_perm", "n_perm_overlap", "max_tokens"])
def test_bad_options(options, message):
    with pytest.raises(ProbingError, match=message):
        LocalizeOptions(**options)


def test_cli(model_dir, tmp_path, capsys):  # noqa: F811
    argv = ["localize", str(FEDORENKO), "--contrast", "sentences-nonwords", "--model",
            str(model_dir), "--layers", "0,-1", "--selection", "fdr", "--out",
            str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache"), "--n-perm-overlap", "3"]
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
                              options=LocalizeOptions(layers="8,16,24,30", top_percent=1,
                                                      n_perm_overlap=20))
    table = tables["reliability"].set_index(["selected_on", "metric"])
    assert table.loc[("run1", "dice"), "estimate"] > 5 * table.loc[("run1", "dice"), "expected"]
    assert table.loc[("run1", "dice"), "p_val"] == pytest.approx(1 / 21)
    for half in ("run1", "run2"):
        held = table.loc[(half, "held_out_stat")]
        assert held["estimate"] > held["expected"] + 2


def test_profile_measures_every_condition_on_held_out_items(gpt2, tmp_path):
    options = LocalizeOptions(layers="2", top_percent=10, n_perm_overlap=0, profile=True)
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_localize(GENERATED, gpt2, tmp_path / "run", options=options)
        everything = generate(load_paradigm(GENERATED))
        acts = extract_activations(gpt2, everything, layers="2", pooling="last")
    assert (tmp_path / "run" / "profile.png").exists()
    profile = pd.read_csv(tmp_path / "run" / "profile.csv")
    assert set(profile["condition"]) == {"sentences", "word_lists", "jabberwocky", "nonwords"}
    pairs = profile[["selected_on", "measured_on"]].drop_duplicates().values.tolist()
    assert sorted(pairs) == [["items_a", "items_b"], ["items_b", "items_a"]]
    # the selection items and the measured items are disjoint
    items = tables["stimuli"].groupby("half")["item_id"].apply(set)
    assert not items["items_a"] & items["items_b"]
    responses, _ = build_unit_responses(acts)
    items = pd.Index(sorted(set(everything.table["item_id"].astype(str))))
    halves = np.where(items.get_indexer(everything.table["item_id"].astype(str)) % 2 == 0,
                      "items_a", "items_b")
    by_half = tables["units_by_half"]
    chosen = {h: by_half.query("half == @h")["selected"].to_numpy(bool) for h in ("items_a", "items_b")}
    expected = build_response_profile(responses, everything.table["condition"], halves, chosen)
    pd.testing.assert_frame_equal(tables["profile"][list(PROFILE_COLUMNS)], expected)


def test_match_length_keeps_equal_token_counts_and_reports_r(gpt2, tmp_path):
    options = LocalizeOptions(contrast="sentences-word_lists", layers="1", n_perm_overlap=0,
                              match_length=True)
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_localize(GENERATED, gpt2, tmp_path / "run", options=options)
    stimuli = tables["stimuli"]
    for half in set(stimuli["half"]):
        part = stimuli[stimuli["half"] == half]
        counts = [sorted(part.query("condition == @c")["n_tokens"]) for c in
                  ("sentences", "word_lists")]
        assert counts[0] == counts[1] and len(counts[0]) >= 2
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    length = manifest["length"]
    assert length["match_length"] and length["r_condition_n_tokens_kept"] == pytest.approx(0,
                                                                                        abs=1e-9)
    assert sum(length["n_kept"].values()) == len(stimuli)
    assert length["n_dropped"] + len(stimuli) == 120


def test_alkhamissi_recipe_cuts_texts_to_12_tokens(model_dir, tmp_path):  # noqa: F811
    argv = ["localize", str(FEDORENKO), "--contrast", "sentences-nonwords", "--model",
            str(model_dir), "--layers", "1", "--recipe", "alkhamissi", "--responses", "raw",
            "--n-perm-overlap", "0", "--out", str(tmp_path / "run"), "--cache-dir",
            str(tmp_path / "cache")]
    assert main(argv) == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    options = manifest["options"]
    assert (options["responses"], options["test"], options["selection"], options["top_percent"],
            options["max_tokens"]) == ("absolute", "welch", "top", 1.0, 12)  # the recipe wins
    stimuli = pd.read_csv(tmp_path / "run" / "stimuli.csv")
    assert stimuli["n_tokens"].max() <= 12 and len(manifest["truncated_stimuli"]) > 0
    original = generate(load_paradigm(FEDORENKO)).table.set_index("stimulus_id")["text"]
    for sid, text in zip(stimuli["stimulus_id"], stimuli["text"], strict=True):
        assert original[sid].startswith(text)
        assert (text != original[sid]) == (sid in manifest["truncated_stimuli"])


def test_match_length_without_partners_is_refused_in_one_line():
    from probing.pipeline.localize_inputs import match_length

    # token counts as in the default model: non-word lists far longer than the sentences
    options = LocalizeOptions(match_length=True)
    stimuli, contrast, halves = check_localize_inputs(FEDORENKO, options)
    n_tokens = np.where(stimuli.table["condition"] == "sentences", 12, 24)
    n_tokens[:3] = 24  # a few partners, in one half only
    with pytest.raises(ProbingError, match=r"^match_length: half 'run[12]' keeps [01] stimuli per "
                                           r"condition \(need 2\): the conditions barely overlap"):
        match_length(stimuli, halves, pd.DataFrame(), n_tokens, contrast, options)
