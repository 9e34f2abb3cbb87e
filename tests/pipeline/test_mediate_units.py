"""``probing mediate --mediators units``: each unit of a site is a mediator; the units of
one position set together are that position's whole site."""

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.pipeline.commands.mediate import MediateOptions, run_mediate
from probing.pipeline.commands.patch import PatchOptions, run_patch
from tests.conftest import PARADIGMS

PARADIGM = PARADIGMS / "agreement_pp_attractor.yaml"
FAST = {"limit": 4, "n_boot": 50, "batch_size": 8, "contrast": "subject_number",
        "readout": "logit_diff"}
WIDTH = 32  # the tiny Llama's hidden size


@pytest.fixture
def llama(make_lm):
    return make_lm("llama")


def never_loaded():
    raise AssertionError("the model was loaded although an input was bad")


def test_unit_mediation_tables(llama, tmp_path):
    options = MediateOptions(mediators="units", site="mlp_out", layers="1", region="attractor",
                            top_k=4, **FAST)
    tables = run_mediate(PARADIGM, llama, tmp_path / "run", options=options)
    med = tables["mediation"]
    nie = med[med["metric"] == "indirect_effect"]
    assert sorted(nie["unit"]) == list(range(WIDTH)) and (nie["head"] == -1).all()
    assert set(nie["position"]) == {"3:attractor"} and set(nie["site"]) == {"mlp_out"}
    top = tables["top_mediators"]
    best = nie.loc[nie["estimate"].abs().sort_values(ascending=False).index[:4], "unit"]
    assert top["unit"].tolist() == best.tolist()
    units = tables["top_units"]
    assert units[["layer", "site", "unit"]].values.tolist() == [
        [1, "mlp_out", int(u)] for u in best]
    assert (tmp_path / "run" / "top_units.csv").is_file()
    assert (tmp_path / "run" / "mediation.png").is_file()


def test_every_unit_together_is_the_layer(llama, tmp_path):
    # the joint effect of all units of a position is the whole site's indirect effect
    common = {"site": "mlp_out", "layers": "1", "region": "attractor", "split": 1.0, **FAST}
    units = run_mediate(PARADIGM, llama, tmp_path / "units", options=MediateOptions(
        mediators="units", top_k=WIDTH, **common))
    layer = run_mediate(PARADIGM, llama, tmp_path / "layer", options=MediateOptions(
        mediators="layers", top_k=1, **common))
    joint = units["mediation_joint"].set_index("metric")
    whole = layer["mediation"].set_index("metric")
    assert joint.loc["joint_indirect_effect", "k"] == WIDTH
    assert joint.loc["joint_indirect_effect", "estimate"] == pytest.approx(
        whole.loc["indirect_effect", "estimate"], abs=1e-9)
    assert whole.loc["indirect_effect", "estimate"] != 0


def test_region_restricts_patching_and_keeps_its_numbers(llama, tmp_path):
    common = {"site": "resid_post", "layers": "1", "limit": 4, "n_boot": 50, "batch_size": 8,
              "contrast": "subject_number", "readout": "logit_diff"}
    every = run_patch(PARADIGM, llama, tmp_path / "all", options=PatchOptions(**common))
    one = run_patch(PARADIGM, llama, tmp_path / "one",
                    options=PatchOptions(region="attractor", **common))
    patching = one["patching"]
    assert set(patching["position"]) == {"3:attractor"}
    want = every["patching"][every["patching"]["position"] == "3:attractor"]
    np.testing.assert_allclose(patching["estimate"].to_numpy(), want["estimate"].to_numpy(),
                               rtol=0, atol=1e-12)


def test_bad_region_is_refused_before_the_model_loads(tmp_path):
    with pytest.raises(ProbingError, match=r"--region 'verbb' is no region of it; allowed "
                                           r"subject, prep, attractor, verb"):
        run_mediate(PARADIGM, never_loaded, tmp_path / "run",
                    options=MediateOptions(mediators="units", region="verbb"))
    with pytest.raises(ProbingError, match="--region noun: needs --positions regions"):
        PatchOptions(region="noun", positions="tokens")
    assert not (tmp_path / "run").exists()
