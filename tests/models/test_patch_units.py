"""Per-unit patching sweeps (the mediators of unit-level causal mediation): each copy
patches one unit of one position, exactly as a one-unit patch intervention would."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.interventions import Intervention
from probing.models import score_tokens
from probing.models.patch_runs import PATCH_COLUMNS, patch_pairs
from probing.models.patch_sets import patch_set
from probing.models.sites import model_shape

PAIRS = pd.DataFrame({
    "pair_id": ["p1", "p2"],
    "source": ["The cat sat on the mat.", "The keys to the cabinet are on the table."],
    "target": ["The mat sat on the cat.", "The key to the cabinets are on the table."],
})


def _naive(lm, pair, layer, site, position, unit, head_dim):
    """One full forward with a one-unit patch intervention, as a user would loop."""
    if site == "head_out":  # a head_out unit is (head, unit within the head)
        where = {"heads": (unit // head_dim,), "units": (unit % head_dim,)}
    else:
        where = {"units": (unit,)}
    iv = Intervention(layer=layer, site=site, positions=(position,), op="patch",
                      source=pair["source"], **where)
    table = pd.DataFrame({"stimulus_id": [0], "text": [pair["target"]]})
    return score_tokens(lm, table, interventions=iv)["logprob"].sum()


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
@pytest.mark.parametrize("site", ["resid_post", "mlp_out", "head_out"])
def test_unit_sweep_equals_naive_loop(make_lm, arch, site):
    lm = make_lm(arch)
    units = [0, 3, 17]
    table = patch_pairs(lm, PAIRS, layers=[1, 2], site=site, units=units,
                        copies_per_forward=4)
    assert list(table.columns) == list(PATCH_COLUMNS)
    patched = table[(table["run"] == "patched") & (table["member"] == "target")]
    assert set(patched["unit"]) == set(units) and (patched["head"] == -1).all()
    # the naive loop patches the same token index: pairs aligned token by token
    patched = patched[patched["alignment"] == "token"]
    assert len(patched) >= 6
    pairs = PAIRS.set_index("pair_id")
    head_dim = model_shape(lm).head_dim
    for row in patched.sample(min(6, len(patched)), random_state=1).itertuples(index=False):
        want = _naive(lm, pairs.loc[row.pair_id], row.layer, site, row.position, row.unit,
                      head_dim)
        assert row.logprob == pytest.approx(want, abs=1e-8)


def test_every_unit_together_is_the_whole_site(make_lm):
    lm = make_lm("llama")
    whole = patch_pairs(lm, PAIRS, layers=[1], site="resid_post")
    cell = whole[(whole["run"] == "patched") & (whole["position"] == 2)]
    width = model_shape(lm).d_model
    out = patch_set(lm, PAIRS, [(1, 2, -1, u) for u in range(width)], site="resid_post")
    got = out[out["run"] == "patched"].set_index(["pair_id", "member"])["logprob"]
    want = cell.set_index(["pair_id", "member"])["logprob"]
    np.testing.assert_allclose(got.loc[want.index], want, rtol=0, atol=1e-8)
    # and a set of one unit is that unit's row of the sweep
    sweep = patch_pairs(lm, PAIRS, layers=[1], site="resid_post", units=[4])
    one = patch_set(lm, PAIRS, [(1, 2, -1, 4)], site="resid_post")
    row = sweep[(sweep["run"] == "patched") & (sweep["position"] == 2)]
    np.testing.assert_allclose(
        one[one["run"] == "patched"].set_index(["pair_id", "member"])["logprob"]
        .loc[want.index], row.set_index(["pair_id", "member"])["logprob"].loc[want.index],
        rtol=0, atol=1e-8)


def test_positions_restrict_the_sweep_and_change_nothing_else(make_lm):
    lm = make_lm("gpt2")
    full = patch_pairs(lm, PAIRS, layers=[2], site="mlp_out", units=[1, 5])
    some = patch_pairs(lm, PAIRS, layers=[2], site="mlp_out", units=[1, 5],
                       positions={"p1": [0, 3], "p2": [5]})
    patched = some[some["run"] == "patched"]
    assert sorted(patched.groupby("pair_id")["position"].unique()["p1"]) == [0, 3]
    assert list(patched.groupby("pair_id")["position"].unique()["p2"]) == [5]
    keys = ["pair_id", "run", "layer", "position", "unit", "member"]
    merged = patched.merge(full, on=keys)
    assert len(merged) == len(patched)
    np.testing.assert_allclose(merged["logprob_x"], merged["logprob_y"], rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"units": [10_000]}, r"units must be indices in \[0, 32\)"),
        ({"units": []}, r"units must be indices"),
        ({"site": "head_out", "per_head": True, "units": [0]}, "exclude each other"),
        ({"units": [0], "positions": {"zz": [0]}}, r"pair\(s\) \['zz'\]"),
        ({"units": [0], "positions": {"p2": [40]}}, r"pair 'p2': position 40 is not"),
    ],
    ids=["range", "empty", "head-and-unit", "unknown-pair", "position"],
)
def test_bad_unit_options(make_lm, kwargs, message):
    with pytest.raises(ProbingError, match=message):
        patch_pairs(make_lm("gpt2"), PAIRS, layers=[1], **kwargs)


def test_bad_unit_cells(make_lm):
    with pytest.raises(ProbingError, match=r"unit 99 must be in \[0, 32\)"):
        patch_set(make_lm("gpt2"), PAIRS, [(1, 0, -1, 99)], site="mlp_out")
