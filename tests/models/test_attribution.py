"""Attribution patching: the gradient estimate against a finite difference and exact patching."""

import numpy as np
import pandas as pd
import pytest

from probing.interventions import Intervention
from probing.models import encode_texts, score_tokens
from probing.models.attribution_patching import (
    ATTRIBUTION_COLUMNS,
    attribute_pairs,
    compare_with_exact,
)
from probing.models.intervention_hooks import record_points
from probing.models.patch_runs import patch_pairs

PAIRS = pd.DataFrame({"pair_id": ["p1", "p2"],
                      "source": ["The cat sat on the mat.", "Dogs bark."],
                      "target": ["The mat sat on the cat.", "Cats bark."]})


def _score(lm, text, iv=None):
    table = pd.DataFrame({"stimulus_id": [0], "text": [text]})
    return score_tokens(lm, table, interventions=iv)["logprob"].sum()


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
@pytest.mark.parametrize("site", ["resid_post", "mlp_out", "head_out"])
def test_estimate_is_the_directional_derivative(make_lm, arch, site):
    # reference: a central finite difference along (source - target) at one cell
    lm = make_lm(arch)
    estimates = attribute_pairs(lm, PAIRS, site=site, layers=[1])
    assert list(estimates.columns) == list(ATTRIBUTION_COLUMNS)
    source, target = PAIRS.loc[0, "source"], PAIRS.loc[0, "target"]
    enc = encode_texts(lm.tokenizer, [source, target])
    acts = record_points(lm, enc, [(site, 1)])[(site, 1)]
    # Llama's RMSNorm computes in float32 even in a float64 model, so the step cannot be
    # tiny: eps = 1e-3 keeps the float32 noise near 1e-4 and the O(eps^2) error below it
    position, eps = 2, 1e-3
    delta = (acts[0][position + 1] - acts[1][position + 1]).numpy()
    moved = [_score(lm, target, Intervention(layer=1, site=site, positions=(position,),
                                             op="add", values=sign * eps * delta))
             for sign in (1, -1)]
    want = (moved[0] - moved[1]) / (2 * eps)
    got = estimates.query("pair_id == 'p1' and position == @position")["estimate"].item()
    assert got == pytest.approx(want, rel=1e-3, abs=1e-8)


def test_agreement_with_exact_patching_is_reported(make_lm):
    lm = make_lm("llama")
    estimates = attribute_pairs(lm, PAIRS, site="head_out", per_head=True)
    exact = patch_pairs(lm, PAIRS, site="head_out", per_head=True)
    agreement = compare_with_exact(estimates, exact, top_k=5)
    assert agreement["n"] == len(estimates) > 0
    assert -1 <= agreement["spearman"] <= 1 and 0 <= agreement["top_k_found"] <= 5
    # a first-order screen of a tiny random model still ranks the cells far better than chance
    assert agreement["spearman"] > 0.3


def test_weights_get_no_gradient(make_lm):
    lm = make_lm("gpt2")
    attribute_pairs(lm, PAIRS, layers=[1])
    assert all(p.grad is None for p in lm.model.parameters())
    assert np.isfinite(attribute_pairs(lm, PAIRS, layers=[0])["estimate"]).all()
