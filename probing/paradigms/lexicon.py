"""Feature lexicons: word forms with their lemma, part of speech and features.

A lexicon is a TSV file; lines starting with ``#`` are provenance comments. Required
columns are ``form, lemma, pos``; an optional numeric column ``zipf`` gives each form's
word frequency (Zipf scale, used by ``match: {frequency: ...}``); every other column is
a feature (``number, animacy, gender, vform, person, ...``). An empty cell means the
feature does not apply to that entry (past-tense verbs have no ``number``).

Which features are *inflectional* is read off the data per part of speech, not declared
and not over the whole lexicon: a feature is inflectional for a part of speech when some
lemma of that part of speech has forms with two different (non-empty) values of it
(``author``/``authors`` in ``number``; ``himself``/``herself`` make ``gender``
inflectional for reflexives, not for nouns). All other features are *lexical*, and a
lexical feature must be the same on every form of a lemma (``admired`` as a participle
carries ``transitivity: transitive`` like ``admires``): :func:`check_lexicon` enforces
this, with the file and line of the first form that breaks it.
"""

from __future__ import annotations

import dataclasses
import functools
import io
from pathlib import Path

import pandas as pd

from probing._core.errors import SpecError

REQUIRED = ("form", "lemma", "pos")
MEASURES = ("zipf",)  # numeric columns describing a form; not features, never constrained


@dataclasses.dataclass(frozen=True)
class Lexicon:
    """An immutable feature lexicon.

    Parameters
    ----------
    entries : pandas.DataFrame
        One row per form; columns ``form, lemma, pos``, optionally ``zipf``, and feature
        columns (strings, empty string for "does not apply").
    path : str
        Where it was read from (for error messages and provenance).
    lines : tuple of int
        The file line of each row (empty when built in memory).
    """

    entries: pd.DataFrame
    path: str = "<memory>"
    lines: tuple = dataclasses.field(default=(), compare=False, repr=False)

    @property
    def features(self):
        """Columns a slot may constrain (everything but ``form`` and the measures)."""
        return [c for c in self.entries.columns if c != "form" and c not in MEASURES]

    @functools.cached_property
    def inflectional_by_pos(self):
        """``{pos: frozenset of features}`` inflectional for that part of speech."""
        by_pos = {pos: inflectional_features(self.entries[self.entries["pos"] == pos], self.features)
                  for pos in sorted(set(self.entries["pos"]))}
        return by_pos

    @property
    def inflectional(self):
        """Features inflectional for at least one part of speech, as a frozenset."""
        return frozenset().union(*self.inflectional_by_pos.values())

    def values(self, feature):
        """The non-empty values ``feature`` takes in the lexicon, sorted."""
        return self._values[feature]

    @functools.cached_property
    def _values(self):
        return {f: sorted(set(self.entries[f]) - {""}) for f in self.features}

    def line(self, row):
        """The file line of entry ``row`` (its 0-based index), or None."""
        return self.lines[row] if row < len(self.lines) else None

    def select(self, **features):
        """Rows whose features equal the given values (a value may be a set of values)."""
        mask = pd.Series(True, index=self.entries.index)
        for name, value in features.items():
            allowed = value if isinstance(value, (set, frozenset, list, tuple)) else {value}
            mask &= self.entries[name].isin(list(allowed))
        return self.entries[mask]


def inflectional_features(entries, features):
    """Features with two different non-empty values among the forms of one lemma.

    Parameters
    ----------
    entries : pandas.DataFrame
        Lexicon rows (``pos``, ``lemma`` and the feature columns).
    features : list of str
        Columns to consider.

    Returns
    -------
    frozenset of str

    Examples
    --------
    >>> rows = pd.DataFrame({"pos": ["verb"] * 3, "lemma": ["smile"] * 3,
    ...                      "number": ["sg", "pl", ""], "vform": ["pres", "pres", "past"]})
    >>> sorted(inflectional_features(rows, ["number", "vform"]))
    ['number', 'vform']
    """
    # plain Python over the records: pandas' groupby on string columns is ~100x slower here
    columns = [f for f in features if f not in ("pos", "lemma")]
    seen, out = {}, set()
    for row in entries[["pos", "lemma", *columns]].itertuples(index=False):
        for feature, value in zip(columns, row[2:], strict=True):
            if value and feature not in out:
                first = seen.setdefault((row[0], row[1], feature), value)
                if first != value:
                    out.add(feature)
    return frozenset(out)


def read_lexicon(path):
    """Read a lexicon TSV and check it (:func:`check_lexicon`).

    Parameters
    ----------
    path : str or path-like
        Tab-separated file with a header row; ``#`` lines are comments.

    Returns
    -------
    Lexicon

    Raises
    ------
    SpecError
        If the file is missing, lacks a required column, has a duplicate row or a
        lexical feature that differs between the forms of one lemma (``file:line``).

    Examples
    --------
    >>> import io, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "lex.tsv"
    >>> _ = p.write_text("form\\tlemma\\tpos\\tnumber\\ncat\\tcat\\tnoun\\tsg\\ncats\\tcat\\tnoun\\tpl\\n")
    >>> lex = read_lexicon(p)
    >>> sorted(lex.inflectional), len(lex.select(pos="noun", number="pl")), lex.line(1)
    (['number'], 1, 3)
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError("no such lexicon file", file=path)
    data = path.read_bytes()
    return _parse_lexicon(data, shown=str(path))


def _parse_lexicon(data, *, shown):
    try:
        entries = pd.read_csv(io.BytesIO(data), sep="\t", comment="#", dtype=str,
                              keep_default_na=False, skip_blank_lines=True)
        raw = data.decode("utf-8").splitlines()
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise SpecError(f"cannot parse lexicon as TSV ({str(err).splitlines()[0]})", file=shown) from None
    lines = [i for i, line in enumerate(raw, start=1) if line.partition("#")[0].strip()][1:]
    return check_lexicon(entries, path=shown, lines=lines if len(lines) == len(entries) else ())


def check_lexicon(entries, *, path="<memory>", lines=()):
    """Validate lexicon rows and return a :class:`Lexicon` (strips whitespace).

    Parameters
    ----------
    entries : pandas.DataFrame
        Lexicon rows as strings.
    path : str
        Named in error messages.
    lines : sequence of int, optional
        File line of each row, for ``file:line`` errors (rows are numbered otherwise).

    Returns
    -------
    Lexicon
    """
    lines = tuple(lines)

    def fail(row, message):
        if row < len(lines):
            raise SpecError(message, file=path, line=lines[row])
        raise SpecError(f"row {row + 1}: {message}", file=path)

    missing = [c for c in REQUIRED if c not in entries.columns]
    if missing:
        raise SpecError(f"missing column(s) {missing}; a lexicon needs {list(REQUIRED)} plus "
                        f"feature columns (has {list(entries.columns)})", file=path)
    entries = entries.apply(lambda col: col.str.strip()).reset_index(drop=True)
    empty = entries.index[(entries[list(REQUIRED)] == "").any(axis=1)]
    if len(empty):
        fail(empty[0], "form, lemma and pos must not be empty")
    dup = entries.duplicated()
    if dup.any():
        fail(dup.idxmax(), f"repeats an earlier row ({entries.loc[dup.idxmax(), 'form']!r})")
    for measure in MEASURES:
        if measure in entries.columns:
            values = pd.to_numeric(entries[measure], errors="coerce")
            if values.isna().any():
                bad = values.isna().idxmax()
                fail(bad, f"{measure}: {entries.loc[bad, measure]!r} is not a number")
            entries[measure] = values.astype(float)
    lexicon = Lexicon(entries=entries, path=path, lines=lines)
    _check_lexical_features(lexicon, fail)
    return lexicon


def _check_lexical_features(lexicon, fail):
    """A lexical feature has one value on every form of a lemma (empty counts as a value)."""
    entries = lexicon.entries
    inflectional = lexicon.inflectional_by_pos
    columns = [f for f in lexicon.features if f not in ("pos", "lemma")]
    first = {}  # (pos, lemma, feature) -> (row, value) of the lemma's first form
    for row, record in enumerate(entries[["pos", "lemma", *columns]].itertuples(index=False)):
        pos, lemma = record[0], record[1]
        for feature, value in zip(columns, record[2:], strict=True):
            if feature in inflectional[pos]:
                continue
            other, expected = first.setdefault((pos, lemma, feature), (row, value))
            if expected != value:
                fail(row, f"{feature}: {value!r} on {entries.at[row, 'form']!r}, but "
                     f"{expected!r} on {entries.at[other, 'form']!r} "
                     f"({_where(lexicon, other)}); {feature!r} is lexical for pos {pos!r} (no "
                     f"{pos} lemma has forms differing in it), so every form of lemma "
                     f"{lemma!r} needs the same value")
    return lexicon


def _where(lexicon, row):
    line = lexicon.line(row)
    return f"line {line}" if line else f"row {row + 1}"
