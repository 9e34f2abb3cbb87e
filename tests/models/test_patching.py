"""Patching sweeps: exact against the naive loop, invariant, and a planted mechanism."""

import numpy as np
import pandas as pd
import pytest
import torch

from probing._core.errors import ProbingError
from probing.interventions import Intervention
from probing.models import score_tokens
from probing.models.patch_align import align_pair
from probing.models.patch_runs import PATCH_COLUMNS, patch_pairs
from probing.models.token_alignment import encode_texts

PAIRS = pd.DataFrame({
    "pair_id": ["p1", "p2", "p3"],
    "source": ["The cat sat on the mat.", "The keys to the cabinet are on the table.",
               "Dogs bark."],
    "target": ["The mat sat on the cat.", "The key to the cabinets are on the table.",
               "Cats bark."],
})


def _naive(lm, pair, layer, site, position, head):
    """One full forward with one patch intervention, as a user would loop."""
    iv = Intervention(layer=layer, site=site, positions=(position,), op="patch",
                      source=pair["source"], heads=None if head < 0 else (head,))
    table = pd.DataFrame({"stimulus_id": [0], "text": [pair["target"]]})
    return score_tokens(lm, table, interventions=iv)["logprob"].sum()


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
@pytest.mark.parametrize("site", ["resid_pre", "resid_post", "attn_out", "mlp_out", "head_out"])
def test_sweep_equals_naive_loop(make_lm, arch, site):
    lm = make_lm(arch)
    table = patch_pairs(lm, PAIRS, site=site, per_head=site == "head_out", copies_per_forward=5)
    assert list(table.columns) == list(PATCH_COLUMNS)
    patched = table[(table["run"] == "patched") & (table["member"] == "target")
                    & (table["alignment"] == "token")]
    pairs = PAIRS.set_index("pair_id")
    rows = patched.sample(min(len(patched), 6), random_state=0)
    for pid, layer, position, head, value in rows[["pair_id", "layer", "position", "head",
                                                   "logprob"]].itertuples(index=False):
        want = _naive(lm, pairs.loc[pid], layer, site, position, head)
        assert value == pytest.approx(want, abs=1e-8)
    # the unpatched target run is the plain score
    plain = table[(table["run"] == "target") & (table["member"] == "target")]
    scores = score_tokens(lm, PAIRS.rename(columns={"pair_id": "stimulus_id", "target": "text"}))
    sums = scores.groupby("stimulus_id")["logprob"].sum()
    np.testing.assert_allclose(plain.set_index("pair_id")["logprob"], sums[plain["pair_id"]],
                               rtol=0, atol=1e-8)


def test_sweep_invariant_to_batching(make_lm):
    lm = make_lm("llama")
    one = patch_pairs(lm, PAIRS, site="attn_out", batch_size=1, copies_per_forward=1)
    many = patch_pairs(lm, PAIRS.iloc[::-1], site="attn_out", batch_size=3,
                       copies_per_forward=64)
    keys = ["pair_id", "run", "layer", "position", "head", "member"]
    merged = one.merge(many, on=keys)
    assert len(merged) == len(one) == len(many)
    np.testing.assert_allclose(merged["logprob_x"], merged["logprob_y"], rtol=0, atol=1e-8,
                               equal_nan=True)


def test_word_alignment_pairs_the_same_word_in_both_members(make_lm):
    lm = make_lm("gpt2")
    source, target = "The keys to the cabinet", "The key to the cabinets"
    s, t = encode_texts(lm.tokenizer, [source, target])
    assert len(s.token_ids) != len(t.token_ids)
    aligned = align_pair(s, t, source, target)
    assert aligned.rule == "word"

    def word(enc, text, p):
        return len(text[: enc.spans[p][0]].split(" ")) - 1

    assert [word(s, source, p) for p in aligned.source] == [
        word(t, target, p) for p in aligned.target]
    # the last token of every word but the last (no input position) is aligned
    assert {3, 7, 10, 14} <= {t.spans[p][1] for p in aligned.target}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"site": "resid_mid"}, r"site must be one of resid_pre"),
        ({"layers": [3]}, r"site 'resid_post' has layers 0..2; got 3"),
        ({"site": "mlp_out", "layers": [0]}, r"site 'mlp_out' has layers 1..2; got 0"),
        ({"per_head": True}, r"per_head needs one of the sites head_out, q, k, v, pattern; "
                             r"got site 'resid_post'"),
    ],
    ids=["site", "layer", "site-layer", "per-head"],
)
def test_bad_options(make_lm, kwargs, message):
    with pytest.raises(ProbingError, match=message):
        patch_pairs(make_lm("gpt2"), PAIRS, **kwargs)


def test_unalignable_pair_and_masked_model(make_lm):
    bad = pd.DataFrame({"pair_id": ["x"], "source": ["The cat sat."],
                        "target": ["The cat sat down there today."]})
    with pytest.raises(ProbingError, match=r"pair 'x': the members have 3 and 6 words"):
        patch_pairs(make_lm("gpt2"), bad)
    with pytest.raises(ProbingError, match="causal LM"):
        patch_pairs(make_lm("bert"), PAIRS)


# --- a planted mechanism ------------------------------------------------------------

NUMBER_UNIT, CARRIER_UNIT = 5, 11  # the noun writes number to 5; head 0 copies it to 11
SG, PL = "The boy on the mat is", "The boys on the mat is"


def _plant(lm):
    """Make a tiny Llama whose only number signal is one embedding unit moved by one head.

    Nouns ``y``/``ys`` differ only in unit 5; every other token has 0 there and in unit
    11. Attention is uniform (zero queries and keys); key/value head 0 reads unit 5,
    and only query head 0 writes it, through the out-projection, to unit 11; the MLP
    writes nothing. The LM head's rows for ``▁is`` and ``▁w`` differ only in unit 11.
    """
    tok = lm.tokenizer.convert_tokens_to_ids
    sg, pl, verb_sg, verb_pl = tok("y"), tok("ys"), tok("\u2581is"), tok("\u2581w")
    model = lm.model.model
    with torch.no_grad():
        emb = model.embed_tokens.weight
        emb[:, [NUMBER_UNIT, CARRIER_UNIT]] = 0
        emb[pl] = emb[sg]
        emb[sg, NUMBER_UNIT], emb[pl, NUMBER_UNIT] = 3.0, -3.0
        layer = model.layers[0]
        for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj,
                     layer.self_attn.o_proj, layer.mlp.down_proj):
            proj.weight.zero_()
        layer.self_attn.v_proj.weight[0, NUMBER_UNIT] = 1.0  # kv head 0, its unit 0
        layer.self_attn.o_proj.weight[CARRIER_UNIT, 0] = 1.0  # query head 0, its unit 0
        head = lm.model.lm_head.weight
        head[verb_pl] = head[verb_sg]
        head[verb_sg, CARRIER_UNIT], head[verb_pl, CARRIER_UNIT] = 20.0, -20.0
    return lm


def _preference(lm, text, **kwargs):
    """log p(is) - log p(w) after the prefix, under optional interventions."""
    prefix = text[: -len(" is")]
    table = pd.DataFrame({"stimulus_id": ["is", "w"], "text": [prefix + " is", prefix + " were"]})
    tokens = score_tokens(lm, table, **kwargs)
    at = len(encode_texts(lm.tokenizer, [prefix])[0].token_ids)
    values = tokens[tokens["token_index"] == at].set_index("stimulus_id")["logprob"]
    return values["is"] - values["w"]


@pytest.fixture
def planted(make_lm):
    lm = make_lm("llama", max_positions=64)
    with torch.no_grad():  # one block is enough for the mechanism
        lm.model.model.layers = lm.model.model.layers[:1]
        lm.model.config.num_hidden_layers = 1
    return _plant(lm)


def test_planted_unit_carries_number_and_random_units_do_not(planted):
    lm = planted
    assert _preference(lm, SG) > 1 and _preference(lm, PL) < -1
    noun = 2  # token index of y / ys
    swap = Intervention(layer=0, site="resid_post", positions=(noun,), units=(NUMBER_UNIT,),
                        op="patch", source=PL)
    flipped = _preference(lm, SG, interventions=swap)
    assert flipped == pytest.approx(_preference(lm, PL), abs=1e-8)  # the behaviour flips
    ablated = _preference(lm, SG, interventions=Intervention(
        layer=0, site="resid_post", positions=(noun,), units=(NUMBER_UNIT,)))
    assert abs(ablated) < 1e-8
    rng = np.random.default_rng(0)
    for _ in range(5):
        units = tuple(int(u) for u in rng.choice(
            [u for u in range(32) if u != NUMBER_UNIT], size=4, replace=False))
        random = Intervention(layer=0, site="resid_post", positions=(noun,), units=units,
                              op="patch", source=PL)
        assert _preference(lm, SG, interventions=random) == pytest.approx(
            _preference(lm, SG), abs=1e-8)


def test_planted_head_found_by_the_sweep(planted):
    pairs = pd.DataFrame({"pair_id": ["n"], "source": [PL], "target": [SG]})
    table = patch_pairs(planted, pairs, site="head_out", per_head=True)
    patched = table[(table["run"] == "patched") & (table["member"] == "target")]
    plain = table[(table["run"] == "target") & (table["member"] == "target")]["logprob"].iloc[0]
    effect = (patched.set_index(["position", "head"])["logprob"] - plain).abs()
    # only head 0 writes number (head 1 shares its key/value head under grouped-query
    # attention but writes nothing), and only from the noun on, where the members differ
    positions = effect.index.get_level_values("position")
    heads = effect.index.get_level_values("head")
    assert effect[heads != 0].max() < 1e-8
    assert effect[(heads == 0) & (positions < 2)].max() < 1e-8
    assert effect[(heads == 0) & (positions >= 2)].min() > 1e-3


def test_planted_units_found_by_the_unit_sweep(planted):
    pairs = pd.DataFrame({"pair_id": ["n"], "source": [PL], "target": [SG]})
    # layer 0 of resid_post is the embeddings, layer 1 the output of the one block
    table = patch_pairs(planted, pairs, layers=[0, 1], site="resid_post", units=range(32))
    patched = table[(table["run"] == "patched") & (table["member"] == "target")]
    plain = table[(table["run"] == "target") & (table["member"] == "target")]["logprob"].iloc[0]
    effect = (patched.set_index(["layer", "position", "unit"])["logprob"] - plain).abs()
    layers, positions, units = (effect.index.get_level_values(n)
                                for n in ("layer", "position", "unit"))
    # the members differ in unit 5 at the noun and, after the block, in unit 11 from the
    # noun on; nowhere else
    carriers = ((units == NUMBER_UNIT) & (positions == 2)) | (
        (units == CARRIER_UNIT) & (positions >= 2) & (layers == 1))
    assert effect[~carriers].max() < 1e-8
    assert effect[carriers].min() > 1e-3
    last = positions.max()  # the position that predicts the verb
    assert effect[(units == CARRIER_UNIT) & (positions == last) & (layers == 1)].min() > 1.0


def test_each_member_runs_once(make_lm):
    # one full forward per member (batch_size=1): the source's records and reads, the
    # target's reads and caches; the patched copies start inside the model
    lm = make_lm("gpt2")
    calls = []
    handle = lm.model.base_model.register_forward_pre_hook(lambda *_: calls.append(1))
    try:
        table = patch_pairs(lm, PAIRS, layers=[2], site="mlp_out", batch_size=1)
    finally:
        handle.remove()
    assert len(calls) == 2 * len(PAIRS)
    assert set(table["run"]) == {"source", "target", "patched"}
