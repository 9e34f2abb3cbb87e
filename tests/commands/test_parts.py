"""The run-folder writer's resumable mode: one atomic folder per part, the study beside them.

A fake command in two parts (one per paradigm) stands in for ``probing lesion``: a part
that fails leaves no folder and no study manifest; a rerun with ``resume`` reuses the
finished part, says so, and loads the model only for the part that is left.
"""

import json

import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.commands import (
    Command,
    ModelSettings,
    Part,
    Parts,
    Result,
    SeedOption,
    StudyFolderSettings,
    identify,
)
from probing.commands.runfolder import finished_part, write_run_folder
from probing.pipeline.commands.execute import run_command
from tests.conftest import PARADIGMS

NAMES = [PARADIGMS / "agreement_simple.yaml", PARADIGMS / "rsa_number_animacy.yaml"]


class Model:
    name = "fake"
    provenance = {"model": "fake", "architecture": "Fake", "sha256": "0"}


def _command(fail_on=None):
    def run(plan, lm):
        if plan == fail_on:
            raise ProbingError(f"{plan}: killed")
        return Result(tables=identify({"scores": pd.DataFrame({"estimate": [1.0]})},
                                      model=lm.name, paradigm=plan))

    def combine(plan, parts):
        joined = pd.concat([t["scores"] for t in parts.values()], ignore_index=True)
        return Result(tables={"study": joined})

    parts = Parts(split=lambda plan: tuple(Part(p.name, p, p.name, SeedOption())
                                           for p in plan),
                  tables=("scores",), check_finished=lambda part, recorded, folder: None,
                  combine=combine)
    return Command(name="study", help="h", description="d", options=SeedOption,
                   prepare=lambda paradigms, options: paradigms, run=run, many=True,
                   settings=(ModelSettings, StudyFolderSettings), parts=parts)


def _loader(calls):
    def load():
        calls.append(1)
        return Model()
    return load


def test_a_failed_part_leaves_no_folder_and_a_rerun_reuses_the_finished_one(tmp_path):
    out, calls = tmp_path / "study", []
    with pytest.raises(ProbingError, match="rsa_number_animacy: killed"):
        run_command(_command(fail_on="rsa_number_animacy"), NAMES, _loader(calls), out)
    assert sorted(p.name for p in out.iterdir()) == ["agreement_simple"]  # no partial, no study
    assert finished_part(out, "agreement_simple") is not None
    result = run_command(_command(), NAMES, _loader(calls), out, resume=True)
    assert result.notes["reused"] == ["agreement_simple"] and len(calls) == 2
    assert len(pd.read_csv(out / "study.csv")) == 2
    again = run_command(_command(), NAMES, _loader(calls), out, resume=True)
    assert again.notes["reused"] == ["agreement_simple", "rsa_number_animacy"]
    assert len(calls) == 2  # every part finished: the model is not loaded
    assert json.loads((out / "manifest.json").read_text())["model"] == Model.provenance


def test_without_resume_or_force_an_existing_study_is_refused(tmp_path):
    out = tmp_path / "study"
    run_command(_command(), NAMES, Model(), out)
    with pytest.raises(ProbingError, match="use --force"):
        run_command(_command(), NAMES, Model(), out)
    run_command(_command(), NAMES, Model(), out, force=True, resume=True)  # force recomputes


def test_study_files_appear_together_or_not_at_all(tmp_path):
    class Broken:
        def savefig(self, *args, **kwargs):
            raise OSError("disk full")

    out = tmp_path / "study"
    (out / "part").mkdir(parents=True)
    table = identify({"t": pd.DataFrame({"estimate": [1.0]})}, model="m", paradigm="p")
    with pytest.raises(OSError, match="disk full"):
        write_run_folder(out, Result(tables=table, figures={"f": Broken()}), {"a": 1},
                         beside_parts=True)
    assert sorted(p.name for p in out.iterdir()) == ["part"]  # no table, no manifest, no temp
    write_run_folder(out, Result(tables=table), {"a": 1}, beside_parts=True)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "part", "t.csv"]
