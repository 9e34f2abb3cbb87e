"""One parser of layer specifications (``all``, ``6``, ``"0,6,-1"``, a list of ints).

:func:`parse_layers` checks the syntax with no model (so a command can fail before it
loads one); :func:`resolve_layers` turns a spec into layer numbers once the model's
number of blocks is known. Layer 0 is the embeddings, layer i the output of block i;
negatives count back from the last block. A repeated layer is an error everywhere.
"""

from __future__ import annotations

from numbers import Integral

from probing._core.errors import ProbingError

__all__ = ["ALL", "parse_layers", "resolve_layers"]

ALL = "all"


def _syntax_error(spec):
    return ProbingError(f"layers must be 'all' or integers like 0,6,-1; got {spec!r}")


def parse_layers(spec):
    """``"all"``, or the layers as written (a tuple of ints, negatives kept).

    Parameters
    ----------
    spec : str, int or sequence of int
        ``"all"``, ``"0,6,-1"``, ``6`` or ``[0, 6, -1]``.

    Returns
    -------
    "all" or tuple of int

    Raises
    ------
    ProbingError
        Bad syntax, no layer, or a layer given twice.

    Examples
    --------
    >>> parse_layers(" 0, 6,-1"), parse_layers("all"), parse_layers(3)
    ((0, 6, -1), 'all', (3,))
    >>> parse_layers("3,3")
    Traceback (most recent call last):
    ...
    probing._core.errors.ProbingError: layers repeat: [3, 3]
    """
    if isinstance(spec, str):
        if spec.strip() == ALL:
            return ALL
        parts = [part.strip() for part in spec.split(",")]
        if not all(part.lstrip("-").isdigit() for part in parts):
            raise _syntax_error(spec)
        layers = tuple(int(part) for part in parts)
    elif isinstance(spec, Integral) and not isinstance(spec, bool):
        layers = (int(spec),)
    else:
        try:
            layers = tuple(spec)
        except TypeError:
            raise _syntax_error(spec) from None
        if not all(isinstance(x, Integral) and not isinstance(x, bool) for x in layers):
            raise _syntax_error(spec)
        layers = tuple(int(x) for x in layers)
    if not layers:
        raise _syntax_error(spec)
    if len(set(layers)) != len(layers):
        raise ProbingError(f"layers repeat: {list(layers)}")
    return layers


def resolve_layers(spec, n_blocks, *, lowest=0, where=""):
    """Layer numbers ``lowest..n_blocks`` from a spec, negatives counted back.

    Parameters
    ----------
    spec : str, int or sequence of int
        See :func:`parse_layers`.
    n_blocks : int
        The model's number of blocks (the last layer).
    lowest : int, default 0
        The first layer the site has (1 for sites a block writes, such as ``mlp_out``).
    where : str
        Named in the range error (``" for site 'mlp_out'"``).

    Returns
    -------
    list of int
        In the order given (``all``: ascending).

    Examples
    --------
    >>> resolve_layers("0,2,-1", 4), resolve_layers("all", 2, lowest=1)
    ([0, 2, 4], [1, 2])
    """
    layers = parse_layers(spec)
    if layers == ALL:
        return list(range(lowest, n_blocks + 1))
    resolved = [x + n_blocks + 1 if x < 0 else x for x in layers]
    bad = [x for x, r in zip(layers, resolved, strict=True) if not lowest <= r <= n_blocks]
    if bad:
        raise ProbingError(f"layers {bad} out of range{where}: allowed {lowest}..{n_blocks} "
                           f"(or negatives)")
    if len(set(resolved)) != len(resolved):
        raise ProbingError(f"layers repeat: {resolved}")
    return resolved
