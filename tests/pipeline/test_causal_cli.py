"""``probing patch | mediate | ablate`` through the command line, on a tiny model."""

import pandas as pd
import pytest

from probing.cli.main import main
from tests.conftest import PARADIGMS

PARADIGM = str(PARADIGMS / "agreement_pp_attractor.yaml")
FAST = ["--limit", "2", "--n-boot", "10"]
LAYER = ["--layers", "1"]  # patch and mediate (ablate takes its layers from the unit table)


@pytest.fixture
def tiny(make_lm, monkeypatch):
    import probing.models

    lm = make_lm("llama")
    monkeypatch.setattr(probing.models, "load_model", lambda *args, **kwargs: lm)
    monkeypatch.setattr("probing.models.config_shape.config_shape", lambda name: None)
    return lm


@pytest.mark.parametrize("argv,files,printed", [
    (["patch", PARADIGM, "--contrast", "subject_number", "--readout", "logit_diff"],
     {"patching.csv", "patch_pairs.csv", "patching_pairs.csv", "excluded_pairs.csv"},
     "largest restored fraction per position"),
    pytest.param(["mediate", PARADIGM, "--contrast", "subject_number", "--top-k", "2",
                  "--readout", "logit_diff", "--split", "1"],
                 {"mediation.csv", "mediation_joint.csv", "top_units.csv"},
                 "joint_indirect_effect", marks=pytest.mark.slow),
], ids=["patch", "mediate"])
def test_command_writes_its_folder(tiny, tmp_path, capsys, argv, files, printed):
    assert main([*argv, *FAST, *LAYER, "--out", str(tmp_path / "run")]) == 0
    assert files <= {p.name for p in (tmp_path / "run").iterdir()}
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'run'}/" in out and printed in out


def test_ablate_command(tiny, tmp_path, capsys):
    units = tmp_path / "units.csv"
    pd.DataFrame({"layer": [1, 1], "site": ["resid_post"] * 2, "unit": [0, 1]}).to_csv(
        units, index=False)
    argv = ["ablate", PARADIGM, "--units", str(units), "--n-sets", "3", *FAST,
            "--out", str(tmp_path / "run")]
    assert main(argv) == 0
    table = pd.read_csv(tmp_path / "run" / "ablation.csv")
    assert set(table["unit_set"]) == {"given", "random"}
    assert "ablation.csv" in capsys.readouterr().out


def test_mediate_units_then_ablate_them(tiny, tmp_path, capsys):
    # top_units.csv of a unit mediation is the ablation's unit table as it is
    argv = ["mediate", PARADIGM, "--contrast", "subject_number", "--readout", "logit_diff",
            "--split", "1", "--mediators", "units",
            "--site", "mlp_out", "--region", "attractor", "--top-k", "3", *FAST, *LAYER,
            "--out", str(tmp_path / "med")]
    assert main(argv) == 0
    units = pd.read_csv(tmp_path / "med" / "top_units.csv")
    assert len(units) == 3 and set(units["site"]) == {"mlp_out"}
    assert main(["ablate", PARADIGM, "--units", str(tmp_path / "med" / "top_units.csv"),
                 "--n-sets", "2", *FAST, "--out", str(tmp_path / "abl")]) == 0
    assert "joint_indirect_effect" in capsys.readouterr().out


def test_heads_on_another_site_is_one_line(tmp_path, capsys):
    argv = ["mediate", PARADIGM, "--mediators", "heads", "--site", "mlp_out",
            "--out", str(tmp_path / "run")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--mediators heads patches head_out" in err
    assert not (tmp_path / "run").exists()


@pytest.fixture
def tiny_folder(make_model, tmp_path, monkeypatch):
    """A tiny GPT-2 saved to a folder, whose weights must never be loaded."""
    import probing.models

    model, tokenizer = make_model("gpt2")
    folder = tmp_path / "tiny-gpt2"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)

    def never(*args, **kwargs):
        raise AssertionError("the weights were loaded although an option was out of range")

    monkeypatch.setattr(probing.models, "load_model", never)
    return str(folder)


@pytest.mark.parametrize("argv,message", [
    (["patch", PARADIGM, "--contrast", "subject_number", "--layers", "99"],
     "layers [99] out of range for site 'resid_post': allowed 0..2"),
    (["mediate", PARADIGM, "--contrast", "subject_number", "--layers", "7"],
     "layers [7] out of range for site 'head_out': allowed 1..2"),
    (["patch", PARADIGM, "--contrast", "subject_number", "--layers", "1,1"],
     "layers repeat: [1, 1]"),
], ids=["patch", "mediate", "patch-repeated"])
def test_out_of_range_layer_is_refused_from_the_config(tiny_folder, tmp_path, capsys, argv,
                                                        message):
    assert main([*argv, "--model", tiny_folder, "--out", str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_out_of_range_unit_is_refused_from_the_config(tiny_folder, tmp_path, capsys):
    units = tmp_path / "units.csv"
    pd.DataFrame({"layer": [1], "site": ["resid_post"], "unit": [9999]}).to_csv(units,
                                                                            index=False)
    argv = ["ablate", PARADIGM, "--units", str(units), "--model", tiny_folder,
            "--out", str(tmp_path / "run")]
    assert main(argv) == 2
    assert "9999" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
