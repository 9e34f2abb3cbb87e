"""The control model: same architecture and tokenizer, seeded fresh weights."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from probing._core.errors import ProbingError
from probing.models import reinitialize, score_tokens
from probing.models.site_activations import model_identity
from probing.pipeline.extraction import extract_activations

from ._helpers import SENTENCES

ARCHS = ["gpt2", "llama", "bert"]
TABLE = pd.DataFrame({"stimulus_id": ["a", "b", "c"], "text": SENTENCES[:3]})


def _weights(lm):
    return {k: v.detach().clone() for k, v in lm.model.state_dict().items()}


@pytest.mark.parametrize("arch", ARCHS, ids=ARCHS)
def test_same_architecture_new_weights(make_lm, arch):
    lm = make_lm(arch)
    before = _weights(lm)
    control = reinitialize(lm, random_state=3)
    trained, fresh = lm.model.state_dict(), control.model.state_dict()
    assert type(control.model) is type(lm.model) and trained.keys() == fresh.keys()
    assert all(trained[k].shape == fresh[k].shape for k in trained)
    # every weight matrix is redrawn (biases and norms start at constants either way)
    matrices = [k for k in trained if trained[k].ndim >= 2]
    assert matrices and all(not torch.equal(trained[k], fresh[k]) for k in matrices)
    # the trained model is untouched, the control shares its framing
    assert all(torch.equal(before[k], v) for k, v in lm.model.state_dict().items())
    assert control.tokenizer is lm.tokenizer and control.start == lm.start
    assert control.kind == lm.kind and control.dtype == lm.dtype and not control.model.training


@pytest.mark.parametrize("arch", ARCHS, ids=ARCHS)
def test_seeded_and_deterministic(make_lm, arch):
    lm = make_lm(arch)
    a, b = reinitialize(lm, random_state=1), reinitialize(lm, random_state=1)
    c = reinitialize(lm, random_state=2)
    fa, fb, fc = (m.model.state_dict() for m in (a, b, c))
    assert all(torch.equal(fa[k], fb[k]) for k in fa)
    assert any(not torch.equal(fa[k], fc[k]) for k in fa if fa[k].dtype.is_floating_point)


def test_leaves_the_global_rng_alone(make_lm):
    lm = make_lm("gpt2")
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    reinitialize(lm, random_state=5)
    assert torch.equal(torch.rand(3), expected)


def test_provenance_names_the_seed_and_the_trained_model(make_lm):
    lm = make_lm("llama")
    control = reinitialize(lm, random_state=7)
    record = control.provenance
    assert record["source"] == "reinitialized" and record["random_state"] == 7
    assert record["reinitialized_from"]["model"] == lm.provenance["model"]
    assert record["start_token_policy"] == lm.start.policy
    assert json.loads(json.dumps(record)) == record
    assert model_identity(control) != model_identity(lm)
    assert model_identity(reinitialize(lm, random_state=8)) != model_identity(control)


def test_scores_and_extracts_like_any_model(make_lm, tmp_path):
    lm = make_lm("gpt2")
    control = reinitialize(lm, random_state=11)  # the fixture itself used seed 0
    tokens = score_tokens(control, TABLE)
    assert tokens["logprob"].notna().all()
    trained = extract_activations(lm, TABLE, layers="all", cache_dir=tmp_path)
    fresh = extract_activations(control, TABLE, layers="all", cache_dir=tmp_path)
    assert fresh.shape == trained.shape and fresh.provenance["key"] != trained.provenance["key"]
    assert not np.allclose(np.asarray(fresh.values), np.asarray(trained.values))


@pytest.mark.parametrize("seed, message", [(1.5, "integer seed"), (None, "integer seed"),
                                           (-1, r"lie in \[0, 2\*\*63\)")],
                         ids=["float", "none", "negative"])
def test_bad_seed(make_lm, seed, message):
    with pytest.raises(ProbingError, match=message):
        reinitialize(make_lm("gpt2"), random_state=seed)
