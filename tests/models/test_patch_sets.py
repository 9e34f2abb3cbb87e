"""Patching a set of cells at once: a set of one equals patch_pairs' cell; sets combine."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.interventions import Intervention
from probing.models import score_tokens
from probing.models.patch_runs import PATCH_COLUMNS, patch_pairs
from probing.models.patch_sets import patch_set

PAIRS = pd.DataFrame({
    "pair_id": ["p1", "p2"],
    "source": ["The cat sat on the mat.", "The keys to the cabinet are on the table."],
    "target": ["The mat sat on the cat.", "The key to the cabinets are on the table."],
})


def _patched(table):
    rows = table[table["run"] == "patched"]
    return rows.set_index(["pair_id", "member"])["logprob"].sort_index()


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
@pytest.mark.parametrize("site,head", [("resid_post", -1), ("head_out", 1), ("mlp_out", -1)],
                         ids=["resid_post", "head_out", "mlp_out"])
def test_one_cell_equals_the_sweep(make_lm, arch, site, head):
    lm = make_lm(arch)
    sweep = patch_pairs(lm, PAIRS, layers=[2], site=site, per_head=head >= 0)
    cell = sweep[(sweep["run"] == "patched") & (sweep["position"] == 1)
                 & (sweep["head"] == head)]
    out = patch_set(lm, PAIRS, [(2, 1, head)], site=site)
    assert list(out.columns) == list(PATCH_COLUMNS)
    want = cell.set_index(["pair_id", "member"])["logprob"].sort_index()
    np.testing.assert_allclose(_patched(out).loc[want.index], want, rtol=0, atol=1e-8)
    # a pair without that aligned position is left unpatched: its plain target run
    lacking = sorted(set(PAIRS["pair_id"]) - set(cell["pair_id"]))
    plain = out[out["run"] == "target"].set_index(["pair_id", "member"])["logprob"]
    for pid in lacking:
        assert _patched(out).loc[(pid, "target")] == pytest.approx(plain.loc[(pid, "target")])


def test_a_set_equals_the_naive_run_with_every_patch(make_lm):
    lm = make_lm("llama")
    cells = [(1, 0, -1), (2, 2, -1)]
    out = patch_set(lm, PAIRS.iloc[:1], cells, site="attn_out")
    ivs = [Intervention(layer=layer, site="attn_out", positions=(pos,), op="patch",
                        source=PAIRS["source"][0]) for layer, pos, _ in cells]
    table = pd.DataFrame({"stimulus_id": [0], "text": [PAIRS["target"][0]]})
    want = score_tokens(lm, table, interventions=ivs)["logprob"].sum()
    got = _patched(out).loc[("p1", "target")]
    assert got == pytest.approx(want, abs=1e-8)
    single = patch_set(lm, PAIRS.iloc[:1], cells[:1], site="attn_out")
    assert _patched(single).loc[("p1", "target")] != pytest.approx(got, abs=1e-6)


def test_bad_cells_are_refused(make_lm):
    lm = make_lm("gpt2")
    with pytest.raises(ProbingError, match="cells is empty"):
        patch_set(lm, PAIRS, [], site="resid_post")
    with pytest.raises(ProbingError, match="head 9 out of range"):
        patch_set(lm, PAIRS, [(1, 0, 9)], site="head_out")
    with pytest.raises(ProbingError, match="a head needs one of the sites head_out, q, k, v"):
        patch_set(lm, PAIRS, [(1, 0, 0)], site="resid_post")
