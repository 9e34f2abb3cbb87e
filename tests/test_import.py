"""``import probing`` stays cheap: no torch or transformers (checked in a fresh interpreter)."""

import importlib.util
import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers")


def _heavy_modules_after(statements):
    code = (f"import sys\n{statements}\n"
            f"print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          timeout=120)
    return done.stdout.split()


@pytest.mark.parametrize("statements", [
    "import probing",
    "import probing.paradigms, probing.stats, probing.behaviour",
    "import probing.stimuli, probing.cli.main",
    "import probing\nprobing.load_paradigm, probing.generate, probing.Stimuli, dir(probing)",
], ids=["probing", "paradigms-stats-behaviour", "stimuli-cli", "lazy-attributes"])
def test_import_does_not_import_torch(statements):
    assert _heavy_modules_after(statements) == []


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_the_check_sees_torch_when_it_is_imported():
    # Control: the same harness reports torch once something imports it.
    assert "torch" in _heavy_modules_after("import probing\nimport torch")


def test_unknown_attribute():
    import probing

    with pytest.raises(AttributeError, match="module 'probing' has no attribute 'nope'"):
        probing.nope  # noqa: B018
