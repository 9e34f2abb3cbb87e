"""Error types whose messages point back at the input that caused them.

Every user-facing error names where the problem is (a file, and a line when known),
which field (a dotted path such as ``slots.verb.agree``) and what is allowed. The CLI
prints ``str(err)`` as one line and exits with status 2.
"""

from __future__ import annotations


class ProbingError(ValueError):
    """Base class for errors caused by user input (exit status 2 in the CLI)."""


class SpecError(ProbingError):
    """A paradigm file, lexicon or data file is malformed.

    Parameters
    ----------
    message : str
        What is wrong and what is allowed.
    file : str or path-like, optional
        The file the problem is in.
    field : str, optional
        Dotted path of the offending field (``slots.subject.number``).
    line : int, optional
        1-based line number in ``file``.

    Examples
    --------
    >>> str(SpecError("must be one of: sg, pl", file="a.yaml", field="factors.n", line=3))
    'a.yaml:3: factors.n: must be one of: sg, pl'
    """

    def __init__(self, message, *, file=None, field=None, line=None):
        self.message = message
        self.file = None if file is None else str(file)
        self.field = field
        self.line = line
        super().__init__(self._format())

    def _format(self):
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        field = f"{self.field}: " if self.field else ""
        # one line, whatever a file's keys or names hold (a key may be "\n")
        return f"{where}{field}{self.message}".replace("\r", "\\r").replace("\n", "\\n")


class ConstraintError(SpecError):
    """Slot constraints that no lexicon entry (or too few entries) can satisfy."""
