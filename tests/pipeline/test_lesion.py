"""``probing lesion``: several paradigms in one call, one correction family, resume,
inputs checked before the model loads."""

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from probing._core.errors import ProbingError
from probing._core.vocabulary import table_columns
from probing.causal import LESION_COLUMNS
from probing.cli.main import main
from probing.pipeline.commands.ablate import AblateOptions, run_ablate
from probing.pipeline.lesion_run import run_lesion
from tests.conftest import PARADIGMS

PAIRS = PARADIGMS / "agreement_pp_attractor.yaml"
SUITE = PARADIGMS / "syntaxgym_number_src.yaml"
FAST = {"limit": 2, "n_boot": 20, "n_sets": 2, "batch_size": 16}


@pytest.fixture
def gpt2(make_lm):
    return make_lm("gpt2")


def never_loaded():
    raise AssertionError("the model was loaded although it was not needed")


def _units(tmp_path):
    path = tmp_path / "units.csv"
    pd.DataFrame({"layer": [1, 1, 2, 2], "site": "resid_post", "unit": [3, 5, 0, 7],
                  "selected": [True, True, True, False]}).to_csv(path, index=False)
    return path


def test_two_paradigms_one_family_folders_equal_probing_ablate_and_resume(gpt2, tmp_path):
    units = _units(tmp_path)
    tables = run_lesion([PAIRS, SUITE], gpt2, tmp_path / "study", units=units,
                        options=AblateOptions(**FAST), limits={"syntaxgym_number_src": 1})
    files = {p.name for p in (tmp_path / "study").iterdir()}
    assert {"agreement_pp_attractor", "syntaxgym_number_src", "lesion.csv", "ablation.csv",
            "ablation_null.csv", "ablation_behaviour.csv", "lesion.png",
            "manifest.json"} <= files
    lesion = pd.read_csv(tmp_path / "study" / "lesion.csv")
    assert list(lesion.columns) == [*LESION_COLUMNS, "model", "paradigm"]
    assert list(lesion.columns) == list(table_columns("lesion", identity=True))
    assert set(lesion["paradigm"]) == {"agreement_pp_attractor", "syntaxgym_number_src"}
    # Holm across every phenomenon of both paradigms, per metric
    accuracy = lesion[lesion["metric"] == "accuracy"]
    assert len(accuracy) == 2
    np.testing.assert_allclose(accuracy["p_corr"],
                               multipletests(accuracy["p_val"], method="holm")[1])
    # each paradigm's folder is what probing ablate writes with the same options
    alone = run_ablate(SUITE, gpt2, tmp_path / "alone",
                       options=AblateOptions(units=units, **{**FAST, "limit": 1}))
    mine = tables["ablation"][tables["ablation"]["paradigm"] == "syntaxgym_number_src"]
    np.testing.assert_allclose(mine["estimate"], alone["ablation"]["estimate"])
    np.testing.assert_allclose(mine["p_val"], alone["ablation"]["p_val"])
    assert (mine["n"] == 1).all()  # the per-paradigm limit
    manifest = json.loads((tmp_path / "study" / "manifest.json").read_text())
    assert manifest["options"]["limits"] == {"syntaxgym_number_src": 1}
    # resume: finished folders are read back, the model is not needed
    again = run_lesion([PAIRS, SUITE], never_loaded, tmp_path / "study", units=units,
                       options=AblateOptions(**FAST), limits={"syntaxgym_number_src": 1},
                       resume=True)
    pd.testing.assert_frame_equal(tables["lesion"], again["lesion"], check_dtype=False)
    manifest = json.loads((tmp_path / "study" / "manifest.json").read_text())
    assert manifest["model"] == gpt2.provenance  # read back from the paradigm folders
    with pytest.raises(ProbingError, match="holds a run with other options"):
        run_lesion([PAIRS], never_loaded, tmp_path / "study", units=units,
                   options=AblateOptions(**{**FAST, "ablation": "mean"}), resume=True)
    with pytest.raises(ProbingError, match="use --force"):
        run_lesion([PAIRS], never_loaded, tmp_path / "study", units=units,
                   options=AblateOptions(**FAST))


def test_resume_refuses_folders_of_other_units_or_another_model(gpt2, tmp_path):
    units, study = _units(tmp_path), tmp_path / "study"
    first = run_lesion([PAIRS], gpt2, study, units=units, options=AblateOptions(**FAST))
    # the same path now holds other units: the folder's random sets would differ too
    table = pd.read_csv(units)
    table.loc[0, "unit"] = 4
    table.to_csv(units, index=False)
    with pytest.raises(ProbingError, match="units.csv: ablated other units"):
        run_lesion([PAIRS], never_loaded, study, units=units, options=AblateOptions(**FAST),
                   resume=True)
    table.loc[0, "unit"] = 3  # back to the ablated units: read back, the model not needed
    table.sample(frac=1.0, random_state=1).to_csv(units, index=False)  # row order is free
    again = run_lesion([PAIRS], never_loaded, study, units=units,
                       options=AblateOptions(**FAST), resume=True)
    pd.testing.assert_frame_equal(first["lesion"], again["lesion"], check_dtype=False)
    # a finished folder of another model is not joined with a run of this one
    manifest = study / "agreement_pp_attractor" / "manifest.json"
    recorded = json.loads(manifest.read_text())
    recorded["model"]["model"]["architecture"] = "LlamaForCausalLM"
    manifest.write_text(json.dumps(recorded))
    with pytest.raises(ProbingError, match="run with different models"):
        run_lesion([PAIRS, SUITE], gpt2, study, units=units, options=AblateOptions(**FAST),
                   resume=True)
    assert not (study / "syntaxgym_number_src").exists()  # refused before running it


@pytest.mark.parametrize("paradigms,limits,message", [
    ([PAIRS, PAIRS], None, "is given twice"),
    ([PARADIGMS / "rsa_number_animacy.yaml"], None, "probing lesion needs kind"),
    ([PAIRS], {"blimp": 3}, r"unknown paradigm\(s\) \['blimp'\]"),
    ([PAIRS], {"agreement_pp_attractor": 0}, "must be a whole number >= 1"),
    ([], None, "no paradigm given"),
], ids=["twice", "kind", "limit-name", "limit-value", "empty"])
def test_bad_input_never_loads_the_model(tmp_path, paradigms, limits, message):
    with pytest.raises(ProbingError, match=message):
        run_lesion(paradigms, never_loaded, tmp_path / "study", units=_units(tmp_path),
                   limits=limits)
    assert not (tmp_path / "study").exists()


def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys):
    argv = ["lesion", str(PAIRS), str(SUITE), "--units", str(tmp_path / "none.csv"),
            "--out", str(tmp_path / "study"), "--model", str(tmp_path / "no-model")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err
    assert main([*argv[:4], str(_units(tmp_path)), *argv[5:], "--n-sets", "0"]) == 2
    assert "n_sets must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "study").exists()


def _selection_stimuli(tmp_path, texts):
    pd.DataFrame({"stimulus_id": [f"loc{i}" for i in range(len(texts))], "text": texts,
                  "paradigm": "loc"}).to_csv(tmp_path / "stimuli.csv", index=False)


def test_a_paradigm_that_selected_the_units_is_refused_before_the_model(tmp_path):
    from probing.paradigms import generate, load_paradigm

    shared = generate(load_paradigm(PAIRS)).table["text"].iloc[3]
    _selection_stimuli(tmp_path, ["A sentence of the localizer.", shared])
    with pytest.raises(ProbingError, match=r"agreement_pp_attractor.yaml: 1 stimuli \(e.g. .*\) "
                                           r"selected the units .*stimuli.csv\); a lesion must "
                                           r"be measured on other items"):
        run_lesion([PAIRS], never_loaded, tmp_path / "study", units=_units(tmp_path))
    assert not (tmp_path / "study").exists()


def test_the_selection_items_are_recorded(gpt2, tmp_path):
    _selection_stimuli(tmp_path, ["A sentence of the localizer.", "Another one."])
    run_lesion([PAIRS], gpt2, tmp_path / "study", units=_units(tmp_path),
               options=AblateOptions(**FAST))
    manifest = json.loads((tmp_path / "study" / "manifest.json").read_text())
    items = manifest["options"]["selection_items"]
    assert items["n_stimuli"] == 2 and items["paradigm"] == ["loc"]
    assert items["stimuli"].endswith("stimuli.csv") and len(items["stimulus_ids_sha256"]) == 64


def test_the_report_says_which_paradigms_were_reused():
    from probing.commands import Result
    from probing.pipeline.commands.lesion import COMMAND

    columns = ["estimate", "ci_low", "ci_high", "stat", "p_val", "p_corr", "p_normal",
               "p_normal_corr"]
    table = pd.DataFrame({c: [0.5] for c in columns}).assign(
        paradigm="syntaxgym_number_src", phenomenon="number", metric="accuracy")
    text = COMMAND.report(Result(tables={"lesion": table},
                                 notes={"reused": ["agreement_pp_attractor"]}), "study")
    assert text.splitlines()[0] == ("reused the finished agreement_pp_attractor "
                                    "(in study/agreement_pp_attractor/)")
    assert "wrote study/" in text and "syntaxgym_number_src" in text
