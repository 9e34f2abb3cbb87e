"""``probing run`` on SyntaxGym suites with edge cases: whitespace at region edges, empty
regions, and a single item (whose mixed model cannot be fitted: reported, not fatal)."""

import json
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from probing.pipeline.paradigm_run import RunOptions, run_paradigm

FIXTURES = Path(__file__).resolve().parents[1] / "paradigms" / "data" / "syntaxgym"


@pytest.fixture
def gpt2(make_lm):
    return make_lm("gpt2")


def _paradigm(tmp_path, suite):
    path = tmp_path / f"{suite}.yaml"
    shutil.copy(FIXTURES / f"{suite}.json", tmp_path)  # paradigm files read beside themselves
    path.write_text(f"name: {suite}\nversion: 1\nkind: factorial\n"
                    f"source: {{format: syntaxgym, path: {suite}.json}}\n")
    return path


def _run(path, lm, out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a random model fails the sanity check by design
        return run_paradigm(path, lm, out, options=RunOptions(n_boot=50))


def test_single_item_suite_runs_and_reports_the_model_it_cannot_fit(gpt2, tmp_path):
    out = tmp_path / "run"
    tables = _run(_paradigm(tmp_path, "single_item"), gpt2, out)
    model = pd.read_csv(out / "model.csv", keep_default_na=False, na_values=[""])
    assert model["term"].tolist() == ["(not fitted)"]
    assert model["note"].tolist() == ["not fitted: fit_mixed_model: need at least two 'item_id' groups"]
    assert model["estimate"].isna().all() and (model["n_groups"] == 1).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["notes"]["models_not_fitted"] == [
        {"region": 2, "reason": "not fitted: fit_mixed_model: need at least two 'item_id' groups"}]
    assert len(tables["predictions"]) == 1  # the prediction is still evaluated


def test_whitespace_suite_runs_with_every_region_scored(gpt2, tmp_path):
    out = tmp_path / "run"
    tables = _run(_paradigm(tmp_path, "whitespace"), gpt2, out)
    regions = tables["regions"]
    assert len(regions) == 4 * 5
    # a region with content gets tokens; an empty or all-space one gets none
    empty = regions["region_number"].eq(3) & ~(regions["item_id"].astype(str).eq("2") & regions["condition"].eq("match"))
    assert (regions.loc[empty, "n_tokens"] == 0).all()
    assert (regions.loc[~empty, "n_tokens"] > 0).all()
    model = pd.read_csv(out / "model.csv", keep_default_na=False, na_values=[""])
    assert (model["term"] != "(not fitted)").all() and (model["note"].isna()).all()
