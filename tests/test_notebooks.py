"""The notebooks run top to bottom: any cell that raises fails the test."""

import json

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
            exec(compile("".join(cell["source"]), f"{path.name}", "exec"), namespace)
