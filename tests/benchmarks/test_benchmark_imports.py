"""Every benchmark script's ``probing`` imports resolve (benchmarks are not run in CI).

The scripts import inside functions so that ``--help`` is fast; a module renamed or a
name moved in the package would break them only when someone next measures. This test
walks the scripts in ``benchmarks/``, reads every ``from probing... import name`` (at any
depth, function bodies included) and checks that the module imports and has the name.
"""

import ast
import importlib
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def package_imports(path):
    """``(line, module, name)`` for each ``from probing... import name`` in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [(node.lineno, node.module, alias.name)
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
            and node.module.split(".")[0] == "probing"
            for alias in node.names]


SCRIPTS = sorted(BENCHMARKS.glob("*.py"))


def test_the_walk_finds_the_scripts_and_their_imports():
    assert len(SCRIPTS) >= 10
    assert sum(len(package_imports(path)) for path in SCRIPTS) >= 30


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_probing_import_resolves(script):
    missing = []
    for line, module, name in package_imports(script):
        try:
            imported = importlib.import_module(module)
        except ImportError as error:
            missing.append(f"{script.name}:{line}: {module}: {error}")
            continue
        if name != "*" and not hasattr(imported, name):
            try:  # a submodule not yet imported by its package
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{script.name}:{line}: {module} has no {name}")
    assert not missing, "\n".join(missing)
