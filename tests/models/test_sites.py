"""The q/k/v, pattern and mlp_post sites against plain PyTorch hooks on tiny GPT-2 and Llama.

The Llama has 4 query heads and 2 key/value heads (grouped-query attention), so ``k`` and
``v`` are 2 heads wide there. Every reference below is written with ``register_forward_hook``
on the model's own modules and computes the site from the module's input, not through the
adapter's hook points.
"""

import contextlib

import numpy as np
import pandas as pd
import pytest
import torch

from probing._core.errors import ProbingError
from probing.interventions import Intervention
from probing.models import score_tokens
from probing.models.patch_runs import patch_pairs
from probing.models.patch_sets import patch_set
from probing.models.site_activations import compute_activations
from probing.models.sites import model_shape

from ._helpers import ARCHITECTURES, CAUSAL, reference_causal

SAME_LENGTH = ("The cat sat on the mat.", "The mat sat on the cat.")
NEW_SITES = ("mlp_post", "q", "k", "v")


def _block(lm, layer):
    base = lm.model.base_model
    blocks = base.h if hasattr(base, "h") else base.layers if hasattr(base, "layers") \
        else base.encoder.layer
    return blocks[layer - 1]


def _reference_site(lm, block, site, x):
    """``site`` computed from the input ``x`` of the block's attention (q/k/v) or MLP."""
    arch = lm.model.config.model_type
    if arch == "gpt2":
        if site == "mlp_post":
            return block.mlp.act(block.mlp.c_fc(x))
        return block.attn.c_attn(x).split(block.attn.embed_dim, dim=-1)["qkv".index(site)]
    if arch == "llama":
        if site == "mlp_post":
            return block.mlp.act_fn(block.mlp.gate_proj(x)) * block.mlp.up_proj(x)
        return getattr(block.self_attn, f"{site}_proj")(x)
    if site == "mlp_post":
        return block.intermediate(x)
    names = {"q": "query", "k": "key", "v": "value"}
    return getattr(block.attention.self, names[site])(x)


def _input_module(lm, block, site):
    arch = lm.model.config.model_type
    if arch == "gpt2":
        return block.mlp if site == "mlp_post" else block.ln_1
    if arch == "llama":
        return block.mlp if site == "mlp_post" else block.input_layernorm
    return block.attention.output if site == "mlp_post" else block.attention.self


@contextlib.contextmanager
def _hooked(module, hook, pre=False):
    handle = (module.register_forward_pre_hook(hook) if pre else
              module.register_forward_hook(hook))
    try:
        yield
    finally:
        handle.remove()


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("site", NEW_SITES)
def test_extracted_site_equals_a_plain_hook(make_lm, arch, site):
    lm = make_lm(arch)
    text = SAME_LENGTH[0]
    got = compute_activations(lm, [text], [[None]], layers=[2], site=site, pooling="last",
                              store_dtype="float64")[0, 0]
    shape = model_shape(lm)
    assert got.shape == (shape.width(site),)
    if arch == "llama" and site in ("k", "v"):
        assert got.shape == (shape.n_kv_heads * shape.head_dim,) == (16,)
    ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    framed = [lm.start_token_id, *ids, *([] if lm.end is None else [lm.end.token_id])]
    block, seen = _block(lm, 2), {}
    module = _input_module(lm, block, site)
    if arch == "bert" and site == "mlp_post":  # BertAttention's output feeds the MLP
        def hook(m, args, output):
            seen["x"] = output[0] if isinstance(output, tuple) else output
        module = block.attention
    elif arch == "bert":  # the input of BertSelfAttention
        def hook(m, args, output):
            seen["x"] = args[0]
    else:
        def hook(m, args, output):
            seen["x"] = output if site != "mlp_post" else args[0]
    with torch.no_grad(), _hooked(module, hook):
        lm.model(torch.tensor([framed]))
        want = _reference_site(lm, block, site, seen["x"])[0, len(ids)]
    np.testing.assert_allclose(got, want.numpy(), rtol=0, atol=1e-12)


def _columns(lm, site, heads):
    """Column range of ``heads`` in the output of the module the site is taken from."""
    shape = model_shape(lm)
    offset = 0
    if lm.model.config.model_type == "gpt2" and site in ("k", "v"):
        offset = "qkv".index(site) * shape.d_model  # GPT-2's fused c_attn
    cols = [offset + h * shape.head_dim + u for h in heads for u in range(shape.head_dim)]
    return torch.as_tensor(cols)


def _site_module(lm, block, site):
    arch = lm.model.config.model_type
    if arch == "gpt2":
        return block.mlp.c_proj if site == "mlp_post" else block.attn.c_attn
    return block.mlp.down_proj if site == "mlp_post" else getattr(block.self_attn, f"{site}_proj")


def _reference_edit(lm, site, layer, rows, cols, payload):
    """A plain hook setting ``[rows, cols]`` of the site's tensor to ``payload`` (or 0)."""
    module = _site_module(lm, _block(lm, layer), site)
    grid = (torch.as_tensor(rows)[:, None], cols[None, :])

    def edit(tensor):
        tensor = tensor.clone()
        tensor[0][grid] = 0 if payload is None else payload
        return tensor

    if site == "mlp_post":
        return _hooked(module, lambda m, args: (edit(args[0]),), pre=True)
    return _hooked(module, lambda m, args, output: edit(output))


def _recorded(lm, site, layer, text, rows, cols):
    module = _site_module(lm, _block(lm, layer), site)
    seen = {}
    ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]

    def hook(m, args, output=None):
        seen["x"] = args[0] if site == "mlp_post" else output
    with torch.no_grad(), (_hooked(module, hook, pre=True) if site == "mlp_post"
                           else _hooked(module, hook)):
        lm.model(torch.tensor([[lm.start_token_id, *ids]]))
    return seen["x"][0][torch.as_tensor(rows)[:, None], cols[None, :]]


@pytest.mark.parametrize("arch", CAUSAL)
@pytest.mark.parametrize("site", NEW_SITES)
@pytest.mark.parametrize("op", ["zero", "patch"])
def test_edit_equals_a_plain_hook(make_lm, arch, site, op):
    lm = make_lm(arch)
    shape = model_shape(lm)
    source, target = SAME_LENGTH
    positions = (1, 3)
    if site == "mlp_post":
        kwargs, cols = {"units": (3, 7, 20)}, torch.as_tensor([3, 7, 20])
    else:
        heads = (shape.heads_of(site) - 1,)
        kwargs, cols = {"heads": heads}, _columns(lm, site, heads)
    iv = Intervention(layer=2, site=site, positions=positions, op=op,
                      source=source if op == "patch" else None, **kwargs)
    table = pd.DataFrame({"stimulus_id": ["t"], "text": [target]})
    got = score_tokens(lm, table, interventions=iv)["logprob"].to_numpy()
    rows = [p + 1 for p in positions]  # +1: the start token
    payload = _recorded(lm, site, 2, source, rows, cols) if op == "patch" else None
    with _reference_edit(lm, site, 2, rows, cols, payload):
        want = reference_causal(lm.model, lm.tokenizer, lm.start_token_id, target)
    plain = score_tokens(lm, table)["logprob"].to_numpy()
    assert np.abs(got - plain).max() > 1e-6  # the edit does something
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)


def _eager(lm):
    lm.model.set_attn_implementation("eager")
    return lm


def _reference_pattern(lm, layer, head, rows, text, new_rows):
    """Plain hooks: head ``head``'s merged output at query ``rows`` becomes
    ``new_rows @ V`` (or 0), with V the run's own values (its key/value head)."""
    block, shape, seen = _block(lm, layer), model_shape(lm), {}
    gpt2 = lm.model.config.model_type == "gpt2"
    values_module = block.attn.c_attn if gpt2 else block.self_attn.v_proj
    projection = block.attn.c_proj if gpt2 else block.self_attn.o_proj
    kv = head // (shape.n_heads // shape.n_kv_heads)

    def keep(m, args, output):
        seen["v"] = output[..., 2 * shape.d_model:] if gpt2 else output

    def replace(m, args):
        x = args[0].clone()
        cols = slice(head * shape.head_dim, (head + 1) * shape.head_dim)
        v = seen["v"][0, :, kv * shape.head_dim: (kv + 1) * shape.head_dim]
        for row, new in zip(rows, new_rows, strict=True):
            x[0, row, cols] = 0 if new is None else new @ v
        return (x,)

    with _hooked(values_module, keep), _hooked(projection, replace, pre=True):
        return reference_causal(lm.model, lm.tokenizer, lm.start_token_id, text)


def _attentions(lm, text, layer):
    ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        out = lm.model(torch.tensor([[lm.start_token_id, *ids]]), output_attentions=True)
    return out.attentions[layer - 1][0]  # (heads, queries, keys)


@pytest.mark.parametrize("arch", CAUSAL)
@pytest.mark.parametrize("op", ["zero", "patch"])
def test_pattern_edit_equals_a_plain_hook(make_lm, arch, op):
    lm = _eager(make_lm(arch))
    source, target = SAME_LENGTH
    head, positions = model_shape(lm).n_heads - 1, (2, 4)
    iv = Intervention(layer=2, site="pattern", heads=(head,), positions=positions, op=op,
                      source=source if op == "patch" else None)
    table = pd.DataFrame({"stimulus_id": ["t"], "text": [target]})
    got = score_tokens(lm, table, interventions=iv)["logprob"].to_numpy()
    rows = [p + 1 for p in positions]
    pattern = _attentions(lm, source, 2)
    new_rows = [pattern[head, row] if op == "patch" else None for row in rows]
    want = _reference_pattern(lm, 2, head, rows, target, new_rows)
    plain = score_tokens(lm, table)["logprob"].to_numpy()
    assert np.abs(got - plain).max() > 1e-6
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)


def _every_head(lm, site, layer, source):
    n = model_shape(lm).heads_of(site)
    return [Intervention(layer=layer, site=site, heads=(h,), positions="sequence", op="patch",
                         source=source) for h in range(n)]


@pytest.mark.parametrize("arch", CAUSAL)
@pytest.mark.parametrize(("sites", "downstream"), [(("q", "k", "v"), "attn_out"),
                                                  (("pattern", "v"), "attn_out"),
                                                  (("mlp_post",), "mlp_out")])
def test_patching_every_position_and_head_restores_the_clean_component(make_lm, arch, sites,
                                                                        downstream):
    # every head of q, k and v (or of the pattern and v) patched at every position gives
    # the attention the clean run's inputs: its output is the clean run's; the same for
    # every neuron of the MLP and the MLP's output
    lm = make_lm(arch)
    if "pattern" in sites:  # the reference in the same (eager) attention as the pattern
        _eager(lm)
    clean, corrupted = SAME_LENGTH
    ivs = []
    for site in sites:
        ivs += _every_head(lm, site, 2, clean) if site != "mlp_post" else [
            Intervention(layer=2, site=site, positions="sequence", op="patch", source=clean)]
    kwargs = {"layers": [2], "site": downstream, "pooling": "mean", "dtype": "float64"}
    want = compute_activations(lm, [clean], [[None]], **kwargs)
    before = compute_activations(lm, [corrupted], [[None]], **kwargs)
    got = compute_activations(lm, [corrupted], [[None]], interventions=ivs, **kwargs)
    assert np.abs(before - want).max() > 1e-3
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("arch", CAUSAL)
def test_pattern_patch_invariant_to_padding_and_order(make_lm, arch):
    lm = make_lm(arch)
    texts = [*SAME_LENGTH, "Who should Derek hug after shocking Richard?"]
    table = pd.DataFrame({"stimulus_id": ["a", "b", "c"], "text": texts})
    ivs = {"a": [Intervention(layer=1, site="pattern", positions="all", op="patch",
                              source=texts[1], heads=(0,))],
           "b": [Intervention(layer=2, site="pattern", positions=(0, 2), op="patch",
                              source=texts[0])]}
    one = score_tokens(lm, table, batch_size=1, interventions=ivs)
    plain = score_tokens(lm, table)
    assert np.abs(one["logprob"] - plain["logprob"]).max() > 1e-6
    many = score_tokens(lm, table.iloc[::-1], batch_size=3, padding_side="left",
                        interventions=ivs)
    merged = one.merge(many, on=["stimulus_id", "token_index"])
    np.testing.assert_allclose(merged["logprob_x"], merged["logprob_y"], rtol=0, atol=1e-8)


def test_bad_new_site_input_is_refused(make_lm):
    lm = make_lm("llama")
    table = pd.DataFrame({"stimulus_id": ["t"], "text": [SAME_LENGTH[0]]})
    with pytest.raises(ProbingError, match=r"key/value heads 0\.\.1 at site 'k'; got \[2\]"):
        score_tokens(lm, table, interventions=Intervention(layer=1, site="k", heads=(2,)))
    with pytest.raises(ProbingError, match="site 'pattern' takes ops zero, patch, resample"):
        Intervention(layer=1, site="pattern", op="add", values=(1.0,))
    with pytest.raises(ProbingError, match="heads: only for sites head_out, q, k, v, pattern"):
        Intervention(layer=1, site="mlp_post", heads=(0,))
    with pytest.raises(ProbingError, match="must have as many tokens and the same positions"):
        score_tokens(lm, table, interventions=Intervention(
            layer=1, site="pattern", op="patch", source="Dogs bark.", positions="last"))
    with pytest.raises(ProbingError, match="site 'mlp_post' has units 0..63; got 64"):
        score_tokens(lm, table, interventions=Intervention(layer=1, site="mlp_post", units=(64,)))


PAIRS = pd.DataFrame({"pair_id": ["ab", "ba"], "source": list(SAME_LENGTH),
                      "target": list(SAME_LENGTH[::-1])})


@pytest.mark.parametrize(("arch", "site"), [("llama", "k"), ("llama", "pattern"),
                                            ("gpt2", "q"), ("gpt2", "mlp_post")])
def test_sweep_and_set_equal_the_naive_run(make_lm, arch, site):
    lm = make_lm(arch)
    per_head = site != "mlp_post"
    units = None if per_head else [5, 9]
    table = patch_pairs(lm, PAIRS, layers=[2], site=site, per_head=per_head, units=units,
                        copies_per_forward=3)
    patched = table[(table["run"] == "patched") & (table["member"] == "target")]
    if per_head:
        assert set(patched["head"]) == set(range(model_shape(lm).heads_of(site)))
    pairs = PAIRS.set_index("pair_id")
    for pid, position, head, unit, value in patched.sample(3, random_state=0)[
            ["pair_id", "position", "head", "unit", "logprob"]].itertuples(index=False):
        iv = Intervention(layer=2, site=site, positions=(position,), op="patch",
                          source=pairs.loc[pid, "source"], heads=None if head < 0 else (head,),
                          units=None if unit < 0 else (unit,))
        one = pd.DataFrame({"stimulus_id": [0], "text": [pairs.loc[pid, "target"]]})
        want = score_tokens(lm, one, interventions=iv)["logprob"].sum()
        assert value == pytest.approx(want, abs=1e-8)
        cell = patch_set(lm, PAIRS.iloc[[list(pairs.index).index(pid)]], [(2, position, head,
                                                                          unit)], site=site)
        got = cell[(cell["run"] == "patched") & (cell["member"] == "target")]["logprob"]
        assert got.iloc[0] == pytest.approx(value, abs=1e-8)


def test_pattern_sweep_needs_members_aligned_in_place(make_lm):
    pairs = pd.DataFrame({"pair_id": ["x"], "source": ["The cat sat."],
                          "target": ["The elephant sat."]})
    with pytest.raises(ProbingError, match="pair 'x': site 'pattern' copies attention rows"):
        patch_pairs(make_lm("gpt2"), pairs, layers=[1], site="pattern")
