"""The notebooks run top to bottom: any cell that raises fails the test.

Notebooks that run the default model say so in their metadata
(``"probing": {"needs_model": true}``) and run under the ``integration`` marker.
Real-case notebooks that take minutes on two cores add ``"slow": true`` and run under
``make test-slow``; their stored outputs are what the README quotes.
"""

import json

import matplotlib
import pytest

from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _flag(path, name):
    return bool(json.loads(path.read_text())["metadata"].get("probing", {}).get(name))


def _needs_model(path):
    return _flag(path, "needs_model")


def _run_cells(path, monkeypatch, tmp_path):
    matplotlib.use("Agg")  # figures render off-screen; plt.show() is then a no-op
    monkeypatch.chdir(path.parent)
    # Activations extracted by a notebook are cached under the test's own folder.
    from probing._core.config import config_context

    namespace = {}
    with config_context(cache_dir=tmp_path / "cache"):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                exec(compile("".join(cell["source"]), f"{path.name}", "exec"), namespace)
    import matplotlib.pyplot as plt

    plt.close("all")


PLAIN = [p for p in NOTEBOOKS if not _needs_model(p)]
WITH_MODEL = [p for p in NOTEBOOKS if _needs_model(p) and not _flag(p, "slow")]
SLOW = [p for p in NOTEBOOKS if _needs_model(p) and _flag(p, "slow")]


@pytest.mark.parametrize("path", PLAIN, ids=[p.stem for p in PLAIN])
def test_notebook_runs(path, monkeypatch, tmp_path):
    _run_cells(path, monkeypatch, tmp_path)


@pytest.mark.integration
@pytest.mark.parametrize("path", WITH_MODEL, ids=[p.stem for p in WITH_MODEL])
def test_model_notebook_runs(path, monkeypatch, tmp_path):
    _run_cells(path, monkeypatch, tmp_path)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("path", SLOW, ids=[p.stem for p in SLOW])
def test_slow_notebook_runs(path, monkeypatch, tmp_path):
    _run_cells(path, monkeypatch, tmp_path)
