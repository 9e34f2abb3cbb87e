"""Read stimuli from a plain CSV/TSV file whose columns are mapped to our roles.

``columns`` says which file column plays which role. Minimal pairs need ``good`` and
``bad`` (``phenomenon`` and ``item_id`` are optional) and come out in the same shape as
BLiMP, built by the same code. Other kinds need ``text`` and ``condition`` (``item_id`` is
optional); every further role becomes a column of that name, a factor of the design.
A role that ``columns`` does not map is read from the column of the same name when the
header has one, so a file whose columns are already named ``good, bad`` needs no mapping.
The header is read and checked before any row is.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from probing._core.errors import SpecError
from probing.paradigms.importers.blimp import build_pair_stimuli
from probing.paradigms.importers.roles import renamed_roles
from probing.stimuli import REGION_COLUMNS, STIMULUS_COLUMNS, Stimuli

__all__ = ["read_table_source"]

TABLE_KINDS = ("minimal_pairs", "factorial", "rsa", "localizer")
_REQUIRED = {"minimal_pairs": ("good", "bad")}
_REQUIRED_OTHER = ("text", "condition")
_KNOWN = {"minimal_pairs": ("good", "bad", "phenomenon", "item_id")}
_KNOWN_OTHER = ("text", "condition", "item_id")
# Extra roles become columns; these names already mean something in the table contract.
_RESERVED = ("stimulus_id", "item_id", "condition", "text", "phenomenon", "pair_id", "role",
             "identical")
_SEPARATORS = {".tsv": "\t", ".csv": ","}


def read_table_source(path, *, kind, columns, sep=None, name=None):
    """Read stimuli from a delimited text file.

    Parameters
    ----------
    path : str or path-like
        A CSV or TSV file with a header row.
    kind : str
        One of ``minimal_pairs, factorial, rsa, localizer``.
    columns : dict of str to str
        Maps our roles to the file's column names, e.g. ``{"good": "grammatical",
        "bad": "ungrammatical", "item_id": "id"}`` (``item`` is the deprecated name of
        ``item_id``: it still works, with a FutureWarning).
    sep : str, optional
        Field separator; inferred from a ``.tsv`` or ``.csv`` suffix by default.
    name : str, optional
        Paradigm name (and default phenomenon / id prefix); the file stem by default.

    Returns
    -------
    probing.stimuli.Stimuli
        Minimal pairs: as :func:`~probing.paradigms.importers.blimp.build_pair_stimuli`
        (``phenomenon`` defaults to ``name``, ``item_id`` to the 0-based row index).
        Other kinds: one row per line, columns ``stimulus_id`` (``name-item-condition``),
        ``item_id``, ``condition``, ``text``, then one column per extra role, and one
        ``sentence`` region per stimulus; ``info["factors"]`` lists each extra role's
        levels. ``item_id`` is an integer when every item is one, else a string.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "agr.csv"
    >>> _ = path.write_text("id,ok,not_ok\\n1,The dogs bark.,The dogs barks.\\n")
    >>> s = read_table_source(path, kind="minimal_pairs",
    ...                       columns={"good": "ok", "bad": "not_ok", "item_id": "id"})
    >>> s.table[["stimulus_id", "text"]].values.tolist()
    [['agr-1-good', 'The dogs bark.'], ['agr-1-bad', 'The dogs barks.']]
    """
    path = Path(path)
    name = name or path.stem
    columns = renamed_roles(path, kind, columns)
    if kind not in TABLE_KINDS:
        raise SpecError(f"must be one of {', '.join(TABLE_KINDS)}, got {kind!r}", file=path,
                        field="kind")
    sep = sep or _infer_sep(path)
    columns = _named_roles(columns, _read_header(path, sep), kind)
    required = _REQUIRED.get(kind, _REQUIRED_OTHER)
    missing = [role for role in required if role not in columns]
    if missing:
        raise SpecError(f"must map the roles {list(required)} for kind {kind!r} (or name "
                        f"the file's columns so); missing {missing}", file=path, field="columns")
    for role in columns:
        if role not in _KNOWN.get(kind, _KNOWN_OTHER) and role in _RESERVED:
            raise SpecError(f"an extra role may not be named like a table column "
                            f"({', '.join(_RESERVED)})", file=path, field=f"columns.{role}")
    lines, frame = _read_rows(path, sep, columns)
    texts = ("good", "bad") if kind == "minimal_pairs" else ("text",)
    for role in texts:
        _check_text(frame[role], lines, path, role)
    frame["item_id"] = _items(frame["item_id"] if "item_id" in frame
                              else pd.Series(range(len(frame))))
    if kind == "minimal_pairs":
        return _pairs(frame, lines, path, name)
    return _others(frame, lines, path, name, kind)


def _infer_sep(path):
    if path.suffix.lower() not in _SEPARATORS:
        raise SpecError(f"cannot infer the separator from the suffix {path.suffix!r}; use "
                        f"a .csv or .tsv name or pass sep=", file=path, field="sep")
    return _SEPARATORS[path.suffix.lower()]


def _read_header(path, sep):
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return next(csv.reader(fh, delimiter=sep), [])
    except FileNotFoundError:
        raise SpecError("no such file", file=path) from None


def _named_roles(columns, header, kind):
    """``columns`` plus each known role the mapping leaves out that the header names."""
    taken = set(columns.values())
    named = {role: role for role in _KNOWN.get(kind, _KNOWN_OTHER)
             if role not in columns and role in header and role not in taken}
    return {**columns, **named}


def _read_rows(path, sep, columns):
    """Return the line number of each data row and a frame of the mapped roles."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh, delimiter=sep)
            header = next(reader, [])
            # csv's line_num is the line a row ends on, exact even for quoted newlines.
            rows = [(reader.line_num, row) for row in reader if row]
    except FileNotFoundError:
        raise SpecError("no such file", file=path) from None
    if not any(field.strip() for field in header):  # else every role "is not in the file"
        raise SpecError("the file is empty: expected a header row naming the columns "
                        f"{sorted(set(columns.values()))}", file=path)
    for role, column in columns.items():
        if column not in header:
            raise SpecError(f"column {column!r} is not in the file; it has {header}",
                            file=path, field=f"columns.{role}")
    for line, row in rows:
        if len(row) != len(header):
            raise SpecError(f"expected {len(header)} fields like the header, got {len(row)}",
                            file=path, line=line)
    index = {column: header.index(column) for column in columns.values()}
    data = {role: [row[index[col]] for _, row in rows] for role, col in columns.items()}
    return [line for line, _ in rows], pd.DataFrame(data, dtype=object)


def _check_text(values, lines, path, role):
    for line, value in zip(lines, values, strict=True):
        if not value.strip():
            raise SpecError("empty text; every stimulus needs a sentence", file=path,
                            field=f"columns.{role}", line=line)


def _items(items):
    try:
        return items.astype(int)
    except ValueError:
        return items.astype(str)


def _check_unique(keys, lines, path, what, field):
    first = {}
    for key, line in zip(keys, lines, strict=True):
        if key in first:
            raise SpecError(f"{what} {key} repeats (first on line {first[key]})", file=path,
                            field=field, line=line)
        first[key] = line


def _pairs(frame, lines, path, name):
    if "phenomenon" not in frame:
        frame["phenomenon"] = name
    _check_unique(list(zip(frame["phenomenon"], frame["item_id"], strict=True)), lines, path,
                  "pair (phenomenon, item_id)", "columns.item_id")
    return build_pair_stimuli(frame, paradigm=name, info={"source": "table", "file": path.name})


def _others(frame, lines, path, name, kind):
    ids = [f"{name}-{i}-{c}" for i, c in zip(frame["item_id"], frame["condition"], strict=True)]
    _check_unique(ids, lines, path, "stimulus", "columns.item_id")
    extra = [c for c in frame.columns if c not in ("item_id", "condition", "text")]
    values = (ids, frame["item_id"].to_numpy(), frame["condition"].to_numpy(),
              frame["text"].to_numpy())
    table = pd.DataFrame(dict(zip(STIMULUS_COLUMNS, values, strict=True)))
    for role in extra:
        table[role] = frame[role].to_numpy()
    regions = pd.DataFrame({"stimulus_id": ids, "region": "sentence", "region_number": 1,
                            "char_start": 0, "char_end": table["text"].str.len()},
                           columns=list(REGION_COLUMNS))
    info = {"source": "table", "file": path.name,
            "factors": {role: sorted(set(table[role])) for role in extra}}
    return Stimuli(paradigm=name, kind=kind, table=table, regions=regions, info=info)
