"""The torch-free intervention description: validation, positions, model checks."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.interventions import (
    Intervention,
    ModelShape,
    check_against_model,
    resolve_positions,
    whitespace_words,
)

GQA = ModelShape(n_layers=4, d_model=32, n_heads=4, head_dim=8)
SPANS = [(0, 3), (4, 7), (7, 8), (9, 14), (15, 19)]  # "The cat's sleep well" -> The cat 's ...
TEXT = "The cat's sleep well"


def test_importing_needs_no_torch():
    code = "import sys, probing.interventions; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_immutable_hashable_and_normalised():
    iv = Intervention(layer=np.int64(2), positions=[3, 1], units=np.array([4, 0]))
    assert (iv.layer, iv.positions, iv.units) == (2, (3, 1), (4, 0))
    assert hash(iv) == hash(Intervention(layer=2, positions=(3, 1), units=(4, 0)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        iv.layer = 3
    basis = Intervention(layer=1, op="project_out", units=np.eye(32)[:2])
    assert basis.is_subspace and not iv.is_subspace


@pytest.mark.parametrize(
    ("positions", "expected"),
    [("all", [0, 1, 2, 3, 4]), ("last", [4]), ((0, -1), [0, 4]), ("word:1", [1, 2]),
     ("word:-1", [4]), ("region:verb", [3])],
    ids=["all", "last", "negative", "word", "word-negative", "region"],
)
def test_positions(positions, expected):
    iv = Intervention(layer=1, positions=positions)
    got = resolve_positions(iv.positions, SPANS, text=TEXT, regions={"verb": (10, 15)})
    assert got == expected


def test_a_region_inside_one_token_takes_that_token():
    assert resolve_positions("region:s", SPANS, text=TEXT, regions={"s": (8, 9)}) == [2]


def test_whitespace_words_match_text():
    assert [TEXT[a:b] for a, b in whitespace_words(TEXT)] == ["The", "cat's", "sleep", "well"]


@pytest.mark.parametrize(
    ("iv", "message"),
    [
        (Intervention(layer=1, site="head_out", heads=(4,)),
         r"heads 0..3 at site 'head_out'; got \[4\]"),
        (Intervention(layer=1, site="head_out", units=(8,)), r"site 'head_out' has units 0..7"),
        (Intervention(layer=1, site="head_out", heads=(0, 1), op="project_out",
                      units=np.ones((1, 32))), r"basis rows must have 16 entries"),
        (Intervention(layer=1, site="head_out", heads=(1,), op="mean", values=[0.0] * 7),
         r"need 8 values"),
        (Intervention(layer=5, site="resid_pre"), r"site 'resid_pre' has layers 1..4; got 5"),
    ],
    ids=["head", "head-unit", "head-basis", "head-values", "layer"],
)
def test_checked_against_a_grouped_query_model(iv, message):
    with pytest.raises(ProbingError, match=message):
        check_against_model(iv, GQA)


def test_key_value_sites_count_key_value_heads():
    shape = ModelShape(n_layers=2, d_model=32, n_heads=4, head_dim=8, n_kv_heads=2, d_mlp=64)
    assert [shape.width(s) for s in ("q", "k", "v", "mlp_post", "pattern")] == [32, 16, 16, 64, 4]
    assert check_against_model(Intervention(layer=1, site="v", heads=(1,)), shape).heads == (1,)
    with pytest.raises(ProbingError, match=r"key/value heads 0..1 at site 'k'; got \[2\]"):
        check_against_model(Intervention(layer=1, site="k", heads=(2,)), shape)
    with pytest.raises(ProbingError, match="site 'mlp_post' has units 0..63; got 64"):
        check_against_model(Intervention(layer=1, site="mlp_post", units=(64,)), shape)
    with pytest.raises(ProbingError, match="site 'pattern' takes ops zero, patch, resample"):
        Intervention(layer=1, site="pattern", units=(0,))


def test_a_valid_head_intervention_passes():
    iv = Intervention(layer=4, site="head_out", heads=(3,), units=(0, 7), op="add",
                      values=[1.0, 2.0])
    assert check_against_model(iv, GQA) is iv
    assert GQA.width("head_out") == 32 and list(GQA.layer_range("resid_post")) == [0, 1, 2, 3, 4]


def test_dependent_basis_rows_are_refused():
    with pytest.raises(ProbingError, match="linearly dependent"):
        Intervention(layer=1, op="project_out", units=np.ones((2, 32)))


def test_unit_table_becomes_one_intervention_per_site_and_layer():
    import pandas as pd

    from probing.interventions import interventions_from_units

    table = pd.DataFrame({"layer": [2, 1, 2, 1], "unit": [7, 3, 5, 3],
                          "site": ["mlp_out", "resid_post", "mlp_out", "resid_post"]})
    ivs = interventions_from_units(table, op="zero", positions="last")
    assert [(iv.site, iv.layer, iv.units, iv.positions) for iv in ivs] == [
        ("mlp_out", 2, (5, 7), "last"), ("resid_post", 1, (3,), "last")]
    with pytest.raises(ProbingError, match=r"unit table: missing column\(s\) \['unit'\]"):
        interventions_from_units(table.drop(columns="unit"))
