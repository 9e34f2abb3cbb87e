"""Interventions on hidden states, described as plain data (no torch).

An :class:`Intervention` says *where* (a layer and a site), *which token positions*,
*which units* (indices or a subspace) and *what* to do there. Paradigm files, analyses
and the command line build and validate these without loading a model; the model
adapter (:mod:`probing.models.intervention_hooks`) applies them inside its batched forwards.

Sites (TransformerLens names; layers: 0 = embeddings, i = block i, as elsewhere):

``resid_pre``
    The residual stream entering block ``layer`` (1..n_layers).
``resid_post``
    The residual stream leaving block ``layer`` (0..n_layers; 0 = the embeddings). It
    is taken before any final layer norm, so it can differ from ``hidden_states[-1]``.
``attn_out`` / ``mlp_out``
    The attention / MLP sublayer output of block ``layer`` before it is added to the
    residual stream (1..n_layers).
``head_out``
    The per-head attention outputs at the *input* of the attention output projection
    (``c_proj``/``o_proj``/``attention.output.dense``): ``n_heads`` slices of
    ``head_dim`` units, one per query head. This is where heads are still separate; the
    projection's *output* mixes them, so slicing it is not a head. Under grouped-query
    attention the query heads are counted, not the key/value heads.
``q`` / ``k`` / ``v``
    The query / key / value projections of block ``layer``'s attention (TransformerLens
    ``hook_q``/``hook_k``/``hook_v``; GPT-2: the three thirds of ``c_attn``), heads
    concatenated, before rotary embeddings. Under grouped-query attention (a Llama with
    fewer key/value heads than query heads) ``k`` and ``v`` have ``n_kv_heads`` heads and
    ``heads`` indexes *key/value* heads: editing k/v head ``j`` changes every query head
    that reads it (query heads ``j * g .. (j + 1) * g - 1``, ``g = n_heads / n_kv_heads``).
``pattern``
    The attention pattern (TransformerLens ``hook_pattern``): each query head's
    post-softmax probabilities over key positions. Positions pick *query* rows; ``zero``
    empties the rows (the head then writes nothing there), ``patch``/``resample`` copy
    the source's rows, key position ``j`` to key position ``j``, so the source must
    have as many framed tokens as the patched text. The head's output at the row is
    recomputed from the new probabilities and the run's own values (exactly what the
    attention computes). No ``units``, ``values`` or other ops. Reading it runs the
    model's eager attention for the duration.
``mlp_post``
    The MLP's hidden activation after its nonlinearity, one unit per neuron
    (TransformerLens ``mlp.hook_post``): GPT-2 ``act(c_fc x)``; a gated Llama MLP
    ``act(gate x) * up x``; BERT the intermediate activation. It is the input of the
    MLP's down-projection.

Positions index the stimulus' tokens (0-based ``token_index`` of the tokens table, the
framing start token excluded): ``"all"``, ``"last"``, an int or a tuple of ints
(negative ones count from the end), ``"region:<name>"`` (the tokens whose first
character lies in the region) or ``"word:<i>"`` (the tokens of whitespace word ``i``).
``"sequence"`` is every position of the framed input, the start token (and a masked
LM's ``[SEP]``) included: what "patch every position" means.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from probing._core.deprecation import renamed, renamed_fields
from probing._core.errors import ProbingError
from probing._core.values import HEAD_SITES
from probing._core.values import INTERVENTION_SITES as SITES

__all__ = [
    "HEAD_SITES",
    "OPS",
    "SITES",
    "Intervention",
    "ModelShape",
    "check_against_model",
    "interventions_from_units",
    "resolve_positions",
    "whitespace_words",
]

OPS = ("zero", "mean", "resample", "patch", "add", "project_out")
_PATTERN_OPS = ("zero", "patch", "resample")
_NEEDS_VALUES = ("mean", "add")


def _fail(field, message):
    raise ProbingError(f"intervention.{field}: {message}")


def _int_tuple(value, field):
    values = (value,) if isinstance(value, numbers.Integral) else value
    try:
        out = tuple(int(v) for v in values)
    except (TypeError, ValueError):
        _fail(field, f"must be an int or a sequence of ints; got {value!r}")
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in values):
        _fail(field, f"must be an int or a sequence of ints; got {value!r}")
    if not out or len(set(out)) != len(out):
        _fail(field, f"must be non-empty without repeats; got {value!r}")
    return out


def _check_positions(positions):
    if positions in ("all", "last", "sequence"):
        return positions
    if isinstance(positions, str):
        kind, _, rest = positions.partition(":")
        if kind == "region" and rest:
            return positions
        if kind == "word" and rest.lstrip("-").isdigit():
            return f"word:{int(rest)}"
        _fail("positions", f"must be 'all', 'last', 'sequence', 'region:<name>', 'word:<i>' or ints; "
                           f"got {positions!r}")
    return _int_tuple(positions, "positions")


def _check_units(units):
    """``None``, a tuple of unit indices, or a tuple of basis rows (a subspace)."""
    if units is None:
        return None
    array = np.asarray(units)
    if array.ndim == 2:
        if not np.issubdtype(array.dtype, np.number) or not np.isfinite(array).all():
            _fail("units", "a subspace must be a finite numeric (k, width) matrix")
        if np.linalg.matrix_rank(array.astype(np.float64)) < array.shape[0]:
            _fail("units", f"the {array.shape[0]} basis rows are linearly dependent")
        return tuple(tuple(float(x) for x in row) for row in array)
    if array.ndim == 1 and array.size and np.issubdtype(array.dtype, np.integer):
        units = _int_tuple(array.tolist(), "units")
        if min(units) < 0:
            _fail("units", f"indices must be >= 0; got {min(units)}")
        return units
    return _fail("units", "must be None, unit indices, or a (k, width) basis matrix; "
                          f"got an array of shape {array.shape} and dtype {array.dtype}")


@renamed_fields(seed="random_state")
@dataclasses.dataclass(frozen=True)
class Intervention:
    """One intervention on a hidden state (validated when built; immutable).

    Parameters
    ----------
    layer : int
        Block (``resid_post``: 0 = embeddings).
    site : {"resid_pre", "resid_post", "attn_out", "mlp_out", "head_out", "mlp_post", \
"q", "k", "v", "pattern"}
        See the module docstring.
    positions : "all", "last", "sequence", int, tuple of int, "region:<name>" or "word:<i>"
    units : None, tuple of int, or (k, width) array
        None: every unit; indices; or the rows of a subspace basis (orthonormalised by
        the adapter). For ``head_out``, ``q``, ``k`` and ``v`` indices count within one
        head (0..head_dim-1) and a basis spans the concatenated selected heads.
        ``pattern``: None only.
    heads : None or tuple of int
        ``head_out``, ``q``, ``k``, ``v``, ``pattern`` only: which heads (None: all); key/value
        heads for ``k`` and ``v``.
    op : {"zero", "mean", "resample", "patch", "add", "project_out"}
        ``zero`` the units (or the subspace component); ``mean`` sets them to ``values``
        (a reference-set mean you computed); ``patch`` copies them from the run of the
        ``source`` text; ``resample`` copies them from one of ``sources``, drawn per
        stimulus from ``random_state`` and the stimulus text (so not from its order); ``add``
        adds ``scale * values``; ``project_out`` removes the subspace component.
    values : None or sequence of float
        ``mean``/``add``: one value per selected unit (or per unit of the site).
    scale : float, default 1.0
        ``add`` only.
    source : str, optional
        ``patch``: the source text; positions are resolved on it the same way and must
        give as many tokens as on the patched stimulus.
    sources : tuple of str, optional
        ``resample``: the texts to draw from.
    random_state : int, default 0
        ``resample`` only: the seed of the draw (its old name ``seed`` warns: ``seed``
        is a paradigm's generation seed).

    Examples
    --------
    >>> Intervention(layer=2, site="head_out", heads=(1,), positions="last").op
    'zero'
    >>> Intervention(layer=1, op="fade")
    Traceback (most recent call last):
    ...
    probing._core.errors.ProbingError: intervention.op: must be one of zero, mean, resample, patch, add, project_out; got 'fade'
    """

    layer: int
    site: str = "resid_post"
    positions: object = "all"
    units: object = None
    heads: object = None
    op: str = "zero"
    values: object = None
    scale: float = 1.0
    source: str | None = None
    sources: object = None
    random_state: int = 0

    def __post_init__(self):
        fix = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        if isinstance(self.layer, bool) or not isinstance(self.layer, numbers.Integral) \
                or self.layer < 0:
            _fail("layer", f"must be an integer >= 0; got {self.layer!r}")
        fix("layer", int(self.layer))
        if self.site not in SITES:
            _fail("site", f"must be one of {', '.join(SITES)}; got {self.site!r}")
        if self.op not in OPS:
            _fail("op", f"must be one of {', '.join(OPS)}; got {self.op!r}")
        fix("positions", _check_positions(self.positions))
        fix("units", _check_units(self.units))
        if self.heads is not None:
            if self.site not in HEAD_SITES:
                _fail("heads", f"only for sites {', '.join(HEAD_SITES)}; got site {self.site!r}")
            fix("heads", _int_tuple(self.heads, "heads"))
        if self.site == "pattern" and (self.op not in _PATTERN_OPS or self.units is not None):
            _fail("op", f"site 'pattern' takes ops {', '.join(_PATTERN_OPS)} and no units; "
                        f"got op {self.op!r}" + ("" if self.units is None else " with units"))
        self._check_op()

    def _check_op(self):
        fix = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        if self.op in _NEEDS_VALUES:
            values = np.asarray(self.values if self.values is not None else [], dtype=float)
            if values.ndim != 1 or not values.size or not np.isfinite(values).all():
                _fail("values", f"op {self.op!r} needs a finite 1-d vector; got {self.values!r}")
            fix("values", tuple(float(v) for v in values))
        elif self.values is not None:
            _fail("values", f"only for ops {', '.join(_NEEDS_VALUES)}; got op {self.op!r}")
        if (self.op == "patch") != (self.source is not None):
            _fail("source", "op 'patch' needs a source text and no other op takes one")
        if self.source is not None and (not isinstance(self.source, str) or not self.source.strip()):
            _fail("source", f"must be a non-empty text; got {self.source!r}")
        if self.op == "resample":
            sources = self.sources
            if isinstance(sources, str) or not sources or not all(
                    isinstance(s, str) and s.strip() for s in sources):
                _fail("sources", f"op 'resample' needs a non-empty tuple of texts; got {sources!r}")
            fix("sources", tuple(sources))
        elif self.sources is not None:
            _fail("sources", f"only for op 'resample'; got op {self.op!r}")
        if self.op == "project_out" and not self.is_subspace:
            _fail("units", "op 'project_out' needs a (k, width) basis matrix")
        if not isinstance(self.scale, numbers.Real) or not np.isfinite(self.scale):
            _fail("scale", f"must be a finite number; got {self.scale!r}")
        fix("scale", float(self.scale))

    @property
    def is_subspace(self):
        """Whether ``units`` is a basis matrix rather than unit indices."""
        return self.units is not None and isinstance(self.units[0], tuple)


@dataclasses.dataclass(frozen=True)
class ModelShape:
    """What validation needs to know about a model (built by the adapter).

    Parameters
    ----------
    n_layers : int
        Number of blocks.
    d_model : int
        Width of the residual stream and of ``attn_out``/``mlp_out``.
    n_heads : int
        Query heads.
    head_dim : int
    kind : {"causal", "masked"}
    n_kv_heads : int, optional
        Key/value heads (grouped-query attention); default ``n_heads``.
    d_mlp : int, optional
        Neurons of the MLP (``mlp_post``); default ``4 * d_model``.
    """

    n_layers: int
    d_model: int
    n_heads: int
    head_dim: int
    kind: str = "causal"
    n_kv_heads: int | None = None
    d_mlp: int | None = None

    def layer_range(self, site):
        """Allowed layers of ``site``."""
        return range(0 if site == "resid_post" else 1, self.n_layers + 1)

    def heads_of(self, site):
        """Heads of a head site (key/value heads for ``k`` and ``v``)."""
        return (self.n_kv_heads or self.n_heads) if site in ("k", "v") else self.n_heads

    def width(self, site):
        """Units of ``site`` (head sites: all heads together; ``pattern``: its heads, each
        a row over the key positions)."""
        if site == "pattern":
            return self.n_heads
        if site in HEAD_SITES:
            return self.heads_of(site) * self.head_dim
        return (self.d_mlp or 4 * self.d_model) if site == "mlp_post" else self.d_model


def _n_selected(intervention, shape):
    if intervention.site in HEAD_SITES:
        heads = len(intervention.heads) if intervention.heads else shape.heads_of(intervention.site)
        per_head = len(intervention.units) if intervention.units and not \
            intervention.is_subspace else shape.head_dim
        return heads * per_head
    if intervention.units is None or intervention.is_subspace:
        return shape.width(intervention.site)
    return len(intervention.units)


def check_against_model(intervention, shape):
    """Check an intervention fits a model before any forward pass; return it.

    Examples
    --------
    >>> shape = ModelShape(n_layers=2, d_model=8, n_heads=2, head_dim=4)
    >>> check_against_model(Intervention(layer=3), shape)
    Traceback (most recent call last):
    ...
    probing._core.errors.ProbingError: intervention.layer: site 'resid_post' has layers 0..2; got 3
    """
    iv, allowed = intervention, shape.layer_range(intervention.site)
    if iv.layer not in allowed:
        _fail("layer", f"site {iv.site!r} has layers {allowed.start}..{allowed.stop - 1}; "
                       f"got {iv.layer}")
    n_heads = shape.heads_of(iv.site)
    if iv.heads is not None and (max(iv.heads) >= n_heads or min(iv.heads) < 0):
        what = "key/value heads" if iv.site in ("k", "v") else "heads"
        _fail("heads", f"the model has {what} 0..{n_heads - 1} at site {iv.site!r}; "
                       f"got {list(iv.heads)}")
    selected = shape.width(iv.site)
    if iv.site in HEAD_SITES and iv.heads is not None:
        selected = len(iv.heads) * shape.head_dim
    if iv.is_subspace and len(iv.units[0]) != selected:
        _fail("units", f"basis rows must have {selected} entries (site {iv.site!r}); "
                       f"got {len(iv.units[0])}")
    limit = shape.head_dim if iv.site in HEAD_SITES else shape.width(iv.site)
    if iv.units is not None and not iv.is_subspace and max(iv.units) >= limit:
        _fail("units", f"site {iv.site!r} has units 0..{limit - 1}; got {max(iv.units)}")
    n = _n_selected(iv, shape)
    if iv.values is not None and len(iv.values) not in {n, shape.width(iv.site)}:
        _fail("values", f"need {n} values (one per selected unit) or {shape.width(iv.site)}; "
                        f"got {len(iv.values)}")
    return iv


def whitespace_words(text):
    """Char spans of the whitespace-delimited words of ``text``.

    Examples
    --------
    >>> whitespace_words("The cats  sleep.")
    [(0, 3), (4, 8), (10, 16)]
    """
    spans, start = [], None
    for i, char in enumerate(text + " "):
        if char.isspace() and start is not None:
            spans.append((start, i))
            start = None
        elif not char.isspace() and start is None:
            start = i
    return spans


def _tokens_in(token_starts, segment):
    a, b = segment
    inside = [i for i, s in enumerate(token_starts) if a <= s < b]
    if not inside:  # a segment inside one token (merged with the word before): that token
        inside = [max(i for i, s in enumerate(token_starts) if s <= a)] if token_starts and \
            token_starts[0] <= a else []
    return inside


def resolve_positions(positions, spans, *, text, regions=None, label="stimulus"):
    """Token indices a ``positions`` spec picks in one stimulus.

    Parameters
    ----------
    positions : str or tuple of int
        A checked :attr:`Intervention.positions`.
    spans : list of (int, int)
        Char span of each of the stimulus' ``n_tokens`` tokens.
    text : str
    regions : mapping of str -> (int, int), optional
        Char span of each named region of this stimulus.
    label : str
        Names the stimulus in errors.

    Returns
    -------
    list of int
        Sorted token indices.

    Examples
    --------
    >>> spans = [(0, 3), (4, 8), (9, 14)]
    >>> resolve_positions("last", spans, text="The cats sleep"), resolve_positions((0, -1), spans, text="")
    ([2], [0, 2])
    >>> resolve_positions("word:1", spans, text="The cats sleep")
    [1]
    """
    n = len(spans)
    if positions == "sequence":
        raise ProbingError("positions 'sequence' counts framing tokens; the model adapter "
                           "resolves it")
    if positions == "all":
        return list(range(n))
    if positions == "last":
        return [n - 1]
    starts = [s for s, _ in spans]
    if isinstance(positions, str) and positions.startswith("region:"):
        name = positions[len("region:"):]
        if not regions or name not in regions:
            known = sorted(regions) if regions else []
            raise ProbingError(f"{label}: intervention.positions: no region {name!r}; "
                               f"regions: {known}")
        found = _tokens_in(starts, regions[name])
    elif isinstance(positions, str):
        index, words = int(positions[len("word:"):]), whitespace_words(text)
        if not -len(words) <= index < len(words):
            raise ProbingError(f"{label}: intervention.positions: word {index} is past the end "
                               f"({len(words)} words)")
        found = _tokens_in(starts, words[index])
    else:
        bad = [p for p in positions if not -n <= p < n]
        if bad:
            raise ProbingError(f"{label}: intervention.positions {bad} past the end "
                               f"({n} tokens: 0..{n - 1} or -{n}..-1)")
        found = [p % n for p in positions]
    if not found:
        raise ProbingError(f"{label}: intervention.positions {positions!r} holds no token")
    return sorted(set(found))


@renamed(units="unit_table")
def interventions_from_units(unit_table, *, site="resid_post", op="zero", positions="all", **options):
    """One :class:`Intervention` per layer (and site) of a unit table.

    Parameters
    ----------
    unit_table : pandas.DataFrame
        ``layer`` and ``unit`` columns (a localizer's or a probe's selection); an optional
        ``site`` column overrides ``site`` per row.
    site, op, positions
        As in :class:`Intervention`.
    **options
        Other :class:`Intervention` fields (``values`` must then cover each layer's
        units, so it is rarely given here).

    Returns
    -------
    tuple of Intervention
        Sorted by site and layer; empty for a table without rows (ablating no units is
        the plain run).

    Examples
    --------
    >>> import pandas as pd
    >>> ivs = interventions_from_units(pd.DataFrame({"layer": [2, 1, 2], "unit": [7, 3, 5]}))
    >>> [(iv.layer, iv.units) for iv in ivs]
    [(1, (3,)), (2, (5, 7))]
    """
    missing = [c for c in ("layer", "unit") if c not in getattr(unit_table, "columns", [])]
    if missing:
        raise ProbingError(f"unit table: missing column(s) {missing}; required: layer, unit")
    if not len(unit_table):
        # Ablating no units is the plain run (issue #11: tested to be exactly equal), so an
        # empty selection, e.g. a localizer's FWE selection that found nothing, is allowed.
        return ()
    sites = unit_table["site"] if "site" in unit_table.columns else [site] * len(unit_table)
    groups = {}
    for row_site, layer, unit in zip(sites, unit_table["layer"], unit_table["unit"], strict=True):
        groups.setdefault((str(row_site), int(layer)), set()).add(int(unit))
    return tuple(Intervention(layer=layer, site=row_site, units=tuple(sorted(chosen)), op=op,
                              positions=positions, **options)
                 for (row_site, layer), chosen in sorted(groups.items()))
