"""Allow ``python -m probing``.

``python -m`` puts the working folder first on ``sys.path``. Run from the folder that
holds a clone named ``probing/`` (a folder without ``__init__.py``), Python imports that
folder as a namespace package named ``probing`` instead of this package, and an editable
install's finder still supplies the submodules: ``probing.__version__`` (and every lazy
name of ``probing/__init__.py``) is then missing. Here the package that holds this file
replaces such a namespace package before the CLI is imported.
"""

import importlib.util
import sys
from pathlib import Path


def _load_real_package():
    here = Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location(
        "probing", here / "__init__.py", submodule_search_locations=[str(here)])
    package = importlib.util.module_from_spec(spec)
    sys.modules["probing"] = package
    spec.loader.exec_module(package)


if getattr(sys.modules.get("probing"), "__file__", None) is None:
    _load_real_package()

from probing.cli.main import main  # noqa: E402  (after the package is the right one)

raise SystemExit(main())
