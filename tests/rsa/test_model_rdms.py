"""Model RDMs from factors, from a paradigm, from data and from user arrays."""

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist

from probing._core.errors import ProbingError
from probing.paradigms import generate, load_paradigm
from probing.rsa import build_model_rdm, build_model_rdms, check_rdm, compute_rdm


@pytest.fixture
def table():
    return pd.DataFrame({"stimulus_id": ["s1", "s2", "s3", "s4"], "number": ["sg", "pl", "sg", "pl"],
                         "freq": [1.0, 4.0, 2.0, 8.0]})


def test_categorical_is_same_or_different_level(table):
    rdm = build_model_rdm(table, factor="number")
    np.testing.assert_array_equal(rdm.to_square()[0], [[0, 1, 0, 1], [1, 0, 1, 0],
                                                       [0, 1, 0, 1], [1, 0, 1, 0]])
    assert rdm.stimulus_ids == ("s1", "s2", "s3", "s4") and rdm.distance == "categorical"


def test_continuous_is_absolute_difference(table):
    rdm = build_model_rdm(table, factor="freq", feature_type="continuous")
    np.testing.assert_array_equal(rdm.values[0], pdist(table[["freq"]], "cityblock"))


def test_from_the_shipped_paradigm(paradigms_dir):
    stimuli = generate(load_paradigm(paradigms_dir / "rsa_number_animacy.yaml"), seed=0)
    rdms = build_model_rdms(stimuli)
    assert list(rdms) == ["number", "animacy"]
    number = rdms["number"]
    assert number.n_stimuli == len(stimuli.table) == 96
    assert number.stimulus_ids == tuple(stimuli.table["stimulus_id"])
    same = stimuli.table["number"].to_numpy()
    square = number.to_square()[0]
    assert np.array_equal(square == 0, same[:, None] == same[None])


def test_spec_pairs_and_mapping_forms_agree(table):
    pairs = build_model_rdms(table, model_rdms=(("num", "number"),))
    mapping = build_model_rdms(table, model_rdms={"num": {"factor": "number"}})
    plain = build_model_rdms(table, model_rdms={"num": "number"})
    assert pairs["num"].values.tobytes() == mapping["num"].values.tobytes() \
        == plain["num"].values.tobytes()
    assert pairs["num"].descriptors["model_rdm"].tolist() == ["num"]


def test_from_another_layer(rng):
    layers = compute_rdm(rng.normal(size=(5, 3, 4)))
    model = layers.subset(2)
    assert model.n_rdms == 1 and model.descriptors["layer"].tolist() == [2]


def test_from_a_user_array():
    rdm = check_rdm(np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]]), stimulus_ids=list("xyz"))
    assert rdm.values.tolist() == [[1.0, 2.0, 1.0]]


def test_table_not_mutated(table):
    before = table.copy()
    build_model_rdm(table, factor="freq", feature_type="continuous")
    pd.testing.assert_frame_equal(table, before)


def test_unknown_factor(table):
    with pytest.raises(ProbingError, match=r"factor 'gender' is not a column; columns: \["):
        build_model_rdm(table, factor="gender")


def test_unknown_kind(table):
    with pytest.raises(ProbingError, match=r"feature_type must be one of \['categorical', 'continuous'\]"):
        build_model_rdm(table, factor="number", feature_type="ordinal")


def test_continuous_needs_numbers(table):
    with pytest.raises(ProbingError, match="a continuous factor must be numeric; 'number'"):
        build_model_rdm(table, factor="number", feature_type="continuous")


def test_missing_values(table):
    table.loc[0, "number"] = None
    with pytest.raises(ProbingError, match="factor 'number' has missing values"):
        build_model_rdm(table, factor="number")


def test_missing_id_column(table):
    with pytest.raises(ProbingError, match="id_column 'item' is not a column"):
        build_model_rdm(table, factor="number", id_column="item")


def test_no_model_rdms_declared(table):
    with pytest.raises(ProbingError, match="no model_rdms given and the stimuli declare none"):
        build_model_rdms(table)


def test_bad_model_rdm_entry(table):
    with pytest.raises(ProbingError, match="model_rdms.x must name a factor"):
        build_model_rdms(table, model_rdms={"x": {"level": "sg"}})


def test_not_a_table():
    with pytest.raises(ProbingError, match="must be a Stimuli or a DataFrame, got list"):
        build_model_rdms([1, 2])
