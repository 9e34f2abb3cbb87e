"""Interventions inside scoring and extraction on tiny GPT-2, Llama (GQA) and BERT."""

import numpy as np
import pandas as pd
import pytest
import torch

from probing._core.errors import ProbingError
from probing.interventions import Intervention
from probing.models import score_tokens
from probing.models.intervention_hooks import per_text, prepare_interventions
from probing.models.selfcheck import check_interventions
from probing.models.site_activations import compute_activations
from probing.models.sites import find_family, model_shape

from ._helpers import ARCHITECTURES, SENTENCES

# the last two are the same words in another order: equal token counts in every tokenizer
TEXTS = [*SENTENCES[:4], "The cat sat on the mat.", "The mat sat on the cat."]
TABLE = pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(len(TEXTS))], "text": TEXTS})
ALL = [[None]] * len(TEXTS)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_self_checks_pass(make_lm, arch):
    lm = make_lm(arch)
    table = check_interventions(lm, TEXTS)
    assert table["passed"].all(), table
    assert set(table["check"]) == {"empty", "own_patch", "source_patch"}
    assert (table.loc[table["check"] == "source_patch", "n"] >= 2).all()


def _variants(lm):
    shape = model_shape(lm)
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, shape.d_model))
    return {
        "zero-units": Intervention(layer=1, site="resid_post", units=(0, 3, 5), positions=(0, 2)),
        "mean": Intervention(layer=2, site="mlp_out", op="mean", positions=(1,),
                             values=rng.normal(size=shape.d_model)),
        "add": Intervention(layer=1, site="attn_out", op="add", scale=2.0, positions="all",
                            values=rng.normal(size=shape.d_model)),
        "project-out": Intervention(layer=0, site="resid_post", op="project_out", units=basis),
        "head": Intervention(layer=1, site="head_out", heads=(shape.n_heads - 1,), positions=(1,)),
        "patch": Intervention(layer=1, site="resid_pre", op="patch", source="Dogs bark loudly.",
                              positions=(0, 1)),
        "resample": Intervention(layer=2, site="resid_post", op="resample", positions=(0,),
                                 sources=("Dogs bark.", "The cat sat.", "Who?")),
    }


VARIANTS = ["zero-units", "mean", "add", "project-out", "head", "patch", "resample"]


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_scores_invariant_to_batching_padding_and_order(make_lm, arch, variant):
    lm = make_lm(arch)
    iv = _variants(lm)[variant]
    plain = score_tokens(lm, TABLE)["logprob"].to_numpy()
    one = score_tokens(lm, TABLE, batch_size=1, interventions=iv)
    assert np.abs(one["logprob"].to_numpy() - plain).max() > 1e-6  # the edit does something
    many = score_tokens(lm, TABLE, batch_size=4, padding_side="left", interventions=[iv])
    np.testing.assert_allclose(many["logprob"], one["logprob"], rtol=0, atol=1e-8)
    shuffled = TABLE.sample(frac=1, random_state=1)
    got = score_tokens(lm, shuffled, batch_size=3, interventions=iv)
    merged = one.merge(got, on=["stimulus_id", "token_index"])
    np.testing.assert_allclose(merged["logprob_x"], merged["logprob_y"], rtol=0, atol=1e-8)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_activations_invariant_to_batching_padding_and_order(make_lm, arch, variant):
    lm = make_lm(arch)
    iv = _variants(lm)[variant]
    kwargs = {"pooling": "mean", "dtype": "float64", "interventions": iv}
    plain = compute_activations(lm, TEXTS, ALL, pooling="mean", store_dtype="float64")
    one = compute_activations(lm, TEXTS, ALL, batch_size=1, **kwargs)
    assert np.abs(one - plain).max() > 1e-6
    side = "right" if arch == "bert" else "left"
    many = compute_activations(lm, TEXTS, ALL, batch_size=4, padding_side=side, **kwargs)
    np.testing.assert_allclose(many, one, rtol=0, atol=1e-8)
    order = [5, 2, 0, 4, 1, 3]
    got = compute_activations(lm, [TEXTS[i] for i in order], ALL, batch_size=3, **kwargs)
    np.testing.assert_allclose(got, one[order], rtol=0, atol=1e-8)


def test_masked_scores_invariant_to_batching(make_lm):
    lm = make_lm("bert")
    iv = Intervention(layer=1, site="head_out", heads=(1,), positions=(0, 1))
    table = TABLE.iloc[[2, 4, 5]]
    one = score_tokens(lm, table, batch_size=1, interventions=iv)["logprob"].to_numpy()
    assert np.abs(one - score_tokens(lm, table)["logprob"].to_numpy()).max() > 1e-6
    many = score_tokens(lm, table, batch_size=7, interventions=iv)["logprob"].to_numpy()
    np.testing.assert_allclose(many, one, rtol=0, atol=1e-8)


def _projection_weight(lm, layer, path_key):
    blocks, _, paths = find_family(lm.model.base_model)
    return blocks[layer - 1].get_submodule(paths[path_key])


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_head_ablation_equals_zeroing_its_projection_columns(make_lm, arch):
    # reference: a head's slice of the out-projection's input, zeroed, equals the same
    # model with that head's input weights of the projection set to zero
    lm = make_lm(arch)
    shape = model_shape(lm)
    head = shape.n_heads - 1
    iv = Intervention(layer=2, site="head_out", heads=(head,))
    got = compute_activations(lm, TEXTS, ALL, pooling="mean", store_dtype="float64", interventions=iv)
    projection = _projection_weight(lm, 2, "head_out")
    cols = slice(head * shape.head_dim, (head + 1) * shape.head_dim)
    with torch.no_grad():
        if hasattr(projection, "in_features"):  # Linear: (out, in)
            projection.weight[:, cols] = 0
        else:  # GPT-2 Conv1D: (in, out)
            projection.weight[cols, :] = 0
    want = compute_activations(lm, TEXTS, ALL, pooling="mean", store_dtype="float64")
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_grouped_query_heads_count_query_heads(make_lm):
    lm = make_lm("llama")
    shape = model_shape(lm)
    assert (shape.n_heads, shape.head_dim) == (4, 8)  # 4 query heads, 2 key/value heads
    plain = score_tokens(lm, TABLE)["logprob"].to_numpy()
    changed = [np.abs(score_tokens(lm, TABLE, interventions=Intervention(
        layer=1, site="head_out", heads=(h,)))["logprob"].to_numpy() - plain).max() for h in range(4)]
    assert min(changed) > 1e-6


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_extraction_shows_the_edit(make_lm, arch):
    lm = make_lm(arch)
    plain = compute_activations(lm, TEXTS, ALL, pooling="first", store_dtype="float64")
    iv = Intervention(layer=1, site="resid_post", positions=(0,), units=(2, 4))
    got = compute_activations(lm, TEXTS, ALL, pooling="first", store_dtype="float64", interventions=iv)
    np.testing.assert_array_equal(got[:, 1, [2, 4]], 0)
    np.testing.assert_allclose(got[:, 0], plain[:, 0], rtol=0, atol=0)
    assert np.abs(got[:, 2] - plain[:, 2]).max() > 1e-6


def test_region_and_word_positions(make_lm):
    lm = make_lm("gpt2")
    regions = pd.DataFrame({"stimulus_id": ["s4"], "region": ["subject"], "char_start": [4],
                            "char_end": [7]})
    by_region = score_tokens(lm, TABLE.iloc[[4]], regions=regions, interventions=Intervention(
        layer=1, positions="region:subject"))
    by_word = score_tokens(lm, TABLE.iloc[[4]], interventions=Intervention(layer=1,
                                                                           positions="word:1"))
    np.testing.assert_array_equal(by_region["logprob"], by_word["logprob"])


def test_hooks_removed_on_error(make_lm):
    lm = make_lm("gpt2")
    run = prepare_interventions(lm, TEXTS[:1], per_text(Intervention(layer=1, site="mlp_out"), 1))
    modules = list(lm.model.modules())
    before = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in modules)
    with pytest.raises(RuntimeError, match="boom"), run.hooks():
        assert sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in modules) > before
        raise RuntimeError("boom")
    assert sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in modules) == before


@pytest.mark.parametrize(
    ("intervention", "message"),
    [
        (Intervention(layer=3), r"intervention.layer: site 'resid_post' has layers 0..2; got 3"),
        (Intervention(layer=0, site="mlp_out"), r"site 'mlp_out' has layers 1..2; got 0"),
        (Intervention(layer=1, units=(32,)), r"intervention.units: .* units 0..31; got 32"),
        (Intervention(layer=1, site="head_out", heads=(2,)),
         r"heads 0..1 at site 'head_out'; got \[2\]"),
        (Intervention(layer=1, positions=(40,)), r"stimulus 's0': .*\[40\] past the end"),
        (Intervention(layer=1, positions="word:9"), r"word 9 is past the end \(6 words\)"),
        (Intervention(layer=1, op="mean", values=[1.0, 2.0]), r"need 32 values"),
        (Intervention(layer=1, op="patch", source="Dogs bark."),
         r"picks 10 token\(s\) here but 7 in source"),
        (Intervention(layer=1, positions="region:verb"), r"no region 'verb'"),
    ],
    ids=["layer", "site-layer", "unit", "head", "position", "word", "values", "align", "region"],
)
def test_bad_input_is_one_line_before_any_forward(make_lm, intervention, message):
    lm = make_lm("gpt2")
    calls = []
    handle = lm.model.register_forward_pre_hook(lambda *args: calls.append(1))
    try:
        with pytest.raises(ProbingError, match=message) as err:
            score_tokens(lm, TABLE.iloc[:1], interventions=intervention)
    finally:
        handle.remove()
    assert "\n" not in str(err.value) and not calls


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layer": 1, "site": "resid_mid"}, r"intervention.site: must be one of resid_pre"),
        ({"layer": -1}, r"intervention.layer: must be an integer >= 0"),
        ({"layer": 1, "op": "add"}, r"intervention.values: op 'add' needs"),
        ({"layer": 1, "op": "patch"}, r"intervention.source: op 'patch' needs a source"),
        ({"layer": 1, "heads": (0,)},
         r"intervention.heads: only for sites head_out, q, k, v, pattern; got site 'resid_post'"),
        ({"layer": 1, "op": "project_out", "units": (1, 2)}, r"needs a \(k, width\) basis"),
        ({"layer": 1, "positions": "middle"}, r"intervention.positions: must be 'all'"),
        ({"layer": 1, "units": (1, 1)}, r"intervention.units: must be non-empty without repeats"),
        ({"layer": 1, "op": "resample", "sources": "one text"}, r"needs a non-empty tuple"),
    ],
    ids=["site", "layer", "values", "source", "heads", "basis", "positions", "units", "sources"],
)
def test_bad_description(kwargs, message):
    with pytest.raises(ProbingError, match=message) as err:
        Intervention(**kwargs)
    assert "\n" not in str(err.value)


def test_share_prefixes_refused(make_lm):
    lm = make_lm("gpt2")
    with pytest.raises(ProbingError, match="share_prefixes cannot be combined"):
        score_tokens(lm, TABLE.assign(item_id=1), share_prefixes=True,
                     interventions=Intervention(layer=1))


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_ablating_zero_units_equals_the_plain_run_exactly(make_lm, arch):
    # a localizer whose selection is empty: its unit table has columns but no rows
    from probing.interventions import interventions_from_units

    lm = make_lm(arch)
    empty = pd.DataFrame({"layer": [1, 2], "site": ["resid_post"] * 2, "unit": [0, 3]}).iloc[:0]
    ivs = interventions_from_units(empty, op="zero")
    assert ivs == ()
    plain = score_tokens(lm, TABLE)
    ablated = score_tokens(lm, TABLE, interventions=ivs)
    np.testing.assert_array_equal(ablated["logprob"].to_numpy(), plain["logprob"].to_numpy())
    kwargs = {"pooling": "mean", "dtype": "float64"}
    np.testing.assert_array_equal(compute_activations(lm, TEXTS, ALL, interventions=ivs, **kwargs),
                                  compute_activations(lm, TEXTS, ALL, **kwargs))
    # and the same units ablated for real do change the run (the test can fail)
    some = interventions_from_units(pd.DataFrame({"layer": [1], "site": ["resid_post"],
                                                  "unit": [0]}), op="zero")
    changed = score_tokens(lm, TABLE, interventions=some)["logprob"].to_numpy()
    assert np.abs(changed - plain["logprob"].to_numpy()).max() > 1e-6
