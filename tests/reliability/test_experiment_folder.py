"""An experiment folder behaves like a pipeline tool's: locked while a run writes it,
every step's outputs hashed, one history record per run, files with the user's umask.

Concurrency is tested with real processes: a second Python process holds the lock, or
two ``python -m probing experiment`` processes run on one folder at once.
"""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from probing._core.errors import ProbingError
from probing.cli.main import main
from probing.pipeline.experiment import run_experiment
from probing.pipeline.experiment.history import load_history
from probing.pipeline.experiment.status import experiment_status
from tests.experiment.conftest import ROOT, save_tiny_model, shrink_paradigm

pytestmark = pytest.mark.filterwarnings("ignore:SANITY CHECK FAILED")

SMALL = """\
name: small
paradigms:
  - path: paradigms/agreement.yaml
    seeds: [0, 1]
models:
  - name: gpt2
    path: models/gpt2
analyses:
  - kind: behaviour
    options: {n_boot: 20}
"""
STEPS = ["behaviour/gpt2/agreement_simple/seed-0", "behaviour/gpt2/agreement_simple/seed-1",
         "behaviour/gpt2/agreement_simple/pooled"]
SEED0 = Path(STEPS[0])
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}


def write_small(folder):
    save_tiny_model("gpt2", folder / "models/gpt2")
    shrink_paradigm(ROOT / "paradigms/agreement_simple.yaml",
                    folder / "paradigms/agreement.yaml", 2)
    (folder / "experiment.yaml").write_text(SMALL)
    return folder / "experiment.yaml"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """An experiment folder (one tiny model, one paradigm, two seeds) run once."""
    folder = tmp_path_factory.mktemp("small")
    result = run_experiment(write_small(folder), folder / "results", threads=1)
    assert not result.failed and sorted(result.ran) == sorted(STEPS)
    return folder


@pytest.fixture
def copy(small, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(small, target)
    return target


def _hold_lock(out):
    """A second process that takes ``out``'s lock and keeps it until its stdin closes."""
    code = ("import sys; from probing.pipeline.experiment.lock import folder_lock\n"
            f"with folder_lock({str(out)!r}):\n"
            "    print('held', flush=True); sys.stdin.read()\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=ENV)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_run_refuses_in_one_line_while_another_holds_the_folder(copy, capsys):
    out = copy / "results"
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    holder = _hold_lock(out)
    try:
        with pytest.raises(ProbingError, match=rf"in use by pid {holder.pid} on .*--wait"):
            run_experiment(copy / "experiment.yaml", out)
        assert main(["experiment", str(copy / "experiment.yaml"), "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"pid {holder.pid}" in err
        assert main(["status", str(out)]) == 0  # status reads; it needs no lock
        assert f"in use by pid {holder.pid}" in capsys.readouterr().out
    finally:
        holder.communicate("")
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert {p: b for p, b in after.items() if ".probing" not in p.parts} == \
        {p: b for p, b in before.items() if ".probing" not in p.parts}
    assert len(load_history(out)) == 1  # the refused run added no record


@pytest.mark.slow  # two full CLI processes: ~40 s alone, 2 min on a loaded 2-core machine
def test_two_runs_on_one_folder_compute_each_step_once(small, tmp_path):
    shutil.copytree(small, tmp_path / "exp", ignore=shutil.ignore_patterns("results"))
    command = [sys.executable, "-m", "probing", "experiment", "experiment.yaml", "--out",
               "results", "--wait", "--threads", "1"]
    runs = [subprocess.Popen(command, cwd=tmp_path / "exp", env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    history = load_history(tmp_path / "exp/results")
    assert len(history) == 2
    ran = [record["steps"]["ran"] for record in history]
    assert sorted(ran[0]) == sorted(STEPS) and ran[1] == []  # the second waited, then cached
    assert sorted(history[1]["steps"]["cached"]) == sorted(STEPS)
    assert any("waiting for pid" in out for out, _ in outputs)
    status = experiment_status(tmp_path / "exp/results")
    assert (status["state"] == "done").all()
    for step in STEPS[:2]:
        assert (tmp_path / "exp/results" / step / "summary.csv").read_bytes() == \
            (small / "results" / step / "summary.csv").read_bytes()


def test_a_killed_runs_lock_is_taken_over(copy, caplog):
    out = copy / "results"
    holder = _hold_lock(out)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert json.loads((out / ".probing/holder.json").read_text())["pid"] == holder.pid
    with caplog.at_level("WARNING", logger="probing.pipeline.experiment.lock"):
        result = run_experiment(copy / "experiment.yaml", out)
    assert sorted(result.cached) == sorted(STEPS) and not result.ran
    assert f"stale lock of pid {holder.pid}" in caplog.text and "not running" in caplog.text
    assert not (out / ".probing/holder.json").exists()


def test_a_hand_edited_table_is_reported_and_recomputed(copy, capsys):
    out = copy / "results"
    summary = out / SEED0 / "summary.csv"
    original = summary.read_bytes()
    summary.write_text(summary.read_text().replace("0.", "0.9", 1))
    assert main(["status", str(out)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert f"changed  {SEED0.as_posix()}" in lines and "2 done, 1 changed" in lines
    from probing.pipeline.report import build_report

    assert "Warning: the outputs of 1 step(s) were changed by hand" in build_report(out)
    assert main(["experiment", str(copy / "experiment.yaml"), "--out", str(out),
                 "--dry-run"]) == 0
    assert f"rerun  model {SEED0.as_posix()}" in capsys.readouterr().out
    said = []
    result = run_experiment(copy / "experiment.yaml", out, echo=said.append)
    assert result.ran == [SEED0.as_posix()] and len(result.cached) == 2
    assert said == [f"recomputing 1 step(s) whose outputs were changed by hand: "
                    f"{SEED0.as_posix()}"]
    assert summary.read_bytes() == original
    assert load_history(out)[-1]["steps"]["recomputed"] == [SEED0.as_posix()]
    assert (experiment_status(out)["state"] == "done").all()
    assert "changed by hand" not in build_report(out)


@pytest.mark.parametrize("change", ["added", "removed", "folder"])
def test_status_tells_added_removed_and_missing_outputs(copy, change):
    out = copy / "results"
    if change == "added":
        (out / SEED0 / "notes.txt").write_text("mine")
    elif change == "removed":
        (out / SEED0 / "words.csv").unlink()
    else:
        shutil.rmtree(out / SEED0)
    states = dict(experiment_status(out)[["folder", "state"]].itertuples(index=False))
    assert states[SEED0.as_posix()] == ("missing" if change == "folder" else "changed")
    assert states[STEPS[1]] == "done"


def test_status_names_a_step_whose_inputs_changed_as_stale(copy):
    paradigm = copy / "paradigms/agreement.yaml"
    paradigm.write_text(paradigm.read_text().replace("items_per_cell: 2", "items_per_cell: 3"))
    # the folder records the absolute path of the file it ran from: the copy's is given
    states = experiment_status(copy / "results", path=copy / "experiment.yaml")["state"]
    assert set(states) == {"stale"}


@pytest.mark.parametrize("umask", [0o022, 0o002], ids=["umask022", "umask002"])
def test_a_recomputed_step_and_the_records_get_the_umask(copy, umask):
    out = copy / "results"
    (out / SEED0 / "notes.txt").write_text("mine")
    old = os.umask(umask)
    try:
        result = run_experiment(copy / "experiment.yaml", out)
    finally:
        os.umask(old)
    assert result.ran == [SEED0.as_posix()]
    assert stat.S_IMODE((out / SEED0).stat().st_mode) == 0o777 & ~umask
    for path in (out / SEED0 / "summary.csv", out / "manifest.json",
                 sorted((out / "history").glob("*.json"))[-1]):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_a_cached_rerun_keeps_what_the_computing_run_loaded(copy, monkeypatch):
    from probing.pipeline.report import build_report

    monkeypatch.chdir(copy)
    result = run_experiment("experiment.yaml", "results")  # relative paths, as typed
    assert not result.ran and result.loads == []
    manifest = json.loads((copy / "results/manifest.json").read_text())
    assert manifest["experiment"]["path"] == str(copy / "experiment.yaml")
    assert manifest["cwd"] == str(copy) and manifest["models_loaded"] == []
    first, rerun = load_history(copy / "results")
    assert first["models_loaded"]["gpt2"]["sha256"] and rerun["models_loaded"] == {}
    assert rerun["out"] == str(copy / "results")
    page = build_report(copy / "results")
    methods = page[page.index("<h2>Methods"):page.index("<h2>Results")]
    assert "SHA-256 model.safetensors" in methods and "run on cpu" in methods
    assert "generation seed 0" in methods and "None" not in methods
    assert "gpt2: cpu" in page  # the computing run's device, in the runs table
    assert page.count("3 cached") == 1 and page.count("3 ran") == 1


@pytest.mark.parametrize("case", ["no-folder", "no-manifest", "file-gone"])
def test_status_of_a_folder_it_cannot_plan_says_why_in_one_line(case, tmp_path, capsys):
    out = tmp_path / "results"
    if case != "no-folder":
        out.mkdir()
    if case == "file-gone":
        (out / "manifest.json").write_text(json.dumps(
            {"experiment": {"path": str(tmp_path / "gone.yaml")}}))
    assert main(["status", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(out) in err
    assert {"no-folder": "no such folder", "no-manifest": "no readable manifest.json",
            "file-gone": "is gone; pass --experiment FILE"}[case] in err
    assert sorted(tmp_path.rglob("*")) == sorted([out, *out.glob("*")] if out.exists() else [])


def test_a_model_that_fails_to_load_is_not_recorded_as_loaded(copy):
    def broken(path, dtype):
        raise RuntimeError("weights unreadable")

    experiment = copy / "experiment.yaml"
    experiment.write_text(experiment.read_text().replace("n_boot: 20", "n_boot: 21"))
    result = run_experiment(experiment, copy / "results", load=broken, retries=0)
    assert result.loads == [] and result.models == {} and len(result.failed) == 3
    record = load_history(copy / "results")[-1]
    assert record["models_loaded"] == {} and record["steps"]["ran"] == []
    assert json.loads((copy / "results/manifest.json").read_text())["models_loaded"] == []
