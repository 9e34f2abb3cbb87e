"""``probing rsa``: the run folder of an RSA paradigm, consistent with the analysis API."""

import json

import numpy as np
import pandas as pd
import pytest

from probing._core.config import config_context
from probing._core.errors import ProbingError
from probing.cli.main import main
from probing.paradigms import generate, load_paradigm
from probing.pipeline.extraction import extract_activations
from probing.pipeline.rsa_run import RSAOptions, run_rsa
from probing.rsa import RSA_COLUMNS, build_model_rdms, rsa_layers
from tests.conftest import PARADIGMS
from tests.pipeline.test_extract import model_dir  # noqa: F401

PARADIGM = PARADIGMS / "rsa_number_animacy.yaml"
OPTIONS = RSAOptions(pooling="region:noun", n_perm=200, n_boot=50, random_state=3)


@pytest.fixture
def gpt2(make_lm):
    return make_lm("gpt2")


def test_run_folder_and_tables(gpt2, tmp_path):
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_rsa(PARADIGM, gpt2, tmp_path / "run", options=OPTIONS)
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    peak = int(tables["rsa"].loc[tables["rsa"]["estimate"].idxmax(), "layer"])
    assert files == sorted(["manifest.json", "stimuli.csv", "rsa.csv", "layer_similarity.csv",
                            "rsa_layers.png", f"rdm_layer{peak}.png"])
    rsa = pd.read_csv(tmp_path / "run" / "rsa.csv")
    assert list(rsa.columns) == [*RSA_COLUMNS, "model", "paradigm"]
    assert set(rsa["model_rdm"]) == {"number", "animacy"} and sorted(set(rsa["layer"])) == [0, 1, 2]
    assert (rsa["p_val"] > 0).all() and (rsa["p_corr"] >= rsa["p_val"]).all()
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["options"]["pooling"] == "region:noun" and manifest["activations_key"]
    sim = tables["layer_similarity"]
    assert len(sim) == 9 and np.allclose(sim.loc[sim.layer_a == sim.layer_b, "estimate"], 1.0)


def test_tables_equal_the_analysis_api(gpt2, tmp_path):
    # The pipeline adds no statistics of its own: rsa.csv is rsa_layers on the extraction.
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_rsa(PARADIGM, gpt2, tmp_path / "run", options=OPTIONS)
        stimuli = generate(load_paradigm(PARADIGM))
        acts = extract_activations(gpt2, stimuli, pooling="region:noun")
    expected = rsa_layers(acts, build_model_rdms(stimuli), n_perm=200, n_boot=50,
                          groups=stimuli.table["item_id"].to_numpy(), random_state=3)
    got = tables["rsa"][list(RSA_COLUMNS)]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)


def test_not_an_rsa_paradigm_leaves_nothing(gpt2, tmp_path):
    with pytest.raises(ProbingError, match="probing rsa needs kind: rsa"):
        run_rsa(PARADIGMS / "agreement_simple.yaml", gpt2, tmp_path / "run", options=OPTIONS)
    assert not (tmp_path / "run").exists()


def test_bad_options():
    with pytest.raises(ProbingError, match="n_perm must be >= 1"):
        RSAOptions(n_perm=0)
    with pytest.raises(ProbingError, match="permute 'rows': allowed free, items"):
        RSAOptions(permute="rows")


def test_permute_within_items(gpt2, tmp_path):
    options = RSAOptions(pooling="region:noun", n_perm=100, n_boot=0, permute="items",
                         layers="0", random_state=3)
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_rsa(PARADIGM, gpt2, tmp_path / "run", options=options)
        stimuli = generate(load_paradigm(PARADIGM))
        acts = extract_activations(gpt2, stimuli, layers="0", pooling="region:noun")
    items = stimuli.table["item_id"].to_numpy()
    expected = rsa_layers(acts, build_model_rdms(stimuli), n_perm=100, bootstrap=None,
                          within=items, random_state=3)
    np.testing.assert_allclose(tables["rsa"]["p_val"], expected["p_val"])
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["options"]["permute"] == "items"


def test_cli(model_dir, tmp_path, capsys):  # noqa: F811
    argv = ["rsa", str(PARADIGM), "--model", str(model_dir), "--pooling", "region:noun",
            "--n-perm", "100", "--n-boot", "20", "--layers", "0,-1", "--out",
            str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "peak layer per model RDM" in out and "animacy" in out
    assert main(argv) == 2  # the folder exists now
    assert "use --force" in capsys.readouterr().err
    assert main([*argv, "--force", "--pooling", "region:nothing"]) == 2
    assert "no region 'nothing'" in capsys.readouterr().err
    assert (tmp_path / "run" / "rsa.csv").exists()  # the failed rerun left the old folder


def test_each_layer_rdm_is_computed_once(gpt2, tmp_path, monkeypatch):
    # rsa.csv, layer_similarity.csv and the figure share one RDM per layer
    import probing.rsa.compute as compute
    import probing.rsa.rsa_sweep as sweep

    calls = []
    original = compute.stack_rdms

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(compute, "stack_rdms", counted)
    monkeypatch.setattr(sweep, "stack_rdms", counted)
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_rsa(PARADIGM, gpt2, tmp_path / "run", options=OPTIONS)
    assert len(calls) == 1 and set(tables["rsa"]["site"]) == {"resid_post"}


def test_rsa_layers_takes_the_data_rdms_or_the_patterns_alike(gpt2, tmp_path):
    from probing.rsa import compute_rdm

    with config_context(cache_dir=tmp_path / "cache"):
        stimuli = generate(load_paradigm(PARADIGM))
        acts = extract_activations(gpt2, stimuli, pooling="region:noun")
    rdms = compute_rdm(acts.values, stimulus_ids=acts.index["stimulus_id"].tolist(),
                       descriptors={"layer": list(acts.layers), "site": acts.site})
    kwargs = {"n_perm": 50, "n_boot": 20, "random_state": 1, "layers": [0, 2],
              "groups": stimuli.table["item_id"].to_numpy()}
    pd.testing.assert_frame_equal(rsa_layers(rdms, build_model_rdms(stimuli), **kwargs),
                                  rsa_layers(acts, build_model_rdms(stimuli), **kwargs))
    with pytest.raises(ProbingError, match="bootstrap='items' recomputes the RDMs"):
        rsa_layers(rdms, build_model_rdms(stimuli), bootstrap="items", **kwargs)


@pytest.mark.parametrize("distance, residuals", [("crossnobis", "folds"), ("crossnobis", "none"),
                                                 ("mahalanobis", "folds")])
def test_noise_distances_run_end_to_end(gpt2, tmp_path, distance, residuals):
    # crossnobis failed after extraction (no folds); its RDM rows are the conditions,
    # items the folds, and its interval resamples items
    options = RSAOptions(pooling="region:noun", n_perm=50, n_boot=20, random_state=3,
                         distance=distance, residuals=residuals)
    with config_context(cache_dir=tmp_path / "cache"):
        tables = run_rsa(PARADIGM, gpt2, tmp_path / "run", options=options)
    rsa = tables["rsa"]
    assert (rsa["distance"] == distance).all() and rsa["estimate"].notna().all()
    n_conditions = tables["stimuli"]["condition"].nunique()
    if distance == "crossnobis":
        assert (rsa["n_stimuli"] == n_conditions).all() and rsa["ci_low"].notna().all()
    with pytest.raises(ProbingError, match="residuals"):
        RSAOptions(residuals="all")
