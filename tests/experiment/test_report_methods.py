"""The report's Methods section names what ran, and only that; ``probing report`` works
on a single run folder too."""

import re

import pytest

from probing.pipeline.experiment import load_experiment, plan_experiment
from probing.pipeline.experiment.methods import experiment_methods
from probing.pipeline.experiment.runner import build_experiment_manifest
from probing.pipeline.experiment.step_runner import GroupResult
from probing.pipeline.report import build_report, write_report
from tests.experiment.conftest import ROOT, shrink_paradigm
from tests.models.conftest import make_lm, make_model, make_tokenizer, tokenizer_json  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore:SANITY CHECK FAILED")

FACTORIAL_RATINGS = """\
name: factorial-ratings
paradigms:
  - path: paradigms/garden.yaml
    seeds: [3]
  - path: {ratings}
models:
  - name: default
    path: smollm2-135m
analyses:
  - kind: behaviour
    options: {{n_boot: 50}}
  - kind: alignment
"""
LOADED = {"model": "smollm2-135m", "source": "gguf", "dtype": "float32", "device": "cpu",
          "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
          "weights": "SmolLM2-135M-Instruct quantised to 4 bits (GGUF Q4_1), de-quantised to "
                     "float32 on load"}


def _text(fragments):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", "".join(fragments))).replace("&amp;", "&")


@pytest.fixture
def factorial_ratings(tmp_path):
    shrink_paradigm(ROOT / "paradigms/garden_path_npz.yaml", tmp_path / "paradigms/garden.yaml", 2)
    path = tmp_path / "experiment.yaml"
    path.write_text(FACTORIAL_RATINGS.format(ratings=ROOT / "paradigms/lau2020_ratings.yaml"))
    spec = load_experiment(path)
    steps = plan_experiment(spec)
    record = {"started": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:01:00+00:00",
              "executor": "serial", "threads": None, "command": ["probing", "experiment"],
              "cwd": str(tmp_path)}
    result = GroupResult(ran=[s.folder for s in steps], loads=["default"],
                         models={"default": LOADED}, devices={"default": "cpu"})
    return build_experiment_manifest(spec, steps, result, record), [{**record, "models_loaded":
                                                                   {"default": LOADED}}]


def test_a_factorial_and_ratings_experiment_cites_only_what_ran(factorial_ratings):
    manifest, history = factorial_ratings
    text = _text(experiment_methods(manifest, history, lambda a: ""))
    for expected in ("SyntaxGym", "Lau et al. (2020) TACL", "Acceptability ratings",
                     "factors", "generation seed 3", "Futrell et al. (2019) NAACL"):
        assert expected in text, expected
    for absent in ("BLiMP", "Marvin & Linzen", "Natural Stories", "Reading times",
                   "reading-time", "Minimal pairs", "seed None", "[None]"):
        assert absent not in text, absent
    assert ("default : SmolLM2-135M-Instruct quantised to 4 bits (GGUF Q4_1), de-quantised to "
            "float32 on load; SHA-256 b179c9523d0e6a0f; run on cpu.") in text


def test_the_garden_path_design_is_described_from_the_generated_stimuli(factorial_ratings):
    manifest, _ = factorial_ratings
    (garden,) = [p for p in manifest["paradigms"] if p["kind"] == "factorial"]
    assert garden["seeds"] == [3] and garden["design"]["n_items"] == 2
    assert garden["design"]["n_conditions"] == 4 and garden["n_stimuli"] == {"3": 8}
    (ratings,) = [p for p in manifest["paradigms"] if p["kind"] == "ratings"]
    assert ratings["seeds"] == [0]  # the file's own seed, not None


def test_a_model_no_run_loaded_is_said_so(factorial_ratings):
    manifest, _ = factorial_ratings
    assert "no recorded run loaded it" in _text(experiment_methods(manifest, [], lambda a: ""))


def test_report_on_a_single_run_folder(tmp_path, make_lm):  # noqa: F811
    from probing.pipeline.paradigm_run import RunOptions, run_paradigm

    shrink_paradigm(ROOT / "paradigms/agreement_simple.yaml", tmp_path / "agreement.yaml", 2)
    run_paradigm(tmp_path / "agreement.yaml", make_lm("gpt2"), tmp_path / "run",
                 options=RunOptions(n_boot=20))
    page = write_report(tmp_path / "run")
    text = _text([page.read_text()])
    assert "Methods" in text and "agreement_simple: Subject-verb agreement" in text
    assert "minimal_pairs design; 8 stimuli; generation seed 0" in text
    assert "Marvin & Linzen (2018) EMNLP" in text and "SyntaxGym" not in text
    assert "summary" in text and "accuracy" in text and "n_boot=20" in text


def test_report_on_a_run_folder_from_the_cli(tmp_path, make_lm, capsys):  # noqa: F811
    from probing.cli.main import main
    from probing.pipeline.paradigm_run import RunOptions, run_paradigm

    shrink_paradigm(ROOT / "paradigms/garden_path_npz.yaml", tmp_path / "garden.yaml", 2)
    run_paradigm(tmp_path / "garden.yaml", make_lm("gpt2"), tmp_path / "run",
                 options=RunOptions(n_boot=20))
    assert main(["report", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "run/report.html")
    assert "Gauthier et al. (2020)" in build_report(tmp_path / "run")
