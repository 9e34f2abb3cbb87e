"""The step graph and its executor with a stand-in analysis that needs no model: keys,
retries, failures and pooling over seeds."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import probing
from probing._core.errors import ProbingError
from probing.pipeline.experiment import ANALYSES, Analysis, plan_experiment, run_experiment
from probing.pipeline.experiment.experiment_spec import load_experiment
from tests.experiment.conftest import ROOT

CALLS = []


@dataclasses.dataclass(frozen=True)
class FakeOptions:
    scale: float = 1.0
    fail: str = "never"  # never, once, always, input
    seed: int | None = None
    random_state: int = 0


def _fake_run(paradigm_path, lm, out, *, options):
    # `out` is a temporary sibling of the step folder: its parent names model and paradigm
    step = (str(out.parent), options.seed, options.random_state)
    CALLS.append(step)
    if options.fail == "input":
        raise ProbingError("bad input")
    if options.fail == "always" or (options.fail == "once" and CALLS.count(step) == 1):
        raise RuntimeError("flaky")
    value = options.scale * (10 * (options.seed or 0) + options.random_state)
    pd.DataFrame({"layer": [0, 0], "estimate": [value, value + 2.0], "model": "m",
                  "paradigm": "p"}).to_csv(out / "values.csv", index=False)


FAKE = Analysis(kind="fake", run=_fake_run, options=FakeOptions,
                pool=(("values", ("layer",), "estimate"),))

TEXT = f"""\
name: engine
paradigms:
  - path: {ROOT}/paradigms/agreement_simple.yaml
    seeds: [0, 1, 2]
  - path: {ROOT}/paradigms/garden_path_npz.yaml
models:
  - name: a
    path: not-a-model-never-loaded
  - name: a-control
    reinitialize: a
analyses:
  - kind: fake
    options: {{scale: 1.0}}
    seeds: [0, 5]
"""


@pytest.fixture(autouse=True)
def fake(monkeypatch):
    monkeypatch.setitem(ANALYSES, "fake", FAKE)
    CALLS.clear()


def _file(tmp_path, text=TEXT):
    (tmp_path / "exp.yaml").write_text(text)
    return tmp_path / "exp.yaml"


def _keys(tmp_path, text):
    return {s.folder: s.key for s in plan_experiment(load_experiment(_file(tmp_path, text)))}


def test_keys_change_with_exactly_what_changes_the_output(tmp_path, monkeypatch):
    base = _keys(tmp_path, TEXT)
    assert len(base) == 2 * (3 * 2 + 2) + 2 * 2  # models x (seeds x random states) + pools
    assert _keys(tmp_path, TEXT) == base
    scaled = _keys(tmp_path, TEXT.replace("scale: 1.0", "scale: 2.0"))
    assert scaled.keys() == base.keys() and not set(scaled.values()) & set(base.values())
    control = _keys(tmp_path, TEXT.replace("    reinitialize: a\n", "    reinitialize: a\n"
                                           "    seed: 1\n"))
    changed = {f for f in base if control[f] != base[f]}
    assert changed and all(f.startswith("fake/a-control/") for f in changed)
    monkeypatch.setattr(probing, "__version__", "99")
    assert not set(_keys(tmp_path, TEXT).values()) & set(base.values())


def test_pooled_table_reports_mean_and_spread_across_seeds(tmp_path):
    result = run_experiment(_file(tmp_path), tmp_path / "out")
    assert not result.failed and result.loads == []  # the stand-in never asks for a model
    pooled = pd.read_csv(tmp_path / "out/fake/a/agreement_simple/pooled/values.csv")
    per_step = [10 * seed + rs + 1.0 for seed in (0, 1, 2) for rs in (0, 5)]  # mean of 2 rows
    assert pooled["estimate"].item() == pytest.approx(np.mean(per_step))
    assert pooled["sd"].item() == pytest.approx(np.std(per_step, ddof=1))
    assert (pooled["min"].item(), pooled["max"].item(), pooled["n"].item()) == (1.0, 26.0, 6)
    assert pooled[["model", "paradigm"]].iloc[0].tolist() == ["a", "agreement_simple"]


def test_a_flaky_step_is_retried(tmp_path):
    result = run_experiment(_file(tmp_path, TEXT.replace("scale: 1.0", "fail: once")),
                            tmp_path / "out", retries=1)
    assert not result.failed and len(result.ran) == 20
    assert len(CALLS) == 2 * 16


def test_failures_are_recorded_and_the_rest_runs(tmp_path):
    text = TEXT.replace("scale: 1.0", "fail: always") + "  - kind: fake\n    name: fine\n"
    result = run_experiment(_file(tmp_path, text), tmp_path / "out", retries=2)
    failing = [f for f in result.failed if f.startswith("fake/")]
    assert len(failing) == 20 and len(result.ran) == 2 * 4 + 2  # "fine": no analysis seeds
    assert result.failed["fake/a/agreement_simple/pooled"] == "a step it pools failed"
    assert CALLS.count((str(tmp_path / "out/fake/a/agreement_simple"), 0, 0)) == 3  # 1 + 2 retries
    manifest = (tmp_path / "out/manifest.json").read_text()
    assert '"status": "failed"' in manifest and "RuntimeError: flaky" in manifest


def test_input_errors_are_not_retried(tmp_path):
    text = TEXT.replace("scale: 1.0", "fail: input").replace("seeds: [0, 5]", "seeds: [0]")
    result = run_experiment(_file(tmp_path, text), tmp_path / "out", retries=3)
    assert all(error == "ProbingError: bad input" for error in result.failed.values()
               if not error.startswith("a step"))
    assert len(CALLS) == 2 * 4  # one try per model step
