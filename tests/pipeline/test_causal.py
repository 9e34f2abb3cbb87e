"""``probing patch`` and ``probing mediate``: run folders on tiny models, consistent with
the engine and the analyses; bad input refused before the model loads."""

import json

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.causal import PATCHING_COLUMNS, summarize_patching
from probing.models import patch_pairs
from probing.pipeline.causal import run_mediate, run_patch
from probing.pipeline.causal_inputs import CausalOptions
from tests.conftest import PARADIGMS

PARADIGM = PARADIGMS / "agreement_pp_attractor.yaml"
FAST = {"limit": 6, "n_boot": 50, "batch_size": 8}


@pytest.fixture
def llama(make_lm):
    return make_lm("llama")


def never_loaded():
    raise AssertionError("the model was loaded although an input was bad")


def test_patch_run_folder(llama, tmp_path):
    options = CausalOptions(direction="both", contrast="subject_number", **FAST)
    tables = run_patch(PARADIGM, llama, tmp_path / "run", options=options)
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == sorted(["manifest.json", "patch_pairs.csv", "patching.csv",
                            "patching_denoising_resid_post.png",
                            "patching_noising_resid_post.png"])
    table = pd.read_csv(tmp_path / "run" / "patching.csv")
    assert list(table.columns) == [*PATCHING_COLUMNS, "model", "paradigm"]
    assert set(table["direction"]) == {"denoising", "noising"}
    assert set(table["layer"]) == {0, 1, 2}
    # positions are regions in stimulus order
    assert list(pd.unique(table["position"]))[:4] == ["1:subject", "2:prep", "3:attractor",
                                                      "4:verb"]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    n = manifest["notes"]["n_pairs"]
    assert n == 6 and manifest["notes"]["pairs_left_out_token_counts"] >= 0
    assert (table["n_pairs"] == n).all() and len(tables["patch_pairs"]) == n


def test_patch_table_is_the_engine_and_the_analysis(llama, tmp_path):
    # patching.csv (token positions) = summarize_patching on patch_pairs, nothing added
    options = CausalOptions(positions="tokens", site="mlp_out", layers="1,2", **FAST)
    tables = run_patch(PARADIGM, llama, tmp_path / "run", options=options)
    pairs = tables["patch_pairs"]
    raw = patch_pairs(llama, pairs[["pair_id", "source", "target"]], layers=[1, 2],
                      site="mlp_out")
    want = summarize_patching(raw, groups=pairs.set_index("pair_id")["item_id"], n_boot=50)
    got = tables["patching"][list(PATCHING_COLUMNS)]
    key = ["direction", "layer", "position", "metric"]
    merged = got.merge(want, on=key, suffixes=("", "_want"))
    assert len(merged) == len(want) == len(got)
    np.testing.assert_allclose(merged["effect"], merged["effect_want"], atol=1e-12)
    np.testing.assert_allclose(merged["ci_low"], merged["ci_low_want"], atol=1e-12)


def test_own_pairs_cannot_show_an_effect(llama, tmp_path):
    # good and bad members differ at the verb only: every position before it is the same
    # in both, and tokens after it are the same in both members (they cancel within a run)
    tables = run_patch(PARADIGM, llama, tmp_path / "run", options=CausalOptions(**FAST))
    table = tables["patching"]
    assert set(table["position"]) >= {"1:subject", "4:verb"}
    assert np.allclose(table.loc[table["metric"] == "logprob_diff", "effect"], 0, atol=1e-9)
    contrast = run_patch(PARADIGM, llama, tmp_path / "run2",
                         options=CausalOptions(contrast="subject_number", **FAST))["patching"]
    assert (contrast["effect"].abs() > 1e-6).any()


def test_per_head_patching(llama, tmp_path):
    options = CausalOptions(site="head_out", per_head=True, contrast="subject_number", **FAST)
    table = run_patch(PARADIGM, llama, tmp_path / "run", options=options)["patching"]
    assert sorted(set(table["head"])) == [0, 1, 2, 3] and set(table["layer"]) == {1, 2}


def test_mediate_run_folder(llama, tmp_path):
    options = CausalOptions(contrast="subject_number", top_k=3, **FAST)
    tables = run_mediate(PARADIGM, llama, tmp_path / "run", options=options)
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == sorted(["manifest.json", "mediation.csv", "mediation_items.csv",
                            "mediation_joint.csv", "top_mediators.csv", "top_units.csv",
                            "mediation.png"])
    med = tables["mediation"]
    assert set(med["metric"]) == {"total_effect", "indirect_effect", "direct_effect",
                                  "indirect_fraction"}
    assert {"layer", "site", "position", "head"} <= set(med.columns)
    joint = tables["mediation_joint"].set_index("metric")
    assert joint.loc["joint_indirect_effect", "k"] == 3
    # the total effect is the same whichever way it is computed
    te = med.loc[med["metric"] == "total_effect", "effect"]
    assert np.allclose(te, joint.loc["total_effect", "effect"])
    units = tables["top_units"]
    assert set(units["site"]) == {"head_out"} and units["unit"].between(0, 63).all()


def test_joint_effect_of_one_mediator_is_its_indirect_effect(llama, tmp_path):
    # the joint run (patch_set) and the single sweep (patch_pairs) agree on a set of one
    options = CausalOptions(mediators="layers", site="resid_post", contrast="subject_number",
                            top_k=1, **FAST)
    tables = run_mediate(PARADIGM, llama, tmp_path / "run", options=options)
    assert (tables["mediation"]["head"] == -1).all() and "top_units" not in tables
    top = tables["top_mediators"].iloc[0]
    joint = tables["mediation_joint"].set_index("metric")
    assert joint.loc["joint_indirect_effect", "effect"] == pytest.approx(top["effect"], abs=1e-9)
    assert joint.loc["summed_indirect_effect", "effect"] == pytest.approx(top["effect"], abs=1e-9)
    assert top["effect"] != 0


@pytest.mark.parametrize("options,message", [
    ({"site": "nowhere"}, "--site 'nowhere': allowed"),
    ({"per_head": True}, "--per-head needs --site head_out"),
    ({"direction": "sideways"}, "--direction 'sideways'"),
    ({"layers": "1-3"}, "--layers '1-3'"),
    ({"limit": 0}, "--limit must be >= 1"),
    ({"n_boot": 0}, "--n-boot must be >= 1"),
    ({"positions": "words"}, "--positions 'words'"),
], ids=["site", "per_head", "direction", "layers", "limit", "n_boot", "positions"])
def test_bad_options(options, message):
    with pytest.raises(ProbingError, match=message):
        CausalOptions(**options)


@pytest.mark.parametrize("paradigm,options,message", [
    ("rsa_number_animacy.yaml", {}, "probing patch needs kind: minimal_pairs"),
    ("agreement_pp_attractor.yaml", {"contrast": "tense"}, "--contrast 'tense': .* has factor"),
], ids=["kind", "contrast"])
def test_bad_paradigm_input_never_loads_the_model(tmp_path, paradigm, options, message):
    with pytest.raises(ProbingError, match=message):
        run_patch(PARADIGMS / paradigm, never_loaded, tmp_path / "run",
                  options=CausalOptions(**options))
    assert not (tmp_path / "run").exists()


def test_layer_out_of_range_is_refused_before_any_forward(llama, tmp_path):
    with pytest.raises(ProbingError, match="layer 7 is out of range; allowed 0..2"):
        run_patch(PARADIGM, llama, tmp_path / "run", options=CausalOptions(layers="7"))
    assert not (tmp_path / "run").exists()


def test_existing_folder_is_kept(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "x").write_text("keep")
    with pytest.raises(ProbingError, match="not empty"):
        run_mediate(PARADIGM, never_loaded, tmp_path / "run")
    assert (tmp_path / "run" / "x").read_text() == "keep"



def test_joint_run_patches_each_mediator_at_x_own_token(llama, tmp_path):
    # Regression (1723786): the joint run looked up x's positions in x''s regions; where
    # the subject's token count differs between the members (equal totals), that patched
    # the wrong token (or found none). A set of one mediator must equal its single patch.
    from probing.pipeline.causal import _prepare, _swap, _sweep, _where
    from probing.pipeline.causal_inputs import region_positions
    from probing.pipeline.mediate import _joint_reads

    options = CausalOptions(mediators="layers", contrast="subject_number", layers="1",
                            n_boot=10, batch_size=8)
    _, stimuli, pairs, spans, lm, layers, site, _ = _prepare(
        PARADIGM, llama, tmp_path / "run", options, False, "mediate")
    in_x = region_positions(pairs.assign(target_id=pairs["source_id"]), stimuli.regions,
                            spans["source"])
    # x's tokens against x''s regions (the old lookup): pairs where it picks another token
    crossed = region_positions(pairs, stimuli.regions, spans["source"])
    both = in_x.merge(crossed, on=["pair_id", "label"], how="left", suffixes=("", "_crossed"))
    moved = both.loc[both["position"] != both["position_crossed"], "pair_id"].unique()
    assert len(moved) >= 2, "no pair where the two lookups differ: the test could not fail"
    rows = np.flatnonzero(pairs["pair_id"].isin(moved[:3]).to_numpy())
    pairs = pairs.iloc[rows].reset_index(drop=True)
    spans = {member: [spans[member][i] for i in rows] for member in spans}
    pair_ids = pairs["pair_id"].tolist()
    nie = _sweep(lm, _swap(pairs), _where(_swap(pairs), stimuli, spans["source"], options),
                 layers=layers, site=site, per_head=False, options=options)
    patched = nie[nie["run"] == "patched"].pivot_table(
        index=["pair_id", "position"], columns="member", values="logprob")
    single = patched["target"] - patched["source"]  # x's words preferred, x' patched in
    # the adverbial's last token ends some stimuli: never an input, never patched
    for label in ("1:subject", "2:prep", "3:attractor", "4:verb"):
        top = pd.DataFrame({"layer": [1], "site": [site], "position": [label], "head": [-1],
                            "unit": [-1]})
        joint = _joint_reads(lm, pairs, pair_ids, top, spans, stimuli, site, options)
        want = single.loc[[(p, label) for p in pair_ids]].to_numpy()
        np.testing.assert_allclose(joint, want, atol=1e-9, err_msg=label)
