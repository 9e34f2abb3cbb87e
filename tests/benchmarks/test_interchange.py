"""Interchange interventions on the subject-number subspace (tiny Llama, shipped paradigm)."""

import numpy as np
import pandas as pd
import pytest

from benchmarks.interchange import (
    _aligned,
    _verb_preference,
    build_interchange_pairs,
    run_interchange,
)
from probing._core.errors import ProbingError
from probing.causal import IIA_COLUMNS
from probing.models import reinitialize, score_tokens
from probing.paradigms import generate, load_paradigm
from tests.conftest import PARADIGMS


@pytest.fixture(scope="module")
def stimuli():
    return generate(load_paradigm(PARADIGMS / "agreement_pp_attractor.yaml"))


@pytest.fixture
def llama(make_lm):
    return make_lm("llama")


def test_pairs_differ_only_in_subject_number(stimuli):
    pairs = build_interchange_pairs(stimuli)
    table = stimuli.table.set_index("stimulus_id")
    assert len(pairs) == 2 * 50 * 2  # items x attractor numbers x both directions
    base, source = table.loc[pairs["base_id"]], table.loc[pairs["source_id"]]
    assert (base["subject_number"].to_numpy() != source["subject_number"].to_numpy()).all()
    assert (base["attractor_number"].to_numpy() == source["attractor_number"].to_numpy()).all()
    assert (base["item_id"].to_numpy() == source["item_id"].to_numpy()).all()
    assert (table.loc[pairs["base_bad_id"], "role"] == "bad").all()


def test_full_interchange_at_the_embeddings_is_the_source_word(llama, stimuli):
    # reference: the whole space of the subject's tokens at layer 0 taken from the source
    # is the base sentence with the source's subject word, scored plainly
    pairs = _aligned(llama, build_interchange_pairs(stimuli).head(16), stimuli, ["subject"])
    pairs = pairs.head(4)
    assert len(pairs) >= 2
    width = llama.model.config.hidden_size
    got = _verb_preference(llama, pairs, 0, "subject", np.eye(width), stimuli.regions, 8)
    regions = stimuli.regions.set_index(["stimulus_id", "region"])
    texts = {}
    for r in pairs.itertuples(index=False):
        start, end = regions.loc[(r.source_id, "subject"), ["char_start", "char_end"]]
        word = r.source[start:end]
        b0, b1 = regions.loc[(r.base_id, "subject"), ["char_start", "char_end"]]
        texts[r.base_id] = r.base[:b0] + word + r.base[b1:]
        texts[r.base_bad_id] = r.base_bad[:b0] + word + r.base_bad[b1:]
    plain = score_tokens(llama, pd.DataFrame({"stimulus_id": list(texts),
                                              "text": list(texts.values())}))
    total = plain.groupby("stimulus_id")["logprob"].sum()
    want = total.loc[pairs["base_id"]].to_numpy() - total.loc[pairs["base_bad_id"]].to_numpy()
    np.testing.assert_allclose(got, want, atol=1e-8)


def test_run_interchange_table(llama, stimuli):
    reinit = reinitialize(llama, random_state=1)
    seen = []
    table = run_interchange(llama, stimuli, layer_regions={1: "subject", 2: "attractor"},
                            fit_items=range(11, 31), test_items=range(1, 11),
                            reinitialized=reinit, n_random=2, n_boot=50,
                            batch_size=8, on_layer=seen.append)
    assert list(table.columns) == [*IIA_COLUMNS, "region"]
    assert len(seen) == 2 and len(seen[-1]) == len(table)
    kinds = set(zip(table["subspace"], table["task"], table["model_weights"], strict=True))
    assert kinds == {("mean_difference", "task", "trained"),
                     ("mean_difference", "control", "trained"),
                     ("random", "task", "trained"),
                     ("mean_difference", "task", "reinitialised")}
    assert table["estimate"].between(0, 1).all()
    assert (table["n"] >= 4).all(), table["n"]
    assert (table["ci_low"] <= table["estimate"]).all() and (table["estimate"] <= table["ci_high"]).all()
    assert set(table.loc[table["subspace"] == "random", "n_repeats"]) == {2}
    assert dict(zip(table["layer"], table["region"], strict=True)) == {1: "subject",
                                                                       2: "attractor"}


def test_fit_and_test_items_must_be_disjoint(llama, stimuli):
    with pytest.raises(ProbingError, match="disjoint"):
        run_interchange(llama, stimuli, layer_regions={1: "subject"}, fit_items=[1, 2],
                        test_items=[2, 3])


def test_das_rows_added_and_other_rows_unchanged(llama, stimuli):
    options = {"layer_regions": {1: "subject"}, "fit_items": range(11, 19),
               "test_items": range(1, 6), "reinitialized": reinitialize(llama, random_state=1),
               "n_random": 1, "n_boot": 50, "batch_size": 8}
    plain = run_interchange(llama, stimuli, **options)
    table = run_interchange(llama, stimuli, **options,
                            das={"steps": 3, "batch_size": 8, "lr": 0.05})
    das = table[table["subspace"] == "das"]
    assert set(zip(das["task"], das["model_weights"], strict=True)) == {
        ("task", "trained"), ("control", "trained"), ("task", "reinitialised")}
    assert das["estimate"].between(0, 1).all() and (das["n"] == plain["n"].iloc[0]).all()
    keys = ["layer", "subspace", "task", "model_weights"]
    merged = plain.merge(table, on=keys, suffixes=("", "_das"))
    assert len(merged) == len(plain)
    np.testing.assert_array_equal(merged["estimate"], merged["estimate_das"])
    np.testing.assert_array_equal(merged["ci_low"], merged["ci_low_das"])
    without_control = run_interchange(llama, stimuli, **{**options, "reinitialized": None},
                                      das={"steps": 1, "control": False})
    assert not ((without_control["subspace"] == "das")
                & (without_control["task"] == "control")).any()


@pytest.mark.parametrize(
    ("das", "message"),
    [({"rnak": 1}, r"das has unknown option\(s\) \['rnak'\]"),
     ({"rank": 0}, "das rank must be a positive integer"),
     ({"lr": "fast"}, "das lr must be a positive number"),
     ({"control": "yes"}, "das control must be True or False"),
     ("yes", "das must be True, False or a mapping")],
    ids=["unknown", "rank", "lr", "control", "type"],
)
def test_das_options_checked_before_the_model_is_used(stimuli, das, message):
    with pytest.raises(ProbingError, match=f"^interchange: {message}"):  # lm=None: unused
        run_interchange(None, stimuli, layer_regions={1: "subject"}, fit_items=[1],
                        test_items=[2], das=das)
