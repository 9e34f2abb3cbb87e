"""Where the shipped paradigm files and data live, and how a command finds one by name.

In a source checkout (an editable install, or running from the repository) they are the
repository's top-level ``paradigms/`` and ``data/`` folders. A built wheel carries copies
of both inside the package, under ``probing/_bundled/`` (``setup.py`` puts them there),
with the same relative layout, so a paradigm file's ``../data/...`` paths resolve in both.

Every command reads the file it is given through :func:`resolve_file`, one rule:

1. an existing file is that file;
2. ``probing:NAME``, or a bare ``NAME`` (no folder separator, no ``.yaml``) that is not an
   existing file, is the shipped paradigm (for ``probing experiment``: the shipped
   experiment) of that name; an unknown name, or a bare name that is also a different
   ``NAME.yaml`` in the working folder, is a one-line error naming the nearest shipped
   names;
3. a relative path under ``paradigms/`` or ``data/`` that does not exist here is the
   shipped file at that path, so the documented one-liners
   (``probing run paradigms/agreement_simple.yaml``) work from any folder.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from probing._core.deprecation import renamed
from probing._core.errors import ProbingError

__all__ = ["SHIPPED_PREFIX", "resolve_file", "resource_root", "shipped_files"]

_PACKAGE = Path(__file__).resolve().parents[1]

#: Prefix that names a shipped file explicitly (``probing:agreement_simple``).
SHIPPED_PREFIX = "probing:"

#: Kinds of shipped file a name can stand for, and their folder under resource_root().
_FOLDERS = {"paradigm": Path("paradigms"), "experiment": Path("paradigms", "experiments")}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def resource_root():
    """The folder that holds ``paradigms/`` and ``data/``.

    Examples
    --------
    >>> (resource_root() / "paradigms").is_dir()
    True
    """
    checkout = _PACKAGE.parent
    if (checkout / "paradigms").is_dir() and (checkout / "setup.cfg").is_file():
        return checkout
    return _PACKAGE / "_bundled"


@renamed(kind="file_type")
def shipped_files(file_type="paradigm"):
    """``{name: path}`` of the shipped paradigm (or experiment) files, sorted by name.

    Examples
    --------
    >>> shipped_files()["agreement_simple"].name
    'agreement_simple.yaml'
    >>> "agreement_paper" in shipped_files("experiment")
    True
    """
    folder = resource_root() / _FOLDERS[file_type]
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


@renamed(kind="file_type")
def resolve_file(value, *, file_type="paradigm"):
    """The file a command was given: an existing path, or a shipped file by name.

    Parameters
    ----------
    value : str or path-like
        A path, ``probing:NAME`` or a bare ``NAME`` (see the module docstring).
    file_type : {"paradigm", "experiment"}
        Which shipped files a name stands for.

    Returns
    -------
    pathlib.Path
        The path to read; a path that exists nowhere is returned unchanged, for the
        reader's own one-line "no such file".

    Raises
    ------
    ProbingError
        An unknown or ambiguous name, naming the nearest shipped names.

    Examples
    --------
    >>> resolve_file("agreement_simple") == shipped_files()["agreement_simple"]
    True
    >>> resolve_file("agreement_simpel")
    Traceback (most recent call last):
    ...
    probing._core.errors.ProbingError: 'agreement_simpel' is neither a file nor a shipped paradigm; nearest shipped: agreement_simple, ... (probing list shows them all)
    """
    text = str(value)
    path = Path(text)
    explicit = text.startswith(SHIPPED_PREFIX)
    if explicit or (_NAME.fullmatch(text) and not text.endswith((".yaml", ".yml"))
                    and not path.exists()):
        return _shipped(text.removeprefix(SHIPPED_PREFIX), file_type, text, explicit=explicit)
    if not path.exists() and not path.is_absolute() and path.parts[:1] in (("paradigms",),
                                                                           ("data",)):
        shipped = resource_root() / path
        if shipped.is_file():
            return shipped
    return path


def _shipped(name, kind, given, *, explicit):
    files = shipped_files(kind)
    if name in files:
        local = Path(f"{name}.yaml")
        if not explicit and local.is_file() and local.resolve() != files[name].resolve():
            raise ProbingError(
                f"{given!r} is ambiguous: ./{local} and the shipped {kind} {name}; write "
                f"./{local} for yours or {SHIPPED_PREFIX}{name} for the shipped one")
        return files[name]
    for other in _FOLDERS:
        if other != kind and name in shipped_files(other):
            command = "experiment" if other == "experiment" else "run"
            raise ProbingError(f"{given!r} is a shipped {other}, not a {kind} (use "
                               f"probing {command} {name})")
    nearest = difflib.get_close_matches(name, files, n=3, cutoff=0.5) or list(files)[:3]
    raise ProbingError(f"{given!r} is neither a file nor a shipped {kind}; nearest shipped: "
                       f"{', '.join(nearest)} (probing list shows them all)")
