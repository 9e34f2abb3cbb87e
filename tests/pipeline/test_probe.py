"""``probing probe``: the run folder of a probing run, consistent with the analysis API."""

import json

import numpy as np
import pandas as pd
import pytest

from probing._core.config import config_context
from probing._core.errors import ProbingError
from probing.cli.main import main
from probing.paradigms import generate, load_paradigm
from probing.pipeline.extraction import extract_activations
from probing.pipeline.probe_run import ProbeOptions, build_probe_targets, limit_stimuli, run_probe
from probing.probes import build_folds, control_task_layers
from tests.conftest import PARADIGMS
from tests.pipeline.test_extract import model_dir  # noqa: F401

UD = PARADIGMS / "ud_pos.yaml"
FAST = ProbeOptions(label="upos", layers="0,2", probes=("logistic",), cv=3, control_seeds=(0, 1),
                    n_perm=50, limit=30, random_state=1)


@pytest.fixture
def gpt2(make_lm):
    return make_lm("gpt2")


@pytest.fixture
def run(gpt2, tmp_path):
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_probe(UD, gpt2, tmp_path / "run", options=FAST)
    return tables, tmp_path / "run"


def test_run_folder_contents(run, gpt2):
    tables, folder = run
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["manifest.json", "scores.csv", "selectivity.csv", "permutation.csv", "mdl.csv",
         "labels.csv", "probe_layers.png"])
    scores = pd.read_csv(folder / "scores.csv")
    assert set(scores["layer"]) == {0, 2} and set(scores["fold"]) == {0, 1, 2}
    assert set(scores["model"]) == {gpt2.name, f"{gpt2.name} (reinitialized, seed 0)"}
    trained = scores[scores["model"] == gpt2.name]
    assert set(trained["task"]) == {"task", "control"}
    assert set(trained.loc[trained.task == "control", "seed"]) == {0, 1}
    assert scores[["majority", "chance"]].notna().all().all()
    assert (pd.read_csv(folder / "permutation.csv")["p_val"] > 0).all()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["level"] == "word" and manifest["n_folds"] == 3
    assert manifest["model"]["control_model"]["source"] == "reinitialized"
    assert manifest["options"]["limit"] == 30


def test_scores_equal_the_analysis_api_on_sentence_grouped_folds(run, gpt2, tmp_path):
    tables, _ = run
    stimuli = limit_stimuli(generate(load_paradigm(UD)), 30)
    _, words = build_probe_targets(stimuli, "upos")
    with config_context(cache_dir=tmp_path / "cache"):
        acts = extract_activations(gpt2, stimuli, layers="0,2", level="word", pooling="last")
    labels = words["upos"].astype(str).to_numpy()
    folds = build_folds(acts, labels, groups=acts.index["stimulus_id"].to_numpy(), cv=3,
                        random_state=1)
    for train, test in folds:  # sentences never straddle; word types do (Hewitt & Liang)
        assert not set(acts.index["stimulus_id"].iloc[train]) & set(acts.index["stimulus_id"].iloc[test])
    expected = control_task_layers(acts, labels, word_types=words["word"].str.lower().to_numpy(),
                                   cv=folds, seeds=(0, 1), random_state=1)
    got = tables["scores"][tables["scores"]["model"] == gpt2.name].drop(columns=["model", "paradigm"])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


def test_limit_keeps_words_of_kept_stimuli():
    stimuli = limit_stimuli(generate(load_paradigm(UD)), 5)
    assert len(stimuli.table) == 5
    assert set(stimuli.words["stimulus_id"]) == set(stimuli.table["stimulus_id"])


def test_unknown_label_names_the_columns(gpt2, tmp_path):
    options = ProbeOptions(label="nope", limit=5)
    with pytest.raises(ProbingError, match="label 'nope': not a column .* columns: .*upos"):
        run_probe(UD, gpt2, tmp_path / "run", options=options)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"probes": ("svm",)}, "allowed logistic, mlp"),
    ({"cv": 1}, "cv must be >= 2"),
    ({"control_seeds": ()}, "at least one control seed"),
    ({"limit": 1}, "limit must be >= 2"),
], ids=["probe", "cv", "seeds", "limit"])
def test_bad_options(kwargs, message):
    with pytest.raises(ProbingError, match=message):
        ProbeOptions(**kwargs)


def test_cli(model_dir, tmp_path, capsys):  # noqa: F811
    argv = ["probe", str(UD), "--model", str(model_dir), "--label", "upos", "--layers", "0,-1",
            "--probes", "logistic", "--cv", "3", "--control-seeds", "2", "--n-perm", "20",
            "--no-mdl", "--no-control-model", "--limit", "20", "--out", str(tmp_path / "run"),
            "--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    assert "selectivity" in capsys.readouterr().out
    assert not (tmp_path / "run" / "mdl.csv").exists()
    assert main([*argv, "--force", "--label", "lemma_x"]) == 2
    assert "label 'lemma_x'" in capsys.readouterr().err
    assert np.isfinite(pd.read_csv(tmp_path / "run" / "selectivity.csv")["estimate"]).all()


def test_sentence_level_label_groups_by_item(gpt2, tmp_path):
    # A stimuli-table column only (the RSA paradigm's condition): one row per stimulus,
    # folds grouped by item, no control task (word types do not apply).
    options = ProbeOptions(label="condition", layers="0,2", probes=("logistic",), cv=3,
                           n_perm=30, mdl=False, control_model_seed=None, pooling="mean")
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_probe(PARADIGMS / "rsa_number_animacy.yaml", gpt2, tmp_path / "run",
                           options=options)
    assert "selectivity" not in tables and set(tables["scores"]["task"]) == {"task"}
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["level"] == "sentence" and manifest["n_rows"] == 96
    assert len(tables["labels"]) == 4
    items = generate(load_paradigm(PARADIGMS / "rsa_number_animacy.yaml")).table["item_id"]
    accuracy = tables["scores"][tables["scores"]["metric"] == "accuracy"]
    assert accuracy["n_test"].sum() == 2 * 96 and items.nunique() == 24
    assert (accuracy["n_test"] % 4 == 0).all()  # whole items (4 stimuli each) per fold
    assert (tmp_path / "run" / "probe_layers.png").exists()
