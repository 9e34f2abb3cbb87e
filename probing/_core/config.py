"""One scoped configuration, in the manner of ``sklearn.config_context``.

Nothing is read from the environment at import time; defaults are resolved lazily.
"""

from __future__ import annotations

import contextlib
import threading

# max_memory: bytes a step may plan to use (None: the memory available when it starts;
# 0: do not check); see probing._core.resources. allowed_paths: extra folders paradigm
# files may read (see probing._core.paths)
_DEFAULTS = {"cache_dir": None, "device": None, "dtype": None, "max_memory": None,
             "allowed_paths": None}
_local = threading.local()


def _current():
    if not hasattr(_local, "config"):
        _local.config = dict(_DEFAULTS)
    return _local.config


def get_config():
    """Return a copy of the current configuration.

    Examples
    --------
    >>> sorted(get_config())
    ['allowed_paths', 'cache_dir', 'device', 'dtype', 'max_memory']
    """
    return dict(_current())


def set_config(**options):
    """Set configuration options globally for this thread (prefer :func:`config_context`)."""
    unknown = set(options) - set(_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown config option(s) {sorted(unknown)}; allowed: {sorted(_DEFAULTS)}")
    _current().update(options)


@contextlib.contextmanager
def config_context(**options):
    """Temporarily change configuration options inside a ``with`` block.

    Examples
    --------
    >>> with config_context(device="cpu"):
    ...     get_config()["device"]
    'cpu'
    >>> get_config()["device"] is None
    True
    """
    old = get_config()
    set_config(**options)
    try:
        yield
    finally:
        _current().clear()
        _current().update(old)
