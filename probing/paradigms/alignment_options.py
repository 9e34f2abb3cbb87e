"""How a human-data paradigm (kinds ``ratings`` and ``reading_times``) is analysed.

One declaration, read by the paradigm file's ``alignment:`` mapping, the options of
``probing run`` (``--slor-length``, ``--unigram``, ...) and :mod:`probing.pipeline.alignment`.
A paradigm file sets the analysis its data needs; a command-line option given explicitly
overrides the file's field of the same name. Defaults come from
:mod:`probing._core.defaults`.

Ratings
    ``slor_length``: ``words`` (wordfreq's words of the sentence, the unit of the unigram
    term; the default) or ``tokens`` (the model's tokens of the sentence, as Lau et al.
    2020 computed SLOR). ``unigram``: ``wordfreq`` (the default) or the path of a plain
    UTF-8 text corpus whose word counts give the unigram log-probabilities (relative to
    the paradigm file in a file; to the working folder on the command line).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from probing._core.defaults import SLOR_LENGTH, UNIGRAM
from probing._core.errors import ProbingError

__all__ = ["SLOR_LENGTHS", "AlignmentOptions", "check_alignment_fields",
           "resolve_alignment_options"]

SLOR_LENGTHS = ("words", "tokens")
# field -> (kinds it applies to, what it must be: a tuple of allowed values or a type)
FIELDS = {
    "slor_length": (("ratings",), SLOR_LENGTHS),
    "unigram": (("ratings", "reading_times"), "wordfreq or a corpus file"),
}


@dataclasses.dataclass(frozen=True)
class AlignmentOptions:
    """The analysis options of a ratings or reading-times run (module docstring).

    Examples
    --------
    >>> AlignmentOptions().slor_length
    'words'
    """

    slor_length: str = SLOR_LENGTH
    unigram: str = UNIGRAM

    def __post_init__(self):
        for name, value in dataclasses.asdict(self).items():
            _check_value(name, value, _raise)


def _raise(field, message):
    raise ProbingError(f"{field}: {message}")


def _check_value(name, value, fail):
    allowed = FIELDS[name][1]
    if isinstance(allowed, tuple):
        if value not in allowed:
            fail(name, f"{value!r} is not allowed; allowed: {', '.join(allowed)}")
    elif name == "unigram" and (not isinstance(value, str) or not value.strip()):
        fail(name, f"must be 'wordfreq' or the path of a text corpus, got {value!r}")
    return value


def check_alignment_fields(fields, *, kind, folder, fail):
    """Validate an ``alignment:`` mapping; return it with paths resolved against ``folder``.

    Parameters
    ----------
    fields : dict
        The mapping as written (field -> value).
    kind : str or None
        The paradigm's kind (None: the command line, whose options apply to the kinds
        that use them).
    folder : path-like
        Where relative paths resolve (the paradigm file's folder, or the working folder).
    fail : callable
        ``fail(field, message)`` raises the located error of the caller.

    Returns
    -------
    dict
        The checked fields, a corpus path made absolute.

    Examples
    --------
    >>> def fail(field, message): raise ValueError(f"{field}: {message}")
    >>> check_alignment_fields({"slor_length": "tokens"}, kind="ratings", folder=".", fail=fail)
    {'slor_length': 'tokens'}
    """
    out = {}
    for name, value in fields.items():
        if name not in FIELDS or (kind is not None and kind not in FIELDS[name][0]):
            known = [f for f, (kinds, _) in FIELDS.items() if kind in kinds]
            fail(name, f"unknown field for kind {kind!r}; allowed: {', '.join(known)}")
        out[name] = _check_value(name, value, fail)
        if name == "unigram" and value != "wordfreq":
            path = Path(folder) / value
            if not path.is_file():
                fail(name, f"{value!r} is not a file (looked in {path}); give 'wordfreq' or "
                     "a UTF-8 text corpus")
            out[name] = str(path.resolve())
    return out


def resolve_alignment_options(file_fields, overrides):
    """The file's fields, then the command line's explicit values: one :class:`AlignmentOptions`.

    Examples
    --------
    >>> resolve_alignment_options({"slor_length": "tokens"}, {}).slor_length
    'tokens'
    >>> resolve_alignment_options({"slor_length": "tokens"}, {"slor_length": "words"}).slor_length
    'words'
    """
    return AlignmentOptions(**{**dict(file_fields), **dict(overrides)})
