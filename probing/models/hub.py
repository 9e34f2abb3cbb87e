"""Decide, before any download is tried, whether a hub id can be loaded.

``transformers`` retries an unreachable hub five times with back-off (about 30 s of
warnings) before it gives up. A misspelled alias (``smollm2-135``) looks like a hub id,
so without this check a typo cost half a minute. Here a hub id is accepted only when its
``config.json`` is in the local cache (then it loads with ``local_files_only``) or when the
hub's host answers one TCP connection within a few seconds; otherwise the error names the
nearest alias.
"""

from __future__ import annotations

import socket
from urllib.parse import urlparse

from probing._core.errors import ProbingError
from probing._core.model_names import nearest_alias

__all__ = ["check_hub_id", "nearest_alias"]

_CONNECT_TIMEOUT_S = 3.0


def _is_cached(repo_id):
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except ValueError:  # not a valid repo id for the cache layout
        return False


def _hub_reachable():
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    endpoint = urlparse(constants.ENDPOINT)
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname, port), timeout=_CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


def check_hub_id(text, aliases, how):
    """Whether the hub id ``text`` loads offline (cached), online, or not at all.

    Returns
    -------
    bool
        True when it must be loaded with ``local_files_only`` (cached and the hub is not
        reachable), False when the hub is reachable.

    Raises
    ------
    ProbingError
        Neither cached nor reachable; the message suggests the nearest alias.
    """
    cached = _is_cached(text)
    if _hub_reachable():
        return False
    if cached:
        return True
    alias = nearest_alias(text, aliases)
    hint = f"did you mean {alias!r}? " if alias else ""
    raise ProbingError(f"unknown model {text!r}: not an alias ({', '.join(sorted(aliases))}), "
                       f"a local folder or a .gguf file, and the Hugging Face hub cannot be "
                       f"reached; {hint}{how}")
