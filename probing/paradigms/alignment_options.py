"""How a human-data paradigm (kinds ``ratings`` and ``reading_times``) is analysed.

One declaration, read by the paradigm file's ``alignment:`` mapping, the options of
``probing run`` (``--slor-length``, ``--unigram``, ...) and :mod:`probing.pipeline.alignment_run`.
A paradigm file sets the analysis its data needs; a command-line option given explicitly
overrides the file's field of the same name. Defaults come from
:mod:`probing._core.defaults`.

Ratings
    ``slor_length``: ``words`` (wordfreq's words of the sentence, the unit of the unigram
    term; the default) or ``tokens`` (the model's tokens of the sentence, as Lau et al.
    2020 computed SLOR). ``unigram``: ``wordfreq`` (the default) or the path of a plain
    UTF-8 text corpus whose word counts give the unigram log-probabilities (relative to
    the paradigm file in a file; to the working folder on the command line).

Reading times
    ``spillover`` (previous words whose predictors enter; default 2), ``log_rt`` (model
    log reading times; default false), ``baseline`` (``linear``, ``interaction``: adds
    length x frequency, ``spline``: GAM-style cubic regression splines; default
    ``linear``), ``exclude`` (a list of ``text_edge``, ``sentence_edge``, ``punctuation``;
    default none), ``rt_min`` / ``rt_max`` (reading times outside are excluded; data
    units; default none). See :mod:`probing.alignment.reading_design`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from probing._core.defaults import SLOR_LENGTH, SPILLOVER, UNIGRAM
from probing._core.errors import ProbingError
from probing._core.values import BASELINES, EXCLUSIONS, SLOR_LENGTHS

__all__ = ["SLOR_LENGTHS", "AlignmentOptions", "check_alignment_fields",
           "resolve_alignment_options"]

_READING = ("reading_times",)
# field -> (kinds it applies to, what it must be: a tuple of allowed values or a description)
FIELDS = {
    "slor_length": (("ratings",), SLOR_LENGTHS),
    "unigram": (("ratings", "reading_times"), "wordfreq or a corpus file"),
    "spillover": (_READING, "an integer >= 0"),
    "log_rt": (_READING, "true or false"),
    "baseline": (_READING, BASELINES),
    "exclude": (_READING, EXCLUSIONS),
    "rt_min": (_READING, "a number or null"),
    "rt_max": (_READING, "a number or null"),
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
    spillover: int = SPILLOVER
    log_rt: bool = False
    baseline: str = "linear"
    exclude: tuple = ()
    rt_min: float | None = None
    rt_max: float | None = None

    def __post_init__(self):
        for name, value in dataclasses.asdict(self).items():
            object.__setattr__(self, name, _check_value(name, value, _raise))  # lists -> tuples
        if self.rt_min is not None and self.rt_max is not None and self.rt_min >= self.rt_max:
            _raise("rt_min", f"must be below rt_max ({self.rt_max}), got {self.rt_min}")


def _raise(field, message):
    raise ProbingError(f"{field}: {message}")


def _check_value(name, value, fail):
    allowed = FIELDS[name][1]
    if name == "exclude":
        value = (value,) if isinstance(value, str) else value
        if not isinstance(value, list | tuple) or any(v not in allowed for v in value):
            fail(name, f"{value!r} is not allowed; allowed: a list of {', '.join(allowed)}")
        return tuple(value)
    if isinstance(allowed, tuple):
        if value not in allowed:
            fail(name, f"{value!r} is not allowed; allowed: {', '.join(allowed)}")
    elif name == "unigram" and (not isinstance(value, str) or not value.strip()):
        fail(name, f"must be 'wordfreq' or the path of a text corpus, got {value!r}")
    elif name == "spillover" and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):
        fail(name, f"must be {allowed}, got {value!r}")
    elif name == "log_rt" and not isinstance(value, bool):
        fail(name, f"must be {allowed}, got {value!r}")
    elif name in ("rt_min", "rt_max") and value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float)):
        fail(name, f"must be {allowed}, got {value!r}")
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
