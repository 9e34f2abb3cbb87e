"""A built wheel works when installed: shipped paradigms and data travel with the package.

The wheel is built from a copy of the sources and installed (without dependencies) into
a fresh virtual environment whose dependencies come from the test environment's
site-packages (a ``.pth`` line, which does not run the test environment's editable-install
hook). ``probing list``, ``probing validate`` and commands given a shipped paradigm by
name then run from an unrelated folder, with no ``PYTHONPATH`` pointing at the checkout.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("probing", "paradigms", "data", "setup.cfg", "setup.py", "pyproject.toml",
           "MANIFEST.in", "README.md")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, src / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(out), str(src)],
                   check=True, capture_output=True, timeout=600)
    return next(out.glob("probing-*.whl"))


def test_wheel_carries_every_shipped_paradigm_and_the_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for paradigm in (REPO / "paradigms").glob("*.yaml"):
        assert f"probing/_bundled/paradigms/{paradigm.name}" in names
    assert "probing/_bundled/data/lexicon/english_core.tsv" in names
    assert "probing/_bundled/data/blimp/LICENSE" in names


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    env = tmp_path_factory.mktemp("venv")
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # dependencies from this environment, appended after the fresh site-packages
    Path(site, "test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", str(wheel)], check=True, capture_output=True, timeout=600)
    return env


def _clean_env():
    """The environment without a PYTHONPATH that would put the checkout before the wheel."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _probing(env, *args, cwd):
    return subprocess.run([env / "bin" / "probing", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=_clean_env())


def test_installed_package_is_the_wheel_not_the_checkout(installed, tmp_path):
    done = subprocess.run([installed / "bin" / "python", "-c", "import probing; print(probing.__file__)"],
                          cwd=tmp_path, capture_output=True, text=True, check=True,
                          env=_clean_env())
    assert str(installed) in done.stdout and str(REPO) not in done.stdout


def test_list_and_validate_every_shipped_paradigm_from_anywhere(installed, tmp_path):
    listed = _probing(installed, "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    shipped = sorted(p.stem for p in (REPO / "paradigms").glob("*.yaml"))
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines[:len(shipped)]] == shipped
    # each line says where the file lives: inside the installed package
    assert all("/probing/_bundled/paradigms/" in line for line in lines)
    assert {line.split()[0] for line in lines[len(shipped):]} == {
        p.stem for p in (REPO / "paradigms" / "experiments").glob("*.yaml")}
    bundled = sorted((Path(next(installed.rglob("probing/_bundled")))) .glob("paradigms/*.yaml"))
    done = _probing(installed, "validate", *map(str, bundled), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ok ") == len(shipped)


def test_shipped_paradigms_by_name_and_documented_path_from_anywhere(installed, tmp_path):
    done = _probing(installed, "generate", "agreement_simple", "--out", "stim.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "200 stimuli of agreement_simple" in done.stdout and (tmp_path / "stim.csv").is_file()
    done = _probing(installed, "validate", "paradigms/filler_gap.yaml", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("ok "), done.stderr
    done = _probing(installed, "experiment", "agreement_paper", "--out", "res", "--dry-run",
                    cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "agreement_simple" in done.stdout and not (tmp_path / "res").exists()
    done = _probing(installed, "generate", "agreement_simpel", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["probing generate: error: 'agreement_simpel' is neither "
                                        "a file nor a shipped paradigm; nearest shipped: "
                                        "agreement_simple, agreement_labels, "
                                        "agreement_pp_attractor (probing list shows them all)"]


# An editable install finds the package through a finder on sys.meta_path, after the
# path entries; `python -m` puts the working folder first on sys.path. This child process
# sets up both, from a folder holding a `probing/` folder that is not the package (a clone).
_EDITABLE_RUN = """
import runpy, sys
from importlib.machinery import PathFinder
from pathlib import Path

REPO = sys.argv[1]

class Editable:
    @staticmethod
    def find_spec(name, path=None, target=None):
        parts = name.split(".")
        if parts[0] != "probing":
            return None
        return PathFinder.find_spec(name, [str(Path(REPO, *parts[:-1]))])

# this environment's own editable finder (if any) would map probing elsewhere
sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()] + [Editable]
sys.path.insert(0, "")
sys.argv = ["probing", "--version"]
runpy.run_module("probing", run_name="__main__", alter_sys=True)
"""


def test_version_from_the_folder_holding_the_clone(tmp_path):
    from probing import __version__ as version

    (tmp_path / "probing" / "docs").mkdir(parents=True)  # the clone: no __init__.py
    done = subprocess.run([sys.executable, "-c", _EDITABLE_RUN, str(REPO)], cwd=tmp_path,
                          capture_output=True, text=True, env=_clean_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"probing {version}\n"


_MISTYPED_MODEL = """
import sys
from probing.cli.main import main
code = main(["run", "agreement_simple", "--model", sys.argv[1], "--out", sys.argv[2]])
print(code, "torch" in sys.modules, "transformers" in sys.modules)
"""


@pytest.mark.parametrize("model,message", [
    ("smollm2-135", "unknown model 'smollm2-135': not an alias (smollm2-135m), a local folder, "
                    "a .gguf file or a cached hub model; did you mean 'smollm2-135m'?"),
    ("SmolLM2_135M", "unknown model 'SmolLM2_135M': not an alias"),
    ("smollm2 135m", "unknown model 'smollm2 135m': no such file or folder"),
], ids=["near-alias", "near-alias-case", "not-a-name"])
def test_a_mistyped_model_fails_before_torch_is_imported(model, message, tmp_path):
    done = subprocess.run([sys.executable, "-c", _MISTYPED_MODEL, model, str(tmp_path / "run")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**_clean_env(), "PYTHONPATH": str(REPO)})
    assert done.stdout.split() == ["2", "False", "False"], done.stderr
    assert done.stderr.startswith(f"probing run: error: {message}")
    assert not (tmp_path / "run").exists()
