"""``probing patch`` and ``probing mediate``: run folders on tiny models, consistent with
the engine and the analyses; bad input refused before the model loads."""

import json

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.causal import PATCHING_COLUMNS, summarize_patching
from probing.models import patch_pairs
from probing.pipeline.commands.mediate import MediateOptions, run_mediate
from probing.pipeline.commands.patch import PatchOptions, run_patch
from tests.conftest import PARADIGMS

PARADIGM = PARADIGMS / "agreement_pp_attractor.yaml"
FAST = {"limit": 6, "n_boot": 50, "batch_size": 8, "readout": "logit_diff"}


@pytest.fixture
def llama(make_lm):
    return make_lm("llama")


def never_loaded():
    raise AssertionError("the model was loaded although an input was bad")


def test_patch_run_folder(llama, tmp_path):
    options = PatchOptions(direction="both", contrast="subject_number", **FAST)
    tables = run_patch(PARADIGM, llama, tmp_path / "run", options=options)
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == sorted(["manifest.json", "patch_pairs.csv", "patching.csv",
                            "patching_pairs.csv", "patching_corrected.csv", "excluded_pairs.csv",
                            "patching_denoising_resid_post.png",
                            "patching_noising_resid_post.png"])
    table = pd.read_csv(tmp_path / "run" / "patching.csv")
    assert list(table.columns) == [*PATCHING_COLUMNS, "n_items", "model", "paradigm"]
    assert set(table["direction"]) == {"denoising", "noising"}
    assert set(table["layer"]) == {0, 1, 2}
    # positions are regions in stimulus order, the answer (what predicts the verb's first
    # differing token) before the verb region's last token
    assert list(pd.unique(table["position"]))[:5] == ["1:subject", "2:prep", "3:attractor",
                                                      "4:answer", "4:verb"]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    n = manifest["notes"]["n_pairs"]
    excluded = pd.read_csv(tmp_path / "run" / "excluded_pairs.csv")
    assert n == 6 and manifest["notes"]["n_pairs_excluded"] == len(excluded)
    assert (table["n_pairs"] == n).all() and len(tables["patch_pairs"]) == n
    assert (table["n_items"] == manifest["notes"]["n_items"]).all()
    # the per-pair table averages to the table's logprob_diff
    per_pair = pd.read_csv(tmp_path / "run" / "patching_pairs.csv")
    mean = per_pair.groupby(["direction", "layer", "position"])["estimate"].mean()
    diff = table[table["metric"] == "logprob_diff"].set_index(
        ["direction", "layer", "position"])["estimate"]
    np.testing.assert_allclose(mean.loc[diff.index], diff, atol=1e-9)
    # the corrected table has one row per cell of the grid, the same means, and a
    # family-wise p and a simultaneous interval around each mean
    corrected = pd.read_csv(tmp_path / "run" / "patching_corrected.csv")
    assert len(corrected) == len(diff) and (corrected["correction"] == "max_t").all()
    corrected = corrected.set_index(["direction", "layer", "position"])
    np.testing.assert_allclose(corrected.loc[diff.index, "estimate"], diff, atol=1e-9)
    # a cell that is exactly 0 in every pair has no variance and no test (NaN)
    tested = corrected["p_corr"].notna()
    assert tested.any() and corrected.loc[tested, "p_corr"].between(0, 1).all()
    assert (corrected.loc[~tested, "estimate"] == 0).all()
    assert (corrected["ci_low"] <= corrected["estimate"] + 1e-12).all()
    assert (corrected["estimate"] <= corrected["ci_high"] + 1e-12).all()
    assert (corrected["n_cells"] == len(corrected)).all()


def test_patch_table_is_the_engine_and_the_analysis(llama, tmp_path):
    # patching.csv (token positions) = summarize_patching on patch_pairs, nothing added
    options = PatchOptions(positions="tokens", site="mlp_out", layers="1,2",
                            contrast="subject_number", **FAST)
    tables = run_patch(PARADIGM, llama, tmp_path / "run", options=options)
    pairs = tables["patch_pairs"]
    raw = patch_pairs(llama, pairs[["pair_id", "source", "target"]], layers=[1, 2],
                      site="mlp_out", readout="logit_diff")
    want = summarize_patching(raw, groups=pairs.set_index("pair_id")["item_id"], n_boot=50)
    want["position"] = want["position"].astype(str)  # the vocabulary's type, as written
    got = tables["patching"][list(PATCHING_COLUMNS)]
    key = ["direction", "layer", "position", "metric"]
    merged = got.merge(want, on=key, suffixes=("", "_want"))
    assert len(merged) == len(want) == len(got)
    np.testing.assert_allclose(merged["estimate"], merged["estimate_want"], atol=1e-12)
    np.testing.assert_allclose(merged["ci_low"], merged["ci_low_want"], atol=1e-12)


def test_own_pairs_need_a_contrast_before_the_model_loads(tmp_path):
    # good and bad members differ at the verb only: every position before it is the same
    # in both, and tokens after it cancel within a run, so every effect would be 0
    message = (r"--contrast FACTOR is required .*allowed: subject_number, "
               r"attractor_number")
    for runner, options in ((run_patch, PatchOptions(**FAST)),
                            (run_mediate, MediateOptions(**FAST))):
        with pytest.raises(ProbingError, match=message):
            runner(PARADIGM, never_loaded, tmp_path / "run", options=options)
    assert not (tmp_path / "run").exists()


def test_sentence_read_out_excludes_pairs_split_differently(llama, tmp_path):
    # the tiny tokenizer splits most singular and plural nouns into different numbers of
    # tokens: those pairs are listed with a reason, never patched token by token
    options = PatchOptions(contrast="subject_number", readout="sentence", limit=2,
                            n_boot=10, layers="1")
    with pytest.warns(UserWarning, match="fewer than 20 items"):
        run_patch(PARADIGM, llama, tmp_path / "run", options=options)
    excluded = pd.read_csv(tmp_path / "run" / "excluded_pairs.csv")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["notes"]["n_pairs"] == 2
    assert manifest["notes"]["n_pairs_excluded"] == len(excluded) > 10
    assert excluded["reason"].str.contains(r"has \d+ and \d+ tokens: the sentence").all()
    kept = pd.read_csv(tmp_path / "run" / "patch_pairs.csv")["pair_id"]
    assert not set(kept) & set(excluded["pair_id"])


def test_per_head_patching(llama, tmp_path):
    options = PatchOptions(site="head_out", per_head=True, contrast="subject_number", **FAST)
    table = run_patch(PARADIGM, llama, tmp_path / "run", options=options)["patching"]
    assert sorted(set(table["head"])) == [0, 1, 2, 3] and set(table["layer"]) == {1, 2}


def test_mediate_run_folder(llama, tmp_path):
    options = MediateOptions(contrast="subject_number", top_k=3, **FAST)
    tables = run_mediate(PARADIGM, llama, tmp_path / "run", options=options)
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == sorted(["manifest.json", "mediation.csv", "mediation_items.csv",
                            "mediation_test.csv", "mediation_joint.csv", "top_mediators.csv", "top_units.csv",
                            "mediation.png", "mediation_split.csv", "excluded_pairs.csv"])
    # top-k selected on some items, its effects measured on the others (never both)
    split = pd.read_csv(tmp_path / "run" / "mediation_split.csv")
    assert set(split["split"]) == {"selection", "test"}
    assert split.groupby("item_id")["split"].nunique().max() == 1
    tested = set(split.loc[split["split"] == "test", "pair_id"])
    assert set(tables["mediation_items"]["pair_id"]) == tested
    med = tables["mediation"]
    assert set(med["metric"]) == {"total_effect", "indirect_effect", "direct_effect",
                                  "indirect_fraction"}
    assert {"layer", "site", "position", "head"} <= set(med.columns)
    joint = tables["mediation_joint"].set_index("metric")
    assert joint.loc["joint_indirect_effect", "k"] == 3
    # the joint table is on the test items: its n counts them
    assert joint.loc["total_effect", "n"] == len(tested)
    units = tables["top_units"]
    assert set(units["site"]) == {"head_out"} and units["unit"].between(0, 63).all()
    # each top mediator's held-out effect is the mean of its per-pair test effects
    test = tables["mediation_test"]
    assert (test["n"] == len(tested)).all()
    items = tables["mediation_items"]
    for _, top in tables["top_mediators"].iterrows():
        mine = (items["layer"] == top["layer"]) & (items["head"] == top["head"]) & (
            items["position"] == top["position"]) & (items["metric"] == "indirect_effect")
        row = test[(test["layer"] == top["layer"]) & (test["head"] == top["head"])
                   & (test["position"] == top["position"])
                   & (test["metric"] == "indirect_effect")]
        assert row["estimate"].iloc[0] == pytest.approx(items[mine]["estimate"].mean())
        assert items[mine]["item_id"].nunique() == row["n_items"].iloc[0]


def test_joint_effect_of_one_mediator_is_its_indirect_effect(llama, tmp_path):
    # the joint run (patch_set) and the single sweep (patch_pairs) agree on a set of one
    options = MediateOptions(mediators="layers", site="resid_post", contrast="subject_number",
                            top_k=1, split=1.0, **FAST)
    tables = run_mediate(PARADIGM, llama, tmp_path / "run", options=options)
    assert (tables["mediation"]["head"] == -1).all() and "top_units" not in tables
    top = tables["top_mediators"].iloc[0]
    joint = tables["mediation_joint"].set_index("metric")
    assert joint.loc["joint_indirect_effect", "estimate"] == pytest.approx(top["estimate"], abs=1e-9)
    assert joint.loc["summed_indirect_effect", "estimate"] == pytest.approx(top["estimate"], abs=1e-9)
    assert top["estimate"] != 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["notes"]["selection_and_test_overlap"] is True


@pytest.mark.parametrize("options,message", [
    ({"site": "nowhere"}, "site 'nowhere': allowed"),
    ({"per_head": True}, "--per-head needs --site head_out"),
    ({"direction": "sideways"}, "direction 'sideways'"),
    ({"layers": "1-3"}, "layers must be 'all' or integers like 0,6,-1; got '1-3'"),
    ({"layers": "3,3"}, r"layers repeat: \[3, 3\]"),
    ({"limit": 0}, "limit must be >= 1"),
    ({"n_boot": 0}, "n_boot must be >= 1"),
    ({"positions": "words"}, "positions 'words'"),
], ids=["site", "per_head", "direction", "layers", "repeated-layers", "limit", "n_boot",
        "positions"])
def test_bad_options(options, message):
    with pytest.raises(ProbingError, match=message):
        PatchOptions(**options)


@pytest.mark.parametrize("paradigm,options,message", [
    ("rsa_number_animacy.yaml", {}, "probing patch needs kind: minimal_pairs"),
    ("agreement_pp_attractor.yaml", {"contrast": "tense"}, "--contrast 'tense': .* has factor"),
], ids=["kind", "contrast"])
def test_bad_paradigm_input_never_loads_the_model(tmp_path, paradigm, options, message):
    with pytest.raises(ProbingError, match=message):
        run_patch(PARADIGMS / paradigm, never_loaded, tmp_path / "run",
                  options=PatchOptions(**options))
    assert not (tmp_path / "run").exists()


def test_layer_out_of_range_is_refused_before_any_forward(llama, tmp_path):
    with pytest.raises(ProbingError, match=r"layers \[7\] out of range for site 'resid_post': "
                                           r"allowed 0..2"):
        run_patch(PARADIGM, llama, tmp_path / "run",
                  options=PatchOptions(layers="7", contrast="subject_number"))
    assert not (tmp_path / "run").exists()


def test_existing_folder_is_kept(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "x").write_text("keep")
    with pytest.raises(ProbingError, match="not empty"):
        run_mediate(PARADIGM, never_loaded, tmp_path / "run",
                    options=MediateOptions(contrast="subject_number"))
    assert (tmp_path / "run" / "x").read_text() == "keep"



def test_joint_run_patches_each_mediator_at_x_own_token(llama, tmp_path):
    # Regression (1723786): the joint run looked up x's positions in x''s regions; where
    # the subject's token count differs between the members, that patched the wrong
    # token (or found none). A set of one mediator must equal its single patch.
    from probing.pipeline.causal_run import _sweep, member_where, screen, swap_members
    from probing.pipeline.commands.execute import load_paradigm_value
    from probing.pipeline.commands.mediate import prepare_mediate
    from probing.pipeline.mediate_run import _joint_reads

    options = MediateOptions(mediators="layers", contrast="subject_number", layers="1",
                             n_boot=10, batch_size=8, readout="logit_diff")
    plan = prepare_mediate(load_paradigm_value(PARADIGM), options)
    prep = screen(plan, llama)
    where = prep.where
    moved = where.loc[where["source_position"] != where["target_position"], "pair_id"].unique()
    assert len(moved) >= 2, "no pair whose regions sit at other indices: the test could not fail"
    pairs = prep.pairs[prep.pairs["pair_id"].isin(moved[:3])].reset_index(drop=True)
    pair_ids = pairs["pair_id"].tolist()
    x_where = member_where(where[where["pair_id"].isin(pair_ids)], options, "source")
    nie = _sweep(llama, swap_members(pairs), x_where, layers=prep.layers, site=plan.site,
                 per_head=False, options=options)
    patched = nie[nie["run"] == "patched"].pivot_table(
        index=["pair_id", "position"], columns="member", values="logprob")
    single = patched["target"] - patched["source"]  # x's words preferred, x' patched in
    for label in ("1:subject", "2:prep", "3:attractor", "4:verb"):
        top = pd.DataFrame({"layer": [1], "site": [plan.site], "position": [label],
                            "head": [-1], "unit": [-1]})
        joint = _joint_reads(llama, pairs, pair_ids, top, x_where, plan.site, options)
        want = single.loc[[(p, label) for p in pair_ids]].to_numpy()
        np.testing.assert_allclose(joint, want, atol=1e-9, err_msg=label)
