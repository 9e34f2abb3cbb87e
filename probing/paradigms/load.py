"""Load paradigm files: YAML -> validated spec, and spec -> YAML."""

from __future__ import annotations

import collections
import hashlib
import os
from pathlib import Path

from probing._core.locations import resolve_file, shipped_files
from probing._core.paths import ENV_VAR, allowed_roots
from probing.paradigms.feasibility import check_feasible
from probing.paradigms.spec import spec_to_dict
from probing.paradigms.validate import check_paradigm
from probing.paradigms.yamlio import MAX_CHARS, dump_yaml, parse_yaml, read_yaml


def load_paradigm(path):
    """Read and validate a paradigm file.

    Parameters
    ----------
    path : str or path-like
        A YAML paradigm-definition file, or the name of a shipped one
        (``"agreement_simple"``; :func:`probing._core.locations.resolve_file`).

    Returns
    -------
    ParadigmSpec

    Raises
    ------
    SpecError
        Naming the file, line, field and what is allowed.
    """
    path = resolve_file(path)  # a shipped paradigm by name (probing._core.locations)
    key = _version_key(path)
    if key is not None and key in _PARSED:
        return _PARSED[key]
    data, lines = read_yaml(path)
    spec = check_paradigm(data, lines, str(path))
    if key is not None:
        _PARSED[key] = spec
        while len(_PARSED) > _KEEP:
            _PARSED.popitem(last=False)
    return spec


# A command checks its paradigm file before the model loads and its pipeline reads it
# again (issue #14: it was parsed three times per `probing run`). Specs are immutable, so
# one parse per content of a file serves both; the key holds what the result depends on:
# the path as given (messages name it), the file's bytes (by hash: timestamps can be
# equal for quick rewrites) and the folders its paths may use.
_PARSED = collections.OrderedDict()
_KEEP = 16


def _version_key(path):
    try:
        with open(path, "rb") as fh:
            raw = fh.read(4 * MAX_CHARS + 1)
        resolved = Path(path).resolve()
    except OSError:
        return None  # read_yaml gives the one-line error
    if len(raw) > 4 * MAX_CHARS:
        return None
    roots = tuple(str(r) for r in allowed_roots(resolved.parent))
    return (str(path), str(resolved), hashlib.sha256(raw).hexdigest(), roots,
            os.environ.get(ENV_VAR, ""))


def validate_paradigm(path):
    """Read, validate and generate a paradigm once: what passes here generates.

    Parameters
    ----------
    path : str or path-like
        A YAML paradigm-definition file.

    Returns
    -------
    spec : ParadigmSpec
    stimuli : Stimuli
        The stimuli generated with the file's seed (the feasibility check's result).

    Raises
    ------
    SpecError
        Naming the file, line, field and what is allowed; for cells that cannot be
        filled, the slot, the condition and the entries surviving each constraint.
    """
    path = resolve_file(path)
    data, lines = read_yaml(path)
    spec = check_paradigm(data, lines, str(path))
    return spec, check_feasible(spec, lines)


def parse_paradigm(text, *, path=None):
    """Validate paradigm YAML given as a string; relative paths resolve against ``path``'s folder."""
    data, lines = parse_yaml(text, file=path)
    return check_paradigm(data, lines, None if path is None else str(path))


def dump_paradigm(spec):
    """Write a spec back as paradigm YAML (the inverse of :func:`parse_paradigm`)."""
    return dump_yaml(spec_to_dict(spec))


def shipped_paradigms(folder=None):
    """Paths of the shipped paradigm files (or of the ``*.yaml`` files in ``folder``).

    They come from the source checkout's ``paradigms/`` folder, or from the copy an
    installed wheel carries (:func:`probing._core.locations.resource_root`).
    """
    if folder is None:
        return list(shipped_files().values())
    return sorted(Path(folder).glob("*.yaml"))
