"""probing.stats as a package: runnable docstrings, public names, light imports."""

import doctest
import importlib
import subprocess
import sys

import pytest

import probing.stats

MODULES = ["probing.stats.resampling", "probing.stats.pvalues", "probing.stats.mixed"]


@pytest.mark.parametrize("name", MODULES, ids=[m.rsplit(".", 1)[1] for m in MODULES])
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_public_names_resolve():
    for name in probing.stats.__all__:
        assert getattr(probing.stats, name) is not None


def test_import_does_not_load_torch_or_models():
    code = ("import sys, probing.stats; "
            "bad = [m for m in ('torch', 'transformers', 'probing.models') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
