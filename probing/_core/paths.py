"""Which files a paradigm file may name: the rule that keeps a shared paradigm file
from reading arbitrary files on the machine that runs it.

A path in a paradigm file (``lexicon:``, ``source.path``) is resolved against the
file's folder, symbolic links followed, and accepted only if it lies under:

1. the paradigm file's own folder (and its subfolders);
2. the folders the package ships: ``data/`` and ``paradigms/`` of the source checkout, or
   their copies inside an installed wheel (:func:`probing._core.locations.resource_root`);
3. a folder the user allowed explicitly: the ``allowed_paths`` config option, or the
   ``PROBING_ALLOWED_PATHS`` environment variable (folders separated by ``os.pathsep``),
   read when a file is checked, never at import.

Anything else (``../../etc/passwd``, an absolute path elsewhere, a symbolic link out of
the folder) is a one-line :class:`~probing._core.errors.SpecError`.
"""

from __future__ import annotations

import os
from pathlib import Path

from probing._core.config import get_config
from probing._core.errors import SpecError
from probing._core.locations import resource_root

__all__ = ["ENV_VAR", "allowed_roots", "check_allowed_path"]

ENV_VAR = "PROBING_ALLOWED_PATHS"


def allowed_roots(base):
    """Folders a paradigm file in ``base`` may read from (resolved), in rule order."""
    shipped = resource_root()  # the checkout, or the copy an installed wheel carries
    roots = [Path(base), shipped / "data", shipped / "paradigms"]
    roots += [Path(p) for p in get_config().get("allowed_paths") or ()]
    roots += [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    return [r.expanduser().resolve() for r in roots]


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
    probing._core.errors.SpecError: lexicon: '../../../../etc/passwd' is outside the folders a paradigm file may read (its own folder, the package's data/ and paradigms/); allow another folder with PROBING_ALLOWED_PATHS or config_context(allowed_paths=[...])
    """
    resolved = (Path(base) / str(value)).expanduser().resolve()
    if any(resolved.is_relative_to(root) for root in allowed_roots(base)):
        return resolved
    raise SpecError(f"{str(value)!r} is outside the folders a paradigm file may read (its own "
                    f"folder, the package's data/ and paradigms/); allow another folder with "
                    f"{ENV_VAR} or config_context(allowed_paths=[...])", file=file, field=field)
