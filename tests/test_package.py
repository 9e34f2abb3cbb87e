"""Every module's docstring examples run, and every package's public names resolve."""

import doctest
import importlib
import pkgutil

import pytest

import probing

MODULES = sorted(m.name for m in pkgutil.walk_packages(probing.__path__, "probing.")
                 if m.name != "probing.__main__")  # __main__ runs the CLI on import
PACKAGES = sorted(m.name for m in pkgutil.walk_packages(probing.__path__, "probing.") if m.ispkg)


@pytest.mark.parametrize("name", MODULES, ids=MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("name", ["probing", *PACKAGES], ids=["probing", *PACKAGES])
def test_public_names_resolve(name):
    package = importlib.import_module(name)
    for public in getattr(package, "__all__", []):
        assert getattr(package, public) is not None, public


def test_doctests_exist_where_style_asks_for_them():
    # STYLE.md: public functions carry a runnable example; the core analysis packages must.
    for name in ("probing.stats.resampling", "probing.behaviour.surprisal",
                 "probing.paradigms.generate.render", "probing.paradigms.lexicon"):
        assert doctest.testmod(importlib.import_module(name)).attempted > 0, name
