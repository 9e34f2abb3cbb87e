"""Parse and evaluate SyntaxGym prediction formulas.

A prediction is a formula over region measures (usually summed surprisal), such as
``[(3;%what_nogap%) > (3;%that_nogap%)] & [(4;%what_gap%) < (4;%that_gap%)]``.
Grammar, loosest binding first; whitespace is free between tokens::

    formula    := comparison (('&' | '|') comparison)*    left-associative
    comparison := sum [('<' | '>' | '=') sum]            does not chain
    sum        := atom (('+' | '-') atom)*                left-associative
    atom       := reference | ['+' | '-'] number | '(' formula ')' | '[' formula ']'
    reference  := '(' (integer | name) ';' '%' condition '%' ')'

Precedence, associativity, numeric literals, ``|`` and condition names of letters,
digits, ``_`` and ``-`` follow the reference grammar, ``syntaxgym/prediction.py`` in
cpllab/syntaxgym-core (pyparsing ``infixNotation``, levels ``- +``, ``< > =``, ``& |``).
Differences: ``[...]`` groups like ``(...)`` (the reference knows only ``(``, yet
suites are published with both); a region may be a name (the reference also has
``*``, which we lack); ``a < b < c`` is an error (the reference silently drops
``< c``); and operands are type-checked (``&`` joins comparisons, arithmetic and
comparisons take values, the whole formula must be a comparison or a join of them).
"""

from __future__ import annotations

import math
import operator
import re
from collections import namedtuple
from dataclasses import dataclass

from probing._core.errors import SpecError

__all__ = ["BinaryOp", "Formula", "Number", "Reference", "parse_formula"]

# ``=`` is approximate: cpllab/syntaxgym-core, syntaxgym/prediction.py evaluates it
# as np.isclose(lhs, rhs, rtol=EQUALITY_RTOL, atol=EQUALITY_ATOL) with these values.
EQUALITY_RTOL = 1e-5
EQUALITY_ATOL = 1e-3


def _isclose(a, b):
    # np.isclose's rule without numpy: infinities equal only themselves, NaN
    # equals nothing, and the tolerance scales with the right-hand side.
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b
    return abs(a - b) <= EQUALITY_ATOL + EQUALITY_RTOL * abs(b)


_LOGIC = {"&": operator.and_, "|": operator.or_}
_COMPARE = {"<": operator.lt, ">": operator.gt, "=": _isclose}
_ARITHMETIC = {"+": operator.add, "-": operator.sub}
_LEVELS = (_LOGIC, _COMPARE, _ARITHMETIC)  # loosest binding first
_OPS = {**_LOGIC, **_COMPARE, **_ARITHMETIC}


@dataclass(frozen=True)
class Reference:
    """The measure of one region in one condition: ``(region;%condition%)``."""

    region: int | str
    condition: str

    def evaluate(self, measure):
        return measure(self.region, self.condition)

    def __str__(self):
        return f"({self.region};%{self.condition}%)"


@dataclass(frozen=True)
class Number:
    """A numeric literal."""

    value: float

    def evaluate(self, measure):
        return self.value

    def __str__(self):
        return repr(self.value)


@dataclass(frozen=True)
class BinaryOp:
    """``left op right``: a value for ``+ -``; a truth value for ``< > =`` and ``& |``."""

    op: str
    left: Reference | Number | BinaryOp
    right: Reference | Number | BinaryOp

    def evaluate(self, measure):
        # Both sides always run, so a missing measure is reported whatever the values.
        return _OPS[self.op](self.left.evaluate(measure), self.right.evaluate(measure))

    def __str__(self):
        if self.op in _LOGIC:
            same_op = isinstance(self.left, BinaryOp) and self.left.op == self.op
            return f"{self.left if same_op else f'[{self.left}]'} {self.op} [{self.right}]"
        left = _bracket_sum(self.left) if self.op in _COMPARE else str(self.left)
        return f"{left} {self.op} {_bracket_sum(self.right)}"


def _is_truth(node):
    return isinstance(node, BinaryOp) and node.op not in _ARITHMETIC


def _bracket_sum(node):
    is_sum = isinstance(node, BinaryOp) and node.op in _ARITHMETIC
    return f"({node})" if is_sum else str(node)


def _references(node):
    if isinstance(node, Reference):
        yield (node.region, node.condition)
    elif isinstance(node, BinaryOp):
        yield from _references(node.left)
        yield from _references(node.right)


@dataclass(frozen=True, repr=False)
class Formula:
    """A parsed prediction formula; build it with :func:`parse_formula`.

    Parameters
    ----------
    root : BinaryOp
        The top node of the syntax tree: a comparison or a join of comparisons.

    Examples
    --------
    >>> f = parse_formula("[(1;%a%) > (1;%b%)] & [(2;%a%)=(2;%b%)]")
    >>> f.references
    ((1, 'a'), (1, 'b'), (2, 'a'), (2, 'b'))
    >>> table = {(1, "a"): 5.0, (1, "b"): 2.0, (2, "a"): 3.0, (2, "b"): 3.0005}
    >>> f.evaluate(lambda region, condition: table[region, condition])
    True
    >>> str(f)
    '[(1;%a%) > (1;%b%)] & [(2;%a%) = (2;%b%)]'
    """

    root: BinaryOp

    def __post_init__(self):
        if not _is_truth(self.root):
            raise TypeError(f"a Formula needs a comparison or a join of them, got {self.root}")

    @property
    def references(self):
        """Tuple of ``(region, condition)`` pairs, in order of first appearance."""
        return tuple(dict.fromkeys(_references(self.root)))

    def evaluate(self, lookup):
        """Return whether the prediction holds; ``lookup(region, condition) -> float``.

        A ``KeyError`` from ``lookup`` becomes a ``SpecError`` naming the missing pair.
        """

        def measure(region, condition):
            try:
                return float(lookup(region, condition))
            except KeyError as err:
                raise SpecError(f"no measure for region {region!r} of condition "
                                f"{condition!r}, needed by formula {str(self)!r}") from err

        return bool(self.root.evaluate(measure))

    def __str__(self):
        return str(self.root)

    def __repr__(self):
        return f"<Formula {self}>"


_Token = namedtuple("_Token", "kind text pos")
_LEX = re.compile(r"\s*(?:(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
                  r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<cond>%[A-Za-z0-9_-]+%)"
                  r"|(?P<op>[-+<>=&|;()\[\]])|(?P<end>\Z))")
_SPACE = re.compile(r"\s*")
_CONDITION = re.compile(r"[A-Za-z0-9_-]*")
_CLOSE = {"(": ")", "[": "]"}


def _error(text, what, pos, found=None):
    tail = f" (found {found})" if found else ""
    return SpecError(f"expected {what} at position {pos} in {text!r}{tail}")


def _lex_error(text, pos):
    """The error for ``text[pos:]``, where no token starts."""
    if text[pos] != "%":
        return _error(text, "a bracket, operator, number, name or '%'", pos, repr(text[pos]))
    end = _CONDITION.match(text, pos + 1).end()
    found = repr(text[end]) if end < len(text) else "end of formula"
    if end == pos + 1:
        return _error(text, "a condition name", end, found)
    return _error(text, "'%' closing the condition name", end, found)


def _tokenize(text):
    tokens, pos = [], 0
    while not tokens or tokens[-1].kind != "end":
        match = _LEX.match(text, pos)
        if match is None:
            raise _lex_error(text, _SPACE.match(text, pos).end())
        kind, token = match.lastgroup, match.group(match.lastgroup)
        tokens.append(_Token(token if kind == "op" else kind,
                             token.strip("%") if kind == "cond" else token, match.start(kind)))
        pos = match.end()
    return tokens


class _Parser:
    """Recursive descent over the tokens of ``text``."""

    def __init__(self, text):
        self.text, self.tokens, self.i = text, _tokenize(text), 0

    def peek(self, ahead=0):
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self):
        self.i += 1
        return self.tokens[self.i - 1]

    def expect(self, what, *kinds):
        if self.peek().kind not in kinds:
            raise self.error(what)
        return self.take()

    def error(self, what, tok=None):
        tok = tok or self.peek()
        found = {"end": "end of formula", "cond": f"'%{tok.text}%'"}.get(tok.kind)
        return _error(self.text, what, tok.pos, found or repr(tok.text))

    def require(self, node, ops, pos):
        """Check an operand of ``ops``: truth values for ``& |``, values otherwise."""
        if ops is _LOGIC and not _is_truth(node):
            raise self.error("'<', '>' or '='")
        if ops is not _LOGIC and _is_truth(node):
            raise _error(self.text, "a value (reference, number or sum), not a comparison,", pos)

    def binary(self, level=0):
        """Fold ``operand (op operand)*`` for the operators of ``_LEVELS[level]``."""
        if level == len(_LEVELS):
            return self.atom()
        ops, pos = _LEVELS[level], self.peek().pos
        left = self.binary(level + 1)
        while self.peek().kind in ops:
            self.require(left, ops, pos)
            op, pos = self.take().text, self.peek().pos
            right = self.binary(level + 1)
            self.require(right, ops, pos)
            left = BinaryOp(op, left, right)
            if ops is _COMPARE and self.peek().kind in _COMPARE:
                raise self.error("'&' or '|' (comparisons do not chain)")
        return left

    def atom(self):
        kind = self.peek().kind
        if kind == "(" and self.is_reference():
            return self.reference()
        if kind in _CLOSE:
            self.take()
            inner = self.binary()
            self.expect(repr(_CLOSE[kind]), _CLOSE[kind])
            return inner
        if kind in ("+", "-", "num"):
            return self.number()
        raise self.error("a region reference, number or bracket")

    def is_reference(self):
        # A group never starts with a name, ';' or a number followed by ';' or '%...%'.
        after, then = self.peek(1).kind, self.peek(2).kind
        return after in ("name", ";") or (after == "num" and then in (";", "cond"))

    def reference(self):
        self.take()
        region = self.expect("a region number or name", "num", "name")
        if region.kind == "num" and not region.text.isdigit():
            raise self.error("an integer region number", region)
        self.expect("';'", ";")
        condition = self.expect("'%condition%'", "cond").text
        self.expect("')'", ")")
        return Reference(int(region.text) if region.kind == "num" else region.text, condition)

    def number(self):
        sign = self.take().text if self.peek().kind in ("+", "-") else "+"
        tok = self.expect("a number", "num")
        if not math.isfinite(value := float(tok.text)):
            raise self.error("a finite number", tok)
        return Number(-value if sign == "-" else value)


def parse_formula(text):
    """Parse a SyntaxGym prediction formula.

    Parameters
    ----------
    text : str
        The formula, e.g. ``"((5;%a%) - (5;%b%)) > 0"``; regions are numbers or names.

    Returns
    -------
    Formula
        Immutable and comparable; ``parse_formula(str(f)) == f``.

    Raises
    ------
    SpecError
        If ``text`` is malformed or is not a comparison (or comparisons joined by
        ``&``/``|``); the message quotes ``text`` and gives the 0-based position.

    Examples
    --------
    >>> f = parse_formula("((5;%mismatch%)-(5;%match%)) > (5;%attr%) - (5;%match%)")
    >>> str(f)
    '((5;%mismatch%) - (5;%match%)) > ((5;%attr%) - (5;%match%))'
    >>> parse_formula("(3;%a% > (3;%b%)")
    Traceback (most recent call last):
    probing._core.errors.SpecError: expected ')' at position 7 in '(3;%a% > (3;%b%)' (found '>')
    """
    if not isinstance(text, str):
        raise SpecError(f"a formula must be a string, got {type(text).__name__}")
    parser = _Parser(text)
    root = parser.binary()
    parser.require(root, _LOGIC, 0)
    parser.expect("end of formula", "end")
    return Formula(root)
