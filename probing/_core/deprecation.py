"""Renamed parameters kept for one release: the old keyword works and says its new name.

One helper for every public function whose parameter was renamed when each word got one
meaning (``docs/vocabulary.md``, "Parameter names"): :func:`renamed` wraps a function so
``f(old=...)`` still works, with a :class:`DeprecationWarning` naming the new keyword;
:func:`renamed_fields` does the same for a dataclass (its constructor keyword and a
read-only attribute of the old name); :func:`renamed_values` maps an old *value* of a
parameter to its new one (``bootstrap="conditions"`` -> ``"stimuli"``);
:func:`renamed_function` keeps a function's old name and :func:`renamed_property` an
attribute's; :func:`renamed_columns` reads a table's old column names as their new ones.
"""

from __future__ import annotations

import functools
import warnings

__all__ = ["renamed", "renamed_columns", "renamed_fields", "renamed_function", "renamed_property",
           "renamed_values", "warn_renamed"]


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
            setattr(cls, old, renamed_property(old, new, where=cls.__name__))
        cls.__renamed__ = dict(renames)
        return cls
    return decorate


def _old_attribute(self, *, old, new, where):
    warn_renamed(where, old, new)
    return getattr(self, new)


def renamed_values(**renames):
    """Decorator: an old value of a keyword parameter is read as its new one, with a warning.

    Place it above :func:`renamed` (the warning then points at the caller). Only
    keyword arguments are looked at (the parameters it is used for are keyword-only).

    Parameters
    ----------
    **renames : dict
        ``parameter={"old value": "new value"}``.

    Examples
    --------
    >>> import warnings
    >>> @renamed_values(bootstrap={"conditions": "stimuli"})
    ... def sweep(*, bootstrap="stimuli"):
    ...     return bootstrap
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     print(sweep(bootstrap="conditions"), caught[0].message)
    stimuli sweep: bootstrap='conditions' is deprecated and will be removed in the next release; use bootstrap='stimuli'
    """
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for name, values in renames.items():
                value = kwargs.get(name)
                if isinstance(value, str) and value in values:
                    warnings.warn(f"{func.__name__}: {name}={value!r} is deprecated and will be "
                                  f"removed in the next release; use {name}={values[value]!r}",
                                  DeprecationWarning, stacklevel=2)
                    kwargs[name] = values[value]
            return func(*args, **kwargs)
        wrapper.__renamed_values__ = {k: dict(v) for k, v in renames.items()}
        return wrapper
    return decorate


def renamed_function(func, old):
    """``func`` under its old name ``old``: calls warn and then run ``func``.

    Examples
    --------
    >>> import warnings
    >>> def n_stimuli():
    ...     return 3
    >>> n_conditions = renamed_function(n_stimuli, "n_conditions")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     n_conditions(), caught[0].category.__name__
    (3, 'DeprecationWarning')
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        warn_renamed(old, old, func.__name__)
        return func(*args, **kwargs)

    wrapper.__name__ = wrapper.__qualname__ = old
    wrapper.__doc__ = (f"Deprecated name of :func:`{func.__name__}` (removed in the next "
                       f"release).")
    return wrapper


def renamed_property(old, new, *, where):
    """A read-only property ``old`` that warns and returns the attribute ``new``.

    Examples
    --------
    >>> import warnings
    >>> class RDMs:
    ...     n_stimuli = 3
    ...     n_conditions = renamed_property("n_conditions", "n_stimuli", where="RDMs")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     RDMs().n_conditions, caught[0].category.__name__
    (3, 'DeprecationWarning')
    """
    return property(functools.partial(_old_attribute, old=old, new=new, where=where),
                    doc=f"Deprecated name of ``{new}``.")


def renamed_columns(frame, *, where, stacklevel=3, **renames):
    """``frame`` with each old column renamed to its new name, with a warning.

    A column is renamed only when the frame has the old name and not the new one (a frame
    with both keeps both: the new one is used). Called at the top of a public function,
    the default ``stacklevel`` points the warning at that function's caller.

    Parameters
    ----------
    frame : pandas.DataFrame
    where : str
        The function's name, for the message.
    stacklevel : int, default 3
    **renames : str
        ``old="new"`` pairs.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     out = renamed_columns(pd.DataFrame({"item": [1]}), where="f", item="item_id")
    >>> out.columns.tolist(), caught[0].category.__name__
    (['item_id'], 'DeprecationWarning')
    """
    moves = {old: new for old, new in renames.items()
             if old in frame.columns and new not in frame.columns}
    for old, new in moves.items():
        warn_renamed(f"{where}: column", old, new, stacklevel=stacklevel + 1)
    return frame.rename(columns=moves) if moves else frame
