"""A command that fails on a bad input leaves nothing behind: no run folder, no ``runs/``
parent, no cache entry (run in an empty working directory, everything listed after)."""

from pathlib import Path

import pytest

from probing.cli.main import main

REPO = Path(__file__).resolve().parents[2]
P = REPO / "paradigms"
RSA, SIMPLE = str(P / "rsa_number_animacy.yaml"), str(P / "agreement_simple.yaml")
PP, LABELS = str(P / "agreement_pp_attractor.yaml"), str(P / "agreement_labels.yaml")

CASES = {
    "validate": ["validate", "bad.yaml"],
    "generate": ["generate", "bad.yaml"],
    "run": ["run", "bad.yaml"],
    "run-table": ["run", "empty.csv"],
    "extract": ["extract", "empty.csv", "--out", "acts"],
    "probe": ["probe", LABELS, "--label", "no_such_label"],
    "rsa-kind": ["rsa", SIMPLE],
    "patch-kind": ["patch", RSA],
    "mediate-kind": ["mediate", RSA],
    "ablate-units": ["ablate", PP, "--units", "missing.csv"],
    "ablate-kind": ["ablate", RSA, "--units", "units.csv"],
    "localize": ["localize", SIMPLE, "--contrast", "sentences-nonwords"],
    "experiment": ["experiment", "bad.yaml", "--out", "results"],
    "report": ["report", "results"],
}


@pytest.mark.parametrize("argv", CASES.values(), ids=CASES.keys())
def test_an_input_error_leaves_no_new_file(argv, tmp_path, monkeypatch, capsys):
    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded although an input was bad")

    monkeypatch.setattr("probing.models.load_model", no_model)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))  # the default cache lives under it
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".cache"))
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "units.csv").write_text("layer,site,unit\n0,resid_post,1\n")
    before = sorted(tmp_path.rglob("*"))
    code = main([argv[0], *argv[1:], *(["--model", "no-model"] if argv[0] in (
        "run", "extract", "probe", "rsa", "patch", "mediate", "ablate", "localize") else [])])
    err = capsys.readouterr().err
    assert code in (1, 2), err
    assert "Traceback" not in err and err.strip(), err
    assert sorted(tmp_path.rglob("*")) == before, err
