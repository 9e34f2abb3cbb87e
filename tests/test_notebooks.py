"""The notebooks run top to bottom (code cells executed in order, in one namespace)."""

import json
import os

import pytest

from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    if json.loads(path.read_text())["metadata"].get("probing", {}).get("needs_model"):
        pytest.skip("runs the default model; covered by the integration notebooks test")
    monkeypatch.chdir(path.parent)
    namespace = {}
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{path.name}", "exec"), namespace)  # noqa: S102
    assert os.getcwd() == str(path.parent)
