"""Which files a paradigm file may name: the rule that keeps a shared paradigm file
from reading arbitrary files on the machine that runs it.

A path in a paradigm file (``lexicon:``, ``source.path``) is resolved against the
file's folder, symbolic links followed, and accepted only if it lies under:

1. the paradigm file's own folder (and its subfolders);
2. the folders the package ships: ``data/`` and ``paradigms/`` of the source checkout, or
   their copies inside an installed wheel (:func:`probing._core.locations.resource_root`);
3. the user's project: a paradigm file inside a folder named ``paradigms/`` (at any
   depth) may read that project's ``data/`` and ``paradigms/`` folders, the siblings of
   the nearest ``paradigms/`` above it (``proj/paradigms/x.yaml`` reads
   ``../data/x.csv``), the same layout the package ships;
4. a folder the user allowed explicitly: the ``allowed_paths`` config option, or the
   ``PROBING_ALLOWED_PATHS`` environment variable (folders separated by ``os.pathsep``),
   read when a file is checked, never at import.

Anything else (``../../etc/passwd``, an absolute path elsewhere, a symbolic link out of
the folder, ``proj/secrets/``) is a one-line :class:`~probing._core.errors.SpecError`.

``probing:NAME`` names a shipped file: ``probing:english_core`` the shipped lexicon
``data/lexicon/english_core.tsv``, ``probing:data/blimp`` any shipped path
(:func:`resolve_data_path`).
"""

from __future__ import annotations

import os
from pathlib import Path

from probing._core.config import get_config
from probing._core.errors import SpecError
from probing._core.locations import SHIPPED_PREFIX, resource_root

__all__ = ["ENV_VAR", "allowed_roots", "check_allowed_path", "project_roots", "resolve_data_path"]

ENV_VAR = "PROBING_ALLOWED_PATHS"


def allowed_roots(base):
    """Folders a paradigm file in ``base`` may read from (resolved), in rule order."""
    shipped = resource_root()  # the checkout, or the copy an installed wheel carries
    roots = [Path(base), shipped / "data", shipped / "paradigms", *project_roots(base)]
    roots += [Path(p) for p in get_config().get("allowed_paths") or ()]
    roots += [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    return [r.expanduser().resolve() for r in roots]


def project_roots(base):
    """``data/`` and ``paradigms/`` of the project a paradigm folder ``base`` lies in.

    The project is the folder holding the nearest ancestor named ``paradigms`` (``base``
    itself included); none when there is no such folder.

    Examples
    --------
    >>> from pathlib import Path
    >>> [p.as_posix() for p in project_roots(Path("/home/me/proj/paradigms/agreement"))]
    ['/home/me/proj/data', '/home/me/proj/paradigms']
    >>> project_roots(Path("/home/me/Downloads"))
    []
    """
    folder = Path(base).expanduser().resolve()
    for ancestor in (folder, *folder.parents):
        if ancestor.name == "paradigms":
            return [ancestor.parent / "data", ancestor]
    return []


def resolve_data_path(value, *, base):
    """Where a paradigm file's path ``value`` points: ``base / value``, or a shipped file.

    Examples
    --------
    >>> resolve_data_path("probing:english_core", base=".").name
    'english_core.tsv'
    >>> resolve_data_path("probing:data/blimp", base=".") == resource_root() / "data" / "blimp"
    True
    >>> resolve_data_path("lex.tsv", base="/proj/paradigms").as_posix()
    '/proj/paradigms/lex.tsv'
    """
    text = str(value)
    if not text.startswith(SHIPPED_PREFIX):
        return Path(base) / text
    name = text.removeprefix(SHIPPED_PREFIX)
    if "/" in name:
        return resource_root() / name
    return resource_root() / "data" / "lexicon" / f"{name}.tsv"


def check_allowed_path(value, *, base, file=None, field=None):
    """``base / value`` resolved, if an allowed folder holds it; else a ``SpecError``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> base = pathlib.Path(tempfile.mkdtemp())
    >>> check_allowed_path("lex.tsv", base=base) == (base / "lex.tsv").resolve()
    True
    >>> check_allowed_path("../../../../etc/passwd", base=base, field="lexicon")
    Traceback (most recent call last):
    ...
    probing._core.errors.SpecError: lexicon: '../../../../etc/passwd' is outside the folders a paradigm file may read (its own folder, its project's data/ and paradigms/, the package's data/ and paradigms/); allow another folder with PROBING_ALLOWED_PATHS or config_context(allowed_paths=[...])
    """
    resolved = resolve_data_path(value, base=base).expanduser().resolve()
    if any(resolved.is_relative_to(root) for root in allowed_roots(base)):
        return resolved
    raise SpecError(f"{str(value)!r} is outside the folders a paradigm file may read (its own "
                    f"folder, its project's data/ and paradigms/, the package's data/ and "
                    f"paradigms/); allow another folder with {ENV_VAR} or "
                    f"config_context(allowed_paths=[...])", file=file, field=field)
