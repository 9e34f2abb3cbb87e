"""Renamed parameters kept for one release: the old keyword works and says its new name.

One helper for every public function whose parameter was renamed when each word got one
meaning (``docs/vocabulary.md``, "Parameter names"): :func:`renamed` wraps a function so
``f(old=...)`` still works, with a :class:`DeprecationWarning` naming the new keyword;
:func:`renamed_fields` does the same for a dataclass (its constructor keyword and a
read-only attribute of the old name).
"""

from __future__ import annotations

import functools
import warnings

__all__ = ["renamed", "renamed_fields", "warn_renamed"]


def warn_renamed(where, old, new, *, stacklevel=3):
    """Warn that ``old`` is now called ``new`` (once a release: removed in the next)."""
    warnings.warn(f"{where}: {old!r} is deprecated and will be removed in the next release; "
                  f"use {new!r}", DeprecationWarning, stacklevel=stacklevel)


def _move(kwargs, renames, where):
    for old, new in renames.items():
        if old in kwargs:
            if new in kwargs:
                raise TypeError(f"{where}: give {new!r} only ({old!r} is its deprecated name)")
            warn_renamed(where, old, new, stacklevel=4)
            kwargs[new] = kwargs.pop(old)
    return kwargs


def renamed(**renames):
    """Decorator: accept each ``old=`` keyword as its ``new`` name, with a warning.

    Parameters
    ----------
    **renames : str
        ``old="new"`` pairs.

    Examples
    --------
    >>> import warnings
    >>> @renamed(method="comparison")
    ... def compare(a, *, comparison="spearman"):
    ...     return comparison
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     compare(1, method="pearson"), caught[0].category.__name__
    ('pearson', 'DeprecationWarning')
    """
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **_move(kwargs, renames, func.__name__))
        wrapper.__renamed__ = dict(renames)
        return wrapper
    return decorate


def renamed_fields(**renames):
    """Class decorator for a dataclass: old constructor keywords and attributes still work.

    Examples
    --------
    >>> import dataclasses, warnings
    >>> @renamed_fields(metric="distance")
    ... @dataclasses.dataclass(frozen=True)
    ... class Result:
    ...     distance: str = "correlation"
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     Result(metric="cosine").metric
    'cosine'
    """
    def decorate(cls):
        init = cls.__init__

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            init(self, *args, **_move(kwargs, renames, cls.__name__))

        cls.__init__ = __init__
        for old, new in renames.items():
            setattr(cls, old, property(functools.partial(_old_attribute, old=old, new=new,
                                                         where=cls.__name__),
                                       doc=f"Deprecated name of ``{new}``."))
        cls.__renamed__ = dict(renames)
        return cls
    return decorate


def _old_attribute(self, *, old, new, where):
    warn_renamed(where, old, new)
    return getattr(self, new)
