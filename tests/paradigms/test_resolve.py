"""One rule turns what a command was given into a file: a path, or a shipped name."""

import pytest

from probing._core.errors import ProbingError
from probing._core.locations import resolve_file, resource_root, shipped_files
from probing.cli.main import main
from probing.paradigms import load_paradigm
from tests.conftest import PARADIGMS


def test_a_bare_name_is_the_shipped_paradigm(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_file("agreement_simple") == PARADIGMS / "agreement_simple.yaml"
    assert resolve_file("probing:agreement_simple") == PARADIGMS / "agreement_simple.yaml"
    assert load_paradigm("agreement_simple").name == "agreement_simple"


def test_an_existing_file_wins_over_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "agreement_simple").write_text("name: x\n")
    assert resolve_file("agreement_simple") == tmp_path.joinpath("agreement_simple").relative_to(tmp_path)


def test_a_local_yaml_of_the_same_name_is_ambiguous(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "agreement_simple.yaml").write_text("name: mine\n")
    with pytest.raises(ProbingError, match=r"ambiguous: \./agreement_simple\.yaml and the "
                       r"shipped paradigm agreement_simple; write \./agreement_simple\.yaml "
                       r"for yours or probing:agreement_simple"):
        resolve_file("agreement_simple")
    assert resolve_file("probing:agreement_simple") == PARADIGMS / "agreement_simple.yaml"


def test_the_shipped_folder_itself_is_not_ambiguous(monkeypatch):
    monkeypatch.chdir(PARADIGMS)  # the same file, reached two ways
    assert resolve_file("agreement_simple") == PARADIGMS / "agreement_simple.yaml"


def test_an_unknown_name_names_the_nearest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProbingError) as info:
        resolve_file("agrement_simple")
    assert str(info.value).startswith("'agrement_simple' is neither a file nor a shipped "
                                      "paradigm; nearest shipped: agreement_simple")
    assert str(info.value).endswith("(probing list shows them all)")


def test_an_experiment_name_given_to_a_paradigm_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProbingError, match=r"is a shipped experiment, not a paradigm \(use "
                       r"probing experiment agreement_paper\)"):
        resolve_file("agreement_paper")
    assert resolve_file("agreement_paper", file_type="experiment") == shipped_files("experiment")[
        "agreement_paper"]


def test_documented_paths_work_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_file("paradigms/experiments/agreement_paper.yaml") == (
        resource_root() / "paradigms" / "experiments" / "agreement_paper.yaml")
    assert resolve_file("paradigms/nothing.yaml").as_posix() == "paradigms/nothing.yaml"
    assert resolve_file("elsewhere/x.yaml").as_posix() == "elsewhere/x.yaml"


def test_every_command_takes_a_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "agreement_simple", "--out", "stim.csv"]) == 0
    assert (tmp_path / "stim.csv").is_file()
    assert main(["validate", "agreement_simple", "paradigms/filler_gap.yaml"]) == 0
    assert capsys.readouterr().out.count("ok ") == 2
    assert main(["generate", "agreement_simpel"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("probing generate: error: 'agreement_simpel' is neither a file")
    assert err.count("\n") == 1
