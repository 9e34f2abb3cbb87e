"""Running an experiment: caching by content, reruns of what changed, resuming."""

import dataclasses

import pytest

from probing.pipeline.experiment import ANALYSES, plan_experiment, run_experiment
from probing.pipeline.experiment.experiment_spec import load_experiment
from tests.experiment.conftest import assert_same_tables

pytestmark = pytest.mark.filterwarnings("ignore:SANITY CHECK FAILED")


def test_first_run_loads_each_model_once(reference):
    folder, result = reference
    steps = plan_experiment(load_experiment(folder / "experiment.yaml"))
    # 2 analyses x 2 models x (2 seeds + 1 seed) model steps, and a pool per analysis x
    # model for the two-seed paradigm
    assert len(steps) == 2 * 2 * 3 + 2 * 2
    assert sorted(result.ran) == sorted(s.folder for s in steps)
    assert sorted(result.loads) == ["gpt2", "llama"]


def test_second_run_does_no_model_work(reference, copy_of, monkeypatch):
    folder = copy_of(reference[0])
    loads = []
    monkeypatch.setattr("probing.models.load_model", lambda *a, **k: loads.append(a))
    second = run_experiment(folder / "experiment.yaml", folder / "results", threads=1)
    assert loads == [] and second.loads == [] and second.ran == []
    assert sorted(second.cached) == sorted(reference[1].ran)
    assert_same_tables(folder / "results", reference[0] / "results")


def test_touching_one_paradigm_reruns_only_its_steps(reference, copy_of):
    folder = copy_of(reference[0])
    with open(folder / "paradigms/garden.yaml", "a") as fh:
        fh.write("# touched\n")
    again = run_experiment(folder / "experiment.yaml", folder / "results", threads=1)
    assert sorted(again.ran) == sorted(f"{a}/{m}/garden_path_npz/seed-default"
                                       for a in ("behaviour", "extract") for m in ("gpt2", "llama"))
    assert sorted(again.loads) == ["gpt2", "llama"]
    assert all("garden_path_npz" not in f for f in again.cached)
    # a comment changes the file, not the stimuli: the recomputed tables are the same bytes
    assert_same_tables(folder / "results", reference[0] / "results")


def test_interrupted_run_resumes_to_the_same_result(reference, copy_of, monkeypatch):
    folder = copy_of(reference[0], results=False)
    real = ANALYSES["extract"]
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # what Ctrl-C (or a dying job) does mid-step
        return real.run(*args, **kwargs)

    monkeypatch.setitem(ANALYSES, "extract", dataclasses.replace(real, run=interrupted))
    with pytest.raises(KeyboardInterrupt):
        run_experiment(folder / "experiment.yaml", folder / "results", threads=1)
    assert not list((folder / "results").rglob("*partial*"))  # nothing half-written remains
    monkeypatch.setitem(ANALYSES, "extract", real)
    resumed = run_experiment(folder / "experiment.yaml", folder / "results", threads=1)
    assert len(resumed.cached) == 3 + 2  # behaviour of gpt2, and the two finished extractions
    assert not resumed.failed
    assert_same_tables(folder / "results", reference[0] / "results")


def test_dry_run_prints_the_plan_and_what_is_cached(reference, copy_of, capsys):
    from probing.cli.main import main

    folder = copy_of(reference[0])
    (folder / "paradigms/garden.yaml").write_text(
        (folder / "paradigms/garden.yaml").read_text() + "# touched\n")
    before = sorted(p for p in (folder / "results").rglob("*") if p.is_file())
    assert main(["experiment", str(folder / "experiment.yaml"), "--out",
                 str(folder / "results"), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "16 steps: 12 cached, 4 to run"
    assert all(line.startswith("run") == ("garden_path_npz" in line) for line in lines[:-1])
    assert sorted(p for p in (folder / "results").rglob("*") if p.is_file()) == before


@pytest.mark.slow
def test_a_killed_process_resumes_to_the_same_result(reference, copy_of):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.experiment.conftest import ROOT

    folder = copy_of(reference[0], results=False)
    command = [sys.executable, "-m", "probing", "experiment", str(folder / "experiment.yaml"),
               "--out", str(folder / "results"), "--threads", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list((folder / "results").rglob("step.json")) and time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before a step was written"
        time.sleep(0.05)
    time.sleep(0.5)  # into the next step, whose temporary folder is then left behind
    os.killpg(process.pid, signal.SIGKILL)  # no cleanup runs: as when a job is killed
    process.wait()
    done = len(list((folder / "results").rglob("step.json")))
    assert 1 <= done < 16
    resumed = run_experiment(folder / "experiment.yaml", folder / "results", threads=1)
    assert len(resumed.cached) == done and len(resumed.ran) == 16 - done
    assert not list((folder / "results").rglob("*partial*"))  # the killed step's leftovers
    assert_same_tables(folder / "results", reference[0] / "results")
