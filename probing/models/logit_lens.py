"""Logit lens: next-token distributions read out from intermediate layers.

The read-out of layer ``L`` at a position is the model's own final normalisation and
unembedding applied to the residual stream after block ``L``::

    logits_L = unembed(final_norm(resid_post_L))

(nostalgebraist, 2020, "interpreting GPT: the logit lens"). Layer 0 is the embeddings,
layer ``L`` the output of block ``L`` (as in ``hidden_states``); at the last layer the
read-out *is* the model's prediction, and scoring checks that it reproduces the
model's logits before trusting any layer (an architecture that scales or caps its
logits after the unembedding fails that check and is refused). At earlier layers it
is a read-out, not a prediction the model makes: the later blocks never see it, and
the final norm and unembedding were trained for the last layer's residual stream only
(a tuned lens, Belrose et al. 2023, would fit a map per layer; this one fits nothing).

Surprisal, end-of-word mass and sliding windows are computed from a layer's read-out
exactly as from the model's logits (:mod:`probing.models.causal_lm`). Encoder (masked)
models are refused: their output head predicts masked tokens, not the next token.
"""

from __future__ import annotations

import contextlib

from probing._core.errors import ProbingError
from probing.models.sites import find_family, hook_point

__all__ = ["check_lens", "lens_logits", "n_blocks_of", "record_residuals", "resolve_lens_layers"]

# largest |lens(last block) - model logits| accepted, relative to the logits' scale
_TOLERANCE = 1e-4


def resolve_lens_layers(lm, layers):
    """Layer numbers for a logit-lens read-out of ``lm`` (``"all"``, ``"0,6,-1"``, ints).

    Raises
    ------
    ProbingError
        ``lm`` is a masked (encoder) model, has no final norm or output embeddings the
        lens can use, or a layer is out of range.
    """
    if lm.kind != "causal":
        raise ProbingError(f"layers (logit lens): {lm.name} is a {lm.kind} (encoder) model; the "
                           f"read-out needs a causal LM's next-token head")
    blocks, norm, _ = find_family(lm.model.base_model)
    if norm is None or lm.model.get_output_embeddings() is None:
        raise ProbingError(f"layers (logit lens): {lm.name} has no final norm and unembedding "
                           f"the read-out can use")
    # imported here: extract imports the scorers, which import this module
    from probing.models.site_activations import resolve_layers

    return resolve_layers(layers, len(blocks))


def lens_logits(lm, hidden):
    """``unembed(final_norm(hidden))``: shape ``(n_rows, width, vocab_size)``."""
    _, norm, _ = find_family(lm.model.base_model)
    return lm.model.get_output_embeddings()(norm(hidden))


@contextlib.contextmanager
def record_residuals(lm, layers):
    """Record ``resid_post`` at each of ``layers`` during the forwards inside the block.

    Yields
    ------
    dict of int -> torch.Tensor
        Filled at each forward: ``(n_rows, width, d_model)`` per layer.
    """
    base = lm.model.base_model
    recorded, handles = {}, []

    def pre(layer):
        def hook(module, args, kwargs):
            recorded[layer] = args[0] if args else kwargs["hidden_states"]
        return hook

    def post(layer):
        def hook(module, args, output):
            recorded[layer] = output[0] if isinstance(output, tuple) else output
        return hook

    try:
        for layer in layers:
            module, is_pre = hook_point(base, "resid_post", layer)
            handles.append(module.register_forward_pre_hook(pre(layer), with_kwargs=True)
                           if is_pre else module.register_forward_hook(post(layer)))
        yield recorded
    finally:
        for handle in handles:
            handle.remove()


def check_lens(lm, last_hidden, logits):
    """Raise unless the read-out of the last block reproduces the model's logits.

    Parameters
    ----------
    lm : LanguageModel
    last_hidden : torch.Tensor
        ``resid_post`` of the last block, ``(n_rows, width, d_model)``.
    logits : torch.Tensor
        The model's logits of the same forward.
    """
    lens = lens_logits(lm, last_hidden)
    scale = float(logits.abs().amax()) or 1.0
    gap = float((lens - logits).abs().amax())
    if not gap <= _TOLERANCE * scale:
        raise ProbingError(f"layers (logit lens): {lm.name}'s final norm and unembedding do not "
                           f"reproduce its logits (max difference {gap:.3g}); the read-out is "
                           f"not defined for this architecture")


def n_blocks_of(lm):
    """Number of transformer blocks (the last layer of the read-out)."""
    return len(find_family(lm.model.base_model)[0])

