"""Distributed alignment search: finds the planted number unit, and is safe to call."""

import numpy as np
import pandas as pd
import pytest
import torch

from probing._core.errors import ProbingError
from probing.causal import interchange_accuracy, random_subspaces
from probing.interventions import Intervention
from probing.models import score_tokens
from probing.models.das import DAS_LOG_COLUMNS, fit_das_subspace
from tests.models.test_patching import CARRIER_UNIT, NUMBER_UNIT, _plant

NOUN = 2  # token index of y / ys in every frame below
FIT_FRAMES = ["on the mat", "on the cat", "who sat"]
TEST_FRAMES = ["near the table", "on the table"]
VERB = {"sg": "is", "pl": "w"}  # one token each: the planted readout is ▁is vs ▁w


def _pairs(frames):
    """Both directions of every (base frame, source frame) pair; the source's verb wins."""
    noun = {"sg": "boy", "pl": "boys"}
    rows = []
    for base_frame in frames:
        for source_frame in frames:
            for base, source in (("sg", "pl"), ("pl", "sg")):
                prefix = f"The {noun[base]} {base_frame}"
                rows.append({"source": f"The {noun[source]} {source_frame} {VERB[source]}",
                             "counterfactual": f"{prefix} {VERB[source]}",
                             "factual": f"{prefix} {VERB[base]}",
                             "base_level": base, "source_level": source})
    return pd.DataFrame(rows)


def _positions(pairs):
    return [([NOUN], [NOUN])] * len(pairs)


def _iia(lm, pairs, basis):
    """Share of pairs whose intervened base prefers the counterfactual continuation."""
    units = tuple(map(tuple, np.asarray(basis).T.tolist()))
    texts, plan = [], {}
    for i, r in enumerate(pairs.itertuples(index=False)):
        iv = Intervention(layer=0, site="resid_post", op="patch", source=r.source,
                          positions=(NOUN,), units=units)
        texts += [(f"cf{i}", r.counterfactual), (f"alt{i}", r.factual)]
        plan[f"cf{i}"] = plan[f"alt{i}"] = [iv]
    table = pd.DataFrame(texts, columns=["stimulus_id", "text"])
    total = score_tokens(lm, table, interventions=plan).groupby("stimulus_id")["logprob"].sum()
    ids = range(len(pairs))
    margin = total.loc[[f"cf{i}" for i in ids]].to_numpy() - total.loc[
        [f"alt{i}" for i in ids]].to_numpy()
    predicted = np.where(margin > 0, pairs["source_level"], pairs["base_level"])
    return interchange_accuracy(predicted[:, None], pairs["source_level"].to_numpy(),
                                n_boot=200)["estimate"].iloc[0]


@pytest.fixture
def planted(make_lm):
    lm = make_lm("llama", max_positions=64)
    with torch.no_grad():
        lm.model.model.layers = lm.model.model.layers[:1]
        lm.model.config.num_hidden_layers = 1
    _plant(lm)
    # A soft readout (verb logits +-1 x the carrier instead of +-20): the two-way loss
    # then still rewards a fuller swap after the preference has flipped, so the fit
    # goes on towards the whole number unit instead of stopping at the flip threshold.
    tok = lm.tokenizer.convert_tokens_to_ids
    with torch.no_grad():
        head = lm.model.lm_head.weight
        head[tok("\u2581is"), CARRIER_UNIT], head[tok("\u2581w"), CARRIER_UNIT] = 1.0, -1.0
    return lm


def _fit(lm, pairs, **kwargs):
    options = {"layer": 0, "positions": _positions(pairs), "steps": 60, "lr": 0.1,
               "batch_size": 8, **kwargs}
    return fit_das_subspace(lm, pairs, **options)


def test_das_finds_the_planted_number_unit(planted):
    fit, test = _pairs(FIT_FRAMES), _pairs(TEST_FRAMES)
    basis, log = _fit(planted, fit)
    assert list(log.columns) == list(DAS_LOG_COLUMNS) and len(log) == 60
    assert abs(basis[NUMBER_UNIT, 0]) > 0.95
    assert log["loss"].iloc[-5:].mean() < log["loss"].iloc[:5].mean()
    assert _iia(planted, test, basis) == 1.0  # held-out frames
    for random in random_subspaces(32, 1, n_subspaces=3, random_state=1):
        assert _iia(planted, test, random) == 0.0


def test_basis_orthonormal_seeded_and_model_untouched(planted):
    pairs = _pairs(FIT_FRAMES[:2])
    before = {k: v.clone() for k, v in planted.model.state_dict().items()}
    flags = [p.requires_grad for p in planted.model.parameters()]
    rng_state = torch.random.get_rng_state()
    basis, _ = _fit(planted, pairs, rank=3, steps=5)
    assert torch.equal(torch.random.get_rng_state(), rng_state)  # global RNG untouched
    again, _ = _fit(planted, pairs, rank=3, steps=5)
    other, _ = _fit(planted, pairs, rank=3, steps=5, random_state=1)
    assert basis.shape == (32, 3)
    np.testing.assert_allclose(basis.T @ basis, np.eye(3), atol=1e-6)
    np.testing.assert_array_equal(basis, again)
    assert not np.allclose(basis, other)
    after = planted.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert [p.requires_grad for p in planted.model.parameters()] == flags


def _hooks(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_no_hooks_or_frozen_weights_left_after_an_error(planted, monkeypatch):
    pairs = _pairs(FIT_FRAMES[:1])
    flags = [p.requires_grad for p in planted.model.parameters()]
    n_hooks = _hooks(planted.model)

    def broken(*args, **kwargs):
        raise RuntimeError("mid-fit")

    # raised inside the forward, while the editing hook is registered
    monkeypatch.setattr("probing.models.das._Trainer.edit", broken)
    with pytest.raises(RuntimeError, match="mid-fit"):
        _fit(planted, pairs, steps=3)
    assert _hooks(planted.model) == n_hooks
    assert [p.requires_grad for p in planted.model.parameters()] == flags


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rank": 0}, r"rank must be an integer in 1\.\.32"),
        ({"rank": 33}, r"rank must be an integer in 1\.\.32"),
        ({"site": "resid_mid"}, r"site must be one of resid_pre"),
        ({"site": "pattern"}, r"site 'pattern' has no fixed width"),
        ({"layer": 2}, r"layer of site 'resid_post' must be in 0\.\.1"),
        ({"steps": 0}, r"steps must be an integer >= 1"),
        ({"lr": -1.0}, r"lr must be a positive number"),
        ({"positions": [([2], [2, 3])] * 2}, r"positions of pair 0: base and source"),
        ({"positions": [([40], [2])] * 2}, r"positions of pair 0 out of range"),
        ({"positions": "region:subject"}, r"positions must give"),
    ],
    ids=["rank-low", "rank-high", "site", "pattern", "layer", "steps", "lr", "unaligned", "range",
         "spec"],
)
def test_bad_options(planted, kwargs, message):
    with pytest.raises(ProbingError, match=f"^fit_das_subspace: {message}"):
        _fit(planted, _pairs(FIT_FRAMES[:1]), **kwargs)


def test_bad_pairs_and_masked_model(planted, make_lm):
    with pytest.raises(ProbingError, match="pairs must be a non-empty DataFrame"):
        fit_das_subspace(planted, _pairs(FIT_FRAMES).iloc[:0], layer=0, positions=[])
    with pytest.raises(ProbingError, match=r"pairs lacks column\(s\) \['factual'\]"):
        fit_das_subspace(planted, _pairs(FIT_FRAMES).drop(columns="factual"), layer=0,
                         positions=[])
    with pytest.raises(ProbingError, match="lm must be a causal LM"):
        fit_das_subspace(make_lm("bert"), _pairs(FIT_FRAMES), layer=0, positions=[])
