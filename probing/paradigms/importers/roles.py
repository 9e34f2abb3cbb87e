"""Role keys of a data file's ``columns:`` mapping that were renamed, kept for one release.

A paradigm's ``source.columns`` maps our roles to the data file's column names. The
roles now use the column vocabulary's names: ``item_id`` (was ``item``) for every kind,
and ``word_position`` (was ``position``) for reading times. The old keys still load,
with a FutureWarning (shown by default, unlike a DeprecationWarning, so a user running
``probing run`` sees it) naming the file and the field.
"""

from __future__ import annotations

import warnings

from probing._core.errors import SpecError

__all__ = ["OLD_ROLES", "renamed_roles"]

#: Old role -> new role, for every kind (``word_position`` only for reading times).
OLD_ROLES = {"item": "item_id"}
_OLD_ROLES_OF_KIND = {"reading_times": {"position": "word_position"}}


def renamed_roles(path, kind, columns, *, field="columns", stacklevel=2):
    """``columns`` with the deprecated role keys renamed, each with a FutureWarning.

    The warning names ``path`` (the paradigm file, or the data file when the roles are
    given in Python) and the field ``<field>.<old role>``.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     renamed_roles("p.yaml", "reading_times", {"position": "zone", "word": "w"})
    {'word_position': 'zone', 'word': 'w'}
    """
    columns = dict(columns)
    for old, new in {**OLD_ROLES, **_OLD_ROLES_OF_KIND.get(kind, {})}.items():
        if old not in columns:
            continue
        if new in columns:
            raise SpecError(f"map {new!r} only ({old!r} is its deprecated name)", file=path,
                            field=f"{field}.{old}")
        warnings.warn(f"{path}: {field}.{old}: the role {old!r} is deprecated and will be "
                      f"removed in the next release; use {new!r}", FutureWarning,
                      stacklevel=stacklevel + 1)
        columns = {(new if role == old else role): column for role, column in columns.items()}
    return columns


