"""Build hook: a wheel carries the shipped paradigm files and data.

Metadata is declarative (setup.cfg). The repository keeps ``paradigms/`` and ``data/`` at
the top level (the project's layout); a wheel built from it gets copies of both under
``probing/_bundled/``, so that an installed package runs every shipped paradigm from any
working directory (probing._core.locations.resource_root finds them).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = ("paradigms", "data")


class BuildWithBundledData(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "probing" / "_bundled"
        for folder in BUNDLED:
            if Path(folder).is_dir():
                shutil.copytree(folder, target / folder, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithBundledData})
