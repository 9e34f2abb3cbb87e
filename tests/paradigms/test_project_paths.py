"""A user's project (paradigms/ beside data/) and the shipped lexicon, allowed by default;
a path outside the project still needs permission."""

import pytest

from probing._core.errors import SpecError
from probing._core.paths import ENV_VAR
from probing.paradigms import generate, load_paradigm
from tests.conftest import DATA

PAIRS = """name: mine
version: 1
kind: minimal_pairs
seed: 0
source: {format: csv, path: PATH}
phenomenon: agreement
"""

DESIGN = (DATA.parents[0] / "paradigms" / "agreement_simple.yaml").read_text(encoding="utf-8")


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    for folder in ("proj/paradigms/sub", "proj/data", "proj/secrets"):
        (tmp_path / folder).mkdir(parents=True)
    table = "good,bad\nThe dog barks.,The dog bark.\n"
    for folder in ("proj/data", "proj/secrets"):
        (tmp_path / folder / "x.csv").write_text(table)
    (tmp_path / "elsewhere.csv").write_text(table)
    return tmp_path / "proj"


@pytest.mark.parametrize("where,path", [("paradigms", "../data/x.csv"),
                                        ("paradigms/sub", "../../data/x.csv")])
def test_a_project_paradigm_reads_the_project_data(project, where, path):
    file = project / where / "p.yaml"
    file.write_text(PAIRS.replace("PATH", path))
    stimuli = generate(load_paradigm(file))
    assert stimuli.table["text"].tolist() == ["The dog barks.", "The dog bark."]


@pytest.mark.parametrize("path", ["../secrets/x.csv", "../../elsewhere.csv"])
def test_a_path_outside_the_project_still_needs_permission(project, path, monkeypatch):
    file = project / "paradigms" / "p.yaml"
    file.write_text(PAIRS.replace("PATH", path))
    with pytest.raises(SpecError, match=r"p\.yaml:5: source\.path: '[./a-z]+x?\.csv' is outside "
                       r"the folders a paradigm file may read \(its own folder, its project's "
                       r"data/ and paradigms/"):
        load_paradigm(file)
    monkeypatch.setenv(ENV_VAR, str(project.parent))
    assert len(generate(load_paradigm(file)).table) == 2


def test_a_paradigm_outside_a_paradigms_folder_reads_only_its_own(project):
    file = project / "p.yaml"  # proj/ itself is not a paradigms/ folder
    file.write_text(PAIRS.replace("PATH", "secrets/x.csv"))
    assert len(generate(load_paradigm(file)).table) == 2  # its own subfolder
    (project / "secrets" / "p.yaml").write_text(PAIRS.replace("PATH", "../data/x.csv"))
    with pytest.raises(SpecError, match="is outside the folders"):
        load_paradigm(project / "secrets" / "p.yaml")


def test_a_user_paradigm_uses_the_shipped_lexicon_by_name(tmp_path):
    text = DESIGN.replace("lexicon: ../data/lexicon/english_core.tsv",
                          "lexicon: probing:english_core")
    assert "probing:english_core" in text
    (tmp_path / "mine.yaml").write_text(text)
    spec = load_paradigm(tmp_path / "mine.yaml")
    assert spec.lexicon == "probing:english_core"
    ours = generate(load_paradigm(DATA.parent / "paradigms" / "agreement_simple.yaml"))
    assert generate(spec).table["text"].tolist() == ours.table["text"].tolist()


def test_an_unknown_shipped_lexicon_is_one_line(tmp_path):
    text = DESIGN.replace("lexicon: ../data/lexicon/english_core.tsv", "lexicon: probing:english")
    (tmp_path / "mine.yaml").write_text(text)
    with pytest.raises(SpecError, match=r"mine\.yaml:11: lexicon: 'probing:english' does not "
                       r"exist \(looked in .*data/lexicon/english\.tsv\)"):
        load_paradigm(tmp_path / "mine.yaml")
