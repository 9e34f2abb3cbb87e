"""Recording sites beyond the residual stream, through forward hooks.

Sites use TransformerLens names. ``resid_post`` comes from ``output_hidden_states``
(layer 0 = embeddings); the others (``attn_out``, ``mlp_out``: a block's attention and
MLP outputs *before* they are added to the residual stream; ``mlp_post``: the MLP's
neurons; ``q``/``k``/``v``: the attention's projections, heads concatenated) are
recorded where :mod:`probing.models.sites` edits them, by hooks that
:func:`record_sites` always removes, on success and on error. A recorder runs after any
intervention's edit at the same point, so it records the edit.
"""

from __future__ import annotations

import contextlib

from probing._core.errors import ProbingError
from probing._core.values import SITES
from probing.models.sites import edit_points, find_family, hook_point

__all__ = ["HOOK_SITES", "SITES", "block_modules", "record_sites", "site_module"]

HOOK_SITES = tuple(site for site in SITES if site != "resid_post")


def block_modules(base):
    """The transformer blocks of a base model and the site -> submodule path map."""
    blocks, _, paths = find_family(base)
    return blocks, paths


def site_module(base, site, layer):
    """The module whose output (or input: ``mlp_post``) is ``site`` at ``layer`` (1-based)."""
    if site not in HOOK_SITES:
        raise ProbingError(f"site {site!r} is not a hook site; available sites: {', '.join(SITES)}")
    blocks, _ = block_modules(base)
    if not 1 <= layer <= len(blocks):
        raise ProbingError(f"site {site!r} exists at layers 1..{len(blocks)}; got {layer}")
    return hook_point(base, site, layer)[0]


@contextlib.contextmanager
def record_sites(base, site, layers):
    """Record ``site`` at each of ``layers`` during forwards inside the block.

    Yields
    ------
    dict of int -> torch.Tensor
        Filled at each forward: ``(n_rows, width, n_units)`` per layer.
    """
    recorded = {}
    for layer in layers:
        site_module(base, site, layer)  # checks the site and the layer

    def recorder(layer):
        def edit(tensor):
            recorded[layer] = tensor
            return tensor
        return edit

    with edit_points(base, {(site, layer): recorder(layer) for layer in layers}, prepend=False):
        yield recorded
