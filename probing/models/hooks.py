"""Recording sites beyond the residual stream, through forward hooks.

Sites use TransformerLens names. ``resid_post`` comes from ``output_hidden_states``
(layer 0 = embeddings); ``attn_out`` and ``mlp_out`` are the outputs of a block's
attention and MLP sublayers *before* they are added to the residual stream, recorded
by forward hooks that :func:`record_sites` always removes, on success and on error.
"""

from __future__ import annotations

import contextlib

from probing._core.errors import ProbingError
from probing._core.values import SITES

__all__ = ["HOOK_SITES", "SITES", "block_modules", "record_sites", "site_module"]

HOOK_SITES = ("mlp_out", "attn_out")

# block list path in the base model, then per site the submodule path in a block
_FAMILIES = (
    ("h", {"attn_out": "attn", "mlp_out": "mlp"}),  # GPT-2, GPT-Neo(X)-style
    ("layers", {"attn_out": "self_attn", "mlp_out": "mlp"}),  # Llama, Mistral, Qwen...
    ("encoder.layer", {"attn_out": "attention.output.dense", "mlp_out": "output.dense"}),  # BERT
)


def _get(module, path):
    for part in path.split("."):
        module = getattr(module, part, None)
        if module is None:
            return None
    return module


def block_modules(base):
    """The transformer blocks of a base model and the site -> submodule path map."""
    for blocks_path, sites in _FAMILIES:
        blocks = _get(base, blocks_path)
        if blocks is not None:
            return list(blocks), sites
    raise ProbingError(f"{type(base).__name__}: unknown block layout; only 'resid_post' is "
                       f"available (hook sites support GPT-2, Llama- and BERT-family models)")


def site_module(base, site, layer):
    """The module whose output is ``site`` at ``layer`` (1-based: output of block ``layer``)."""
    if site not in HOOK_SITES:
        raise ProbingError(f"site {site!r} is not a hook site; available sites: {', '.join(SITES)}")
    blocks, sites = block_modules(base)
    if not 1 <= layer <= len(blocks):
        raise ProbingError(f"site {site!r} exists at layers 1..{len(blocks)}; got {layer}")
    module = _get(blocks[layer - 1], sites[site])
    if module is None:
        raise ProbingError(f"{type(blocks[layer - 1]).__name__} has no {sites[site]!r} for {site!r}")
    return module


@contextlib.contextmanager
def record_sites(base, site, layers):
    """Record ``site`` at each of ``layers`` during forwards inside the block.

    Yields
    ------
    dict of int -> torch.Tensor
        Filled at each forward: ``(n_rows, width, n_units)`` per layer.
    """
    recorded, handles = {}, []

    def hook_for(layer):
        def hook(module, inputs, output):
            recorded[layer] = output[0] if isinstance(output, tuple) else output
        return hook

    try:
        for layer in layers:
            handles.append(site_module(base, site, layer).register_forward_hook(hook_for(layer)))
        yield recorded
    finally:
        for handle in handles:
            handle.remove()
