"""Experiment files: every error names the file, the line and the field; nothing loads."""

import textwrap

import pytest

from probing._core.errors import SpecError
from probing.pipeline.experiment import load_experiment
from tests.experiment.conftest import ROOT

GOOD = f"""\
name: exp
paradigms:
  - path: {ROOT}/paradigms/agreement_simple.yaml
    seeds: [0, 1]
  - {ROOT}/paradigms/rsa_number_animacy.yaml
models:
  - name: small
    path: smollm2-135m
  - name: small-control
    reinitialize: small
    seed: 3
analyses:
  - kind: behaviour
  - kind: rsa
    options: {{n_perm: 100}}
    seeds: [0, 1]
"""


def _write(tmp_path, text):
    path = tmp_path / "exp.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_valid_file_lists_paradigms_models_and_analyses(tmp_path):
    spec = load_experiment(_write(tmp_path, GOOD))
    assert [p.name for p in spec.paradigms] == ["agreement_simple", "rsa_number_animacy"]
    assert spec.paradigms[0].seeds == (0, 1) and spec.paradigms[1].seeds == (None,)
    assert spec.model("small-control").is_control and spec.model("small-control").seed == 3
    behaviour, rsa = spec.analyses
    assert behaviour.paradigms == ("agreement_simple", "rsa_number_animacy")
    assert rsa.paradigms == ("rsa_number_animacy",)  # rsa runs on rsa paradigms only
    assert rsa.seeds == (0, 1) and rsa.models == ("small", "small-control")


@pytest.mark.parametrize(("old", "new", "where"), [
    ("name: exp\n", "name: exp\nauthor: me\n", ":2: author: unknown field"),
    ("  - kind: behaviour\n", "  - kind: behavior\n", ":13: analyses.0.kind: unknown analysis"),
    ("{n_perm: 100}", "{n_perms: 100}", ":15: analyses.1.options.n_perms: unknown field"),
    ("{n_perm: 100}", "{n_perm: 0}", ":15: analyses.1.options: n_perm must be >= 1"),
    ("reinitialize: small\n", "reinitialize: big\n", ":10: models.1.reinitialize: names no"),
    ("name: small-control", "name: small", ":9: models.1: duplicate name 'small'"),
    ("seeds: [0, 1]\n  - ", "seeds: [0, 0]\n  - ", ":4: paradigms.0.seeds: seeds must be"),
    ("agreement_simple.yaml", "nope.yaml", ":3: paradigms.0.path: paradigm does not load"),
    ("    seed: 3\n", "    seed: 3\n    path: x\n", ":9: models.1: give exactly one of"),
    ("  - kind: rsa\n", "  - kind: rsa\n    paradigms: [agreement_simple]\n",
     ":15: analyses.1.paradigms.0: agreement_simple is kind minimal_pairs"),
    ("  - kind: behaviour\n", "  - kind: behaviour\n    seeds: [1]\n",
     ":14: analyses.0.seeds: behaviour has no random_state"),
    ("{n_perm: 100}", "{seed: 1}", ":15: analyses.1.options.seed: generation seeds go"),
    (f"  - {ROOT}/paradigms/rsa_number_animacy.yaml\n", "",
     ":13: analyses.1: rsa runs on rsa paradigms and this file has none"),
])
def test_errors_point_at_file_line_and_field(tmp_path, old, new, where):
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(SpecError) as err:
        load_experiment(path)
    assert str(err.value).startswith(f"{path}{where}"), str(err.value)


def test_the_cli_reports_a_bad_file_in_one_line_before_any_model(tmp_path, capsys):
    from probing.cli.main import main

    path = _write(tmp_path, GOOD.replace("kind: behaviour", "kind: nope"))
    assert main(["experiment", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}:13: analyses.0.kind" in err
    assert not (tmp_path / "out").exists()


def test_the_example_experiment_file_is_valid():
    spec = load_experiment(ROOT / "paradigms/experiments/agreement_paper.yaml")
    assert len(spec.models) >= 2 and any(m.is_control for m in spec.models)
    assert {a.kind for a in spec.analyses} == {"behaviour", "extract", "probe", "rsa"}


def test_the_lesion_example_is_valid_and_ablates_after_localizing():
    from probing.pipeline.experiment import plan_experiment

    spec = load_experiment(ROOT / "paradigms/experiments/localize_lesion.yaml")
    assert {a.kind for a in spec.analyses} == {"localize", "ablate", "patch", "mediate",
                                               "alignment"}
    steps = plan_experiment(spec)
    localize = {s.model: s for s in steps if s.analysis == "localize"}
    lesions = [s for s in steps if s.analysis == "lesion" and s.kind == "model"]
    assert len(lesions) == 2 * 3  # two models x three lexicon seeds
    for step in lesions:  # each reads the units localized in its own model, planned first
        assert step.deps == (localize[step.model].key,)
        assert steps.index(localize[step.model]) < steps.index(step)
    alignment = {s.paradigm for s in steps if s.analysis == "alignment"}
    assert alignment == {"lau2020_ratings", "naturalstories"}
