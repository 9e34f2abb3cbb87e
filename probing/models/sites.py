"""Where each intervention site lives in a model, and hooks that edit it.

Every site is one tensor of shape ``(n_rows, width, n_units)`` at one module boundary:

============  ==========================================  =======
site          tensor                                      hook
============  ==========================================  =======
resid_pre L   input of block L                            pre
resid_post 0  input of block 1 (the embeddings)           pre
resid_post L  output of block L                           forward
attn_out L    output of block L's attention               forward
mlp_out L     output of block L's MLP                     forward
head_out L    input of block L's attention out-projection pre
============  ==========================================  =======

Editing hooks are registered with ``prepend=True`` so they run before the hooks
transformers installs to collect ``hidden_states``: what is recorded is what the next
module reads.
"""

from __future__ import annotations

import contextlib

from probing._core.errors import ProbingError
from probing.interventions import ModelShape

__all__ = ["FAMILIES", "edit_points", "find_family", "hook_point", "model_shape"]

# blocks path, final norm before the LM head, and per site the submodule of a block
FAMILIES = (
    ("h", "ln_f", {"attn_out": "attn", "mlp_out": "mlp", "head_out": "attn.c_proj"}),
    ("layers", "norm", {"attn_out": "self_attn", "mlp_out": "mlp", "head_out": "self_attn.o_proj"}),
    ("encoder.layer", None, {"attn_out": "attention.output.dense", "mlp_out": "output.dense",
                             "head_out": "attention.output.dense"}),
)


def _get(module, path):
    try:
        return module.get_submodule(path)
    except AttributeError:
        return None


def find_family(base):
    """``(blocks, final_norm_or_None, site_paths)`` of a base model."""
    for blocks_path, norm_path, paths in FAMILIES:
        blocks = _get(base, blocks_path)
        if blocks is not None:
            return list(blocks), (_get(base, norm_path) if norm_path else None), paths
    raise ProbingError(f"{type(base).__name__}: unknown block layout; interventions support "
                       f"GPT-2, Llama- and BERT-family models")


def _in_features(module):
    if hasattr(module, "in_features"):
        return module.in_features
    return module.weight.shape[0]  # GPT-2's Conv1D stores (in, out)


def model_shape(lm):
    """The :class:`~probing.interventions.ModelShape` of a language model."""
    config = lm.model.config
    blocks, _, paths = find_family(lm.model.base_model)
    d_model = config.hidden_size
    n_heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or d_model // n_heads
    projection = _get(blocks[0], paths["head_out"])
    if projection is None or _in_features(projection) != n_heads * head_dim:
        raise ProbingError(f"{type(blocks[0]).__name__}: the attention out-projection does not "
                           f"take {n_heads} heads x {head_dim} units")
    return ModelShape(len(blocks), d_model, n_heads, head_dim, lm.kind)


def hook_point(base, site, layer):
    """``(module, is_pre_hook)`` of ``site`` at ``layer`` (already validated)."""
    blocks, _, paths = find_family(base)
    if site == "resid_pre":
        return blocks[layer - 1], True
    if site == "resid_post":
        return (blocks[0], True) if layer == 0 else (blocks[layer - 1], False)
    return _get(blocks[layer - 1], paths[site]), site == "head_out"


def _pre_hook(edit):
    def hook(module, args, kwargs):
        if args:
            return (edit(args[0]), *args[1:]), kwargs
        return args, {**kwargs, "hidden_states": edit(kwargs["hidden_states"])}
    return hook


def _post_hook(edit):
    def hook(module, args, output):
        if isinstance(output, tuple):
            return (edit(output[0]), *output[1:])
        return edit(output)
    return hook


@contextlib.contextmanager
def edit_points(base, edits):
    """Run ``edits[(site, layer)](tensor) -> tensor`` at each point during forwards.

    The hooks are removed on every exit path (success, error, interrupt).
    """
    handles = []
    try:
        for (site, layer), edit in edits.items():
            module, pre = hook_point(base, site, layer)
            if pre:
                handles.append(module.register_forward_pre_hook(
                    _pre_hook(edit), with_kwargs=True, prepend=True))
            else:
                handles.append(module.register_forward_hook(_post_hook(edit), prepend=True))
        yield
    finally:
        for handle in handles:
            handle.remove()
