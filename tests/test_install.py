"""A built wheel works when installed: shipped paradigms and data travel with the package.

The wheel is built from a copy of the sources and installed (without dependencies) into
a fresh virtual environment whose dependencies come from the test environment's
site-packages (a ``.pth`` line, which does not run the test environment's editable-install
hook). ``probing list`` and ``probing validate`` then run from an unrelated folder.
"""

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


def _probing(env, *args, cwd):
    return subprocess.run([env / "bin" / "probing", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_installed_package_is_the_wheel_not_the_checkout(installed, tmp_path):
    done = subprocess.run([installed / "bin" / "python", "-c", "import probing; print(probing.__file__)"],
                          cwd=tmp_path, capture_output=True, text=True, check=True)
    assert str(installed) in done.stdout and str(REPO) not in done.stdout


def test_list_and_validate_every_shipped_paradigm_from_anywhere(installed, tmp_path):
    listed = _probing(installed, "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    shipped = sorted(p.stem for p in (REPO / "paradigms").glob("*.yaml"))
    assert len(listed.stdout.splitlines()) == len(shipped)
    bundled = sorted((Path(next(installed.rglob("probing/_bundled")))) .glob("paradigms/*.yaml"))
    done = _probing(installed, "validate", *map(str, bundled), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ok ") == len(shipped)
