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
mlp_post L    input of block L's MLP down-projection      pre
q/k/v L       output of the query/key/value projection    forward
============  ==========================================  =======

GPT-2 computes q, k and v in one fused ``c_attn``: each is a third of its output, and an
edit of one leaves the others as they were. ``pattern`` (the attention probabilities) is
no module boundary: the edit sees the attention module's returned probabilities as
``(n_rows, width, n_heads, n_keys)`` (eager attention, switched on for the duration),
and a change ``dP`` is carried into the module's output as ``W_O (dP @ V)``, with the
values ``V`` of the same forward, repeated over each key/value group: exactly what the
attention would have computed from the edited probabilities.

Editing hooks are registered with ``prepend=True`` so they run before the hooks
transformers installs to collect ``hidden_states``: what is recorded is what the next
module reads.
"""

from __future__ import annotations

import contextlib

import torch

from probing._core.errors import ProbingError
from probing.interventions import ModelShape

__all__ = ["FAMILIES", "eager_attention", "edit_points", "find_family", "hook_point",
           "model_shape"]

# blocks path, final norm before the LM head, and per site the submodule of a block
FAMILIES = (
    ("h", "ln_f", {"attn_out": "attn", "mlp_out": "mlp", "head_out": "attn.c_proj",
                   "mlp_post": "mlp.c_proj", "q": "attn.c_attn", "k": "attn.c_attn",
                   "v": "attn.c_attn", "pattern": "attn"}),
    ("layers", "norm", {"attn_out": "self_attn", "mlp_out": "mlp", "head_out": "self_attn.o_proj",
                        "mlp_post": "mlp.down_proj", "q": "self_attn.q_proj",
                        "k": "self_attn.k_proj", "v": "self_attn.v_proj",
                        "pattern": "self_attn"}),
    ("encoder.layer", None, {"attn_out": "attention.output.dense", "mlp_out": "output.dense",
                             "head_out": "attention.output.dense", "mlp_post": "output.dense",
                             "q": "attention.self.query", "k": "attention.self.key",
                             "v": "attention.self.value", "pattern": "attention.self"}),
)
# sites read at a module's input; the others (but pattern) at its output
_PRE_SITES = ("head_out", "mlp_post")
_FUSED_THIRD = {"q": 0, "k": 1, "v": 2}


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
    down = _get(blocks[0], paths["mlp_post"])
    return ModelShape(len(blocks), d_model, n_heads, head_dim, lm.kind,
                      n_kv_heads=getattr(config, "num_key_value_heads", None) or n_heads,
                      d_mlp=_in_features(down) if down is not None else None)


def hook_point(base, site, layer):
    """``(module, is_pre_hook)`` of ``site`` at ``layer`` (already validated)."""
    blocks, _, paths = find_family(base)
    if site == "resid_pre":
        return blocks[layer - 1], True
    if site == "resid_post":
        return (blocks[0], True) if layer == 0 else (blocks[layer - 1], False)
    module = _get(blocks[layer - 1], paths[site])
    if module is None:
        raise ProbingError(f"{type(blocks[layer - 1]).__name__} has no {paths[site]!r} for "
                           f"site {site!r}")
    return module, site in _PRE_SITES


def _part(base, site):
    """Which third of a fused q/k/v projection's output is ``site`` (None: all of it)."""
    paths = find_family(base)[2]
    return _FUSED_THIRD[site] if site in _FUSED_THIRD and paths["q"] == paths["k"] else None


def _pre_hook(edit):
    def hook(module, args, kwargs):
        if args:
            return (edit(args[0]), *args[1:]), kwargs
        return args, {**kwargs, "hidden_states": edit(kwargs["hidden_states"])}
    return hook


def _post_hook(edit, part=None):
    def edit_part(tensor):
        if part is None:
            return edit(tensor)
        pieces = list(tensor.chunk(3, dim=-1))
        pieces[part] = edit(pieces[part])
        return torch.cat(pieces, dim=-1)

    def hook(module, args, output):
        if isinstance(output, tuple):
            return (edit_part(output[0]), *output[1:])
        return edit_part(output)
    return hook


def _pattern_hooks(base, layer, edit, prepend):
    """Hooks that hand ``edit`` the pattern of ``layer`` and carry its change forward."""
    blocks, _, paths = find_family(base)
    attention, _ = hook_point(base, "pattern", layer)
    values_module, _ = hook_point(base, "v", layer)
    inside = paths["head_out"].startswith(paths["pattern"] + ".")
    projection = _get(blocks[layer - 1], paths["head_out"]) if inside else None
    part, stash = _part(base, "v"), {}
    config = base.config
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads

    def keep_values(tensor):
        stash["v"] = tensor
        return tensor

    def hook(module, args, output):
        if not isinstance(output, tuple) or len(output) < 2 or output[1] is None:
            raise ProbingError(f"{type(module).__name__} returned no attention probabilities; "
                               f"site 'pattern' needs eager attention")
        pattern = output[1].transpose(1, 2)  # (rows, queries, heads, keys)
        new = edit(pattern)
        if new is pattern:
            return None
        # a padding query row attends to nothing: NaN in eager attention, and NaN - NaN
        # would spread through every row's values; rows not edited change by 0
        change = torch.nan_to_num(new - pattern, nan=0.0)
        change = _through_values(change, stash["v"], head_dim, projection)
        return (output[0] + change.to(output[0].dtype), new.transpose(1, 2), *output[2:])

    # the values are stashed after any edit of them (registered last)
    return [values_module.register_forward_hook(_post_hook(keep_values, part)),
            attention.register_forward_hook(hook, prepend=prepend)]


def _through_values(change, values, head_dim, projection):
    """What the attention output gains from pattern change ``(rows, q, heads, keys)``:
    the change times each head's values (a key/value head serves ``n_heads / n_kv``
    query heads in a row), merged and through the out-projection's weight."""
    rows, n_keys, n_heads = values.shape[0], values.shape[1], change.shape[2]
    per_head = values.reshape(rows, n_keys, -1, head_dim)
    per_head = per_head.repeat_interleave(n_heads // per_head.shape[2], dim=2)
    merged = torch.einsum("bqhk,bkhd->bqhd", change.to(values.dtype), per_head).flatten(2)
    if projection is None:
        return merged
    weight = projection.weight  # no module call: its own hooks (head_out edits) ran already
    return merged @ (weight.T if hasattr(projection, "in_features") else weight)


def _finite_padding(module, args, output):
    # eager attention gives a padding query that sees no key (left padding) NaN
    # probabilities, and its NaN output would reach real rows as 0 * NaN through the
    # next layer's values; real rows always see themselves, so only padding is touched
    if isinstance(output, tuple) and torch.isnan(output[0]).any():
        return (torch.nan_to_num(output[0], nan=0.0), *output[1:])
    return None


@contextlib.contextmanager
def eager_attention(base):
    """Run the model's eager attention (which returns its probabilities) inside the block.

    Padding rows that attend to nothing get an output of 0 instead of NaN.
    """
    before = getattr(base.config, "_attn_implementation", None)
    switch = before not in (None, "eager")
    blocks, _, paths = find_family(base)
    handles = [_get(block, paths["pattern"]).register_forward_hook(_finite_padding)
               for block in blocks]
    if switch:
        base.set_attn_implementation("eager")
    try:
        yield
    finally:
        if switch:
            base.set_attn_implementation(before)
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def edit_points(base, edits, *, prepend=True):
    """Run ``edits[(site, layer)](tensor) -> tensor`` at each point during forwards.

    ``prepend=False`` registers after the hooks already there (a recorder that must see
    earlier edits). The hooks are removed on every exit path (success, error, interrupt).
    """
    handles = []
    with contextlib.ExitStack() as stack:
        if any(site == "pattern" for site, _ in edits):
            stack.enter_context(eager_attention(base))
        try:
            for (site, layer), edit in edits.items():
                if site == "pattern":
                    handles += _pattern_hooks(base, layer, edit, prepend)
                    continue
                module, pre = hook_point(base, site, layer)
                if pre:
                    handles.append(module.register_forward_pre_hook(
                        _pre_hook(edit), with_kwargs=True, prepend=prepend))
                else:
                    handles.append(module.register_forward_hook(
                        _post_hook(edit, _part(base, site)), prepend=prepend))
            yield
        finally:
            for handle in handles:
                handle.remove()
