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
        return {pos: inflectional_features(group, self.features)
                for pos, group in self.entries.groupby("pos", sort=True)}

    @property
    def inflectional(self):
        """Features inflectional for at least one part of speech, as a frozenset."""
        return frozenset().union(*self.inflectional_by_pos.values())

    def values(self, feature):
        """The non-empty values ``feature`` takes in the lexicon, sorted."""
        return sorted(set(self.entries[feature]) - {""})

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
    out = set()
    for feature in features:
        if feature in ("pos", "lemma"):
            continue
        filled = entries.loc[entries[feature] != "", ["pos", "lemma", feature]]
        if (filled.groupby(["pos", "lemma"])[feature].nunique() > 1).any():
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
    return _read_lexicon_cached(str(path.resolve()), *_stamp(path), shown=str(path))


def _stamp(path):
    if not path.is_file():
        raise SpecError("no such lexicon file", file=path)
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=8)
def _read_lexicon_cached(resolved, mtime, size, *, shown):
    # Cached by path and modification stamp: validation and generation read the same
    # (possibly large) lexicon several times per command.
    path = Path(resolved)
    try:
        entries = pd.read_csv(path, sep="\t", comment="#", dtype=str, keep_default_na=False,
                              skip_blank_lines=True)
        raw = path.read_text(encoding="utf-8").splitlines()
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
            bad = pd.to_numeric(entries[measure], errors="coerce").isna()
            if bad.any():
                fail(bad.idxmax(), f"{measure}: {entries.loc[bad.idxmax(), measure]!r} is not a number")
    lexicon = Lexicon(entries=entries, path=path, lines=lines)
    _check_lexical_features(lexicon, fail)
    return lexicon


def _check_lexical_features(lexicon, fail):
    """A lexical feature has one value on every form of a lemma (empty counts as a value)."""
    entries = lexicon.entries
    for pos, group in entries.groupby("pos", sort=True):
        lexical = [f for f in lexicon.features if f not in ("pos", "lemma")
                   and f not in lexicon.inflectional_by_pos[pos]]
        for feature in lexical:
            first = group.groupby("lemma", sort=False)[feature].transform("first")
            broken = group.index[group[feature] != first]
            if len(broken):
                row = broken[0]
                lemma = entries.loc[row, "lemma"]
                other = group.index[(group["lemma"] == lemma)][0]
                fail(row, f"{feature}: {entries.loc[row, feature]!r} on {entries.loc[row, 'form']!r}, "
                     f"but {entries.loc[other, feature]!r} on {entries.loc[other, 'form']!r} "
                     f"({_where(lexicon, other)}); {feature!r} is lexical for pos {pos!r} (no "
                     f"{pos} lemma has forms differing in it), so every form of lemma "
                     f"{lemma!r} needs the same value")
    return lexicon


def _where(lexicon, row):
    line = lexicon.line(row)
    return f"line {line}" if line else f"row {row + 1}"
