"""Feature lexicons: word forms with their lemma, part of speech and features.

A lexicon is a TSV file; lines starting with ``#`` are provenance comments. Required
columns are ``form, lemma, pos``; every other column is a feature (``number, animacy,
gender, tense, person, ...``). An empty cell means the feature does not apply.

Which features are *inflectional* is read off the data, not declared: a feature is
inflectional when some lemma has forms that differ in it (``author``/``authors`` differ
in ``number``); all other features are *lexical* (fixed for a lemma, like ``animacy``).
Generation uses this to counterbalance lemmas across conditions: cells that differ only
in inflectional features share the same lemma.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import pandas as pd

from probing._core.errors import SpecError

REQUIRED = ("form", "lemma", "pos")


@dataclasses.dataclass(frozen=True)
class Lexicon:
    """An immutable feature lexicon.

    Parameters
    ----------
    entries : pandas.DataFrame
        One row per form; columns ``form, lemma, pos`` and feature columns (strings,
        empty string for "not applicable").
    path : str
        Where it was read from (for error messages and provenance).
    """

    entries: pd.DataFrame
    path: str = "<memory>"

    @property
    def features(self):
        """Feature column names (everything but ``form``)."""
        return [c for c in self.entries.columns if c != "form"]

    @functools.cached_property
    def inflectional(self):
        """Features that vary within some lemma, as a frozenset."""
        varying = self.entries.groupby(["pos", "lemma"]).nunique()
        return frozenset(c for c in varying.columns if c != "form" and (varying[c] > 1).any())

    def select(self, **features):
        """Rows whose features equal the given values (a value may be a set of values)."""
        mask = pd.Series(True, index=self.entries.index)
        for name, value in features.items():
            allowed = value if isinstance(value, (set, frozenset, list, tuple)) else {value}
            mask &= self.entries[name].isin(list(allowed))
        return self.entries[mask]


def read_lexicon(path):
    """Read a lexicon TSV.

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
        If the file is missing, lacks a required column or has a duplicate row.

    Examples
    --------
    >>> import io, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "lex.tsv"
    >>> _ = p.write_text("form\\tlemma\\tpos\\tnumber\\ncat\\tcat\\tnoun\\tsg\\ncats\\tcat\\tnoun\\tpl\\n")
    >>> lex = read_lexicon(p)
    >>> sorted(lex.inflectional), len(lex.select(pos="noun", number="pl"))
    (['number'], 1)
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError("no such lexicon file", file=path)
    try:
        entries = pd.read_csv(path, sep="\t", comment="#", dtype=str, keep_default_na=False,
                              skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise SpecError(f"cannot parse lexicon as TSV ({str(err).splitlines()[0]})", file=path) from None
    return check_lexicon(entries, path=str(path))


def check_lexicon(entries, *, path="<memory>"):
    """Validate lexicon rows and return a :class:`Lexicon` (strips whitespace)."""
    missing = [c for c in REQUIRED if c not in entries.columns]
    if missing:
        raise SpecError(f"missing column(s) {missing}; a lexicon needs {list(REQUIRED)} plus "
                        f"feature columns (has {list(entries.columns)})", file=path)
    entries = entries.apply(lambda col: col.str.strip()).reset_index(drop=True)
    empty = entries.index[(entries[list(REQUIRED)] == "").any(axis=1)]
    if len(empty):
        raise SpecError(f"row {empty[0] + 1}: form, lemma and pos must not be empty", file=path)
    dup = entries.duplicated()
    if dup.any():
        raise SpecError(f"row {dup.idxmax() + 1} repeats an earlier row "
                        f"({entries.loc[dup.idxmax(), 'form']!r})", file=path)
    return Lexicon(entries=entries, path=path)
