"""Where the shipped paradigm files and data live: the source checkout, or the package.

In a source checkout (an editable install, or running from the repository) they are the
repository's top-level ``paradigms/`` and ``data/`` folders. A built wheel carries copies
of both inside the package, under ``probing/_bundled/`` (``setup.py`` puts them there),
with the same relative layout, so a paradigm file's ``../data/...`` paths resolve in both.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["resource_root"]

_PACKAGE = Path(__file__).resolve().parents[1]


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
