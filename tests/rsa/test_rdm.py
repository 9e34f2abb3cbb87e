"""The RDMs container and the square/condensed helpers."""

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import squareform

from probing._core.errors import ProbingError
from probing.rsa import RDMs, check_rdm, to_condensed, to_square


def test_square_and_condensed_match_scipy(rng):
    values = rng.random(10)
    np.testing.assert_array_equal(to_square(values), squareform(values))
    np.testing.assert_array_equal(to_condensed(squareform(values)), values)


def test_stacks_round_trip(rng):
    values = rng.random((3, 15))
    np.testing.assert_array_equal(to_condensed(to_square(values)), values)


def test_rdms_is_read_only_and_copies_its_input(rng):
    values = rng.random((2, 6))
    rdms = RDMs(values)
    values[0, 0] = 99.0
    assert rdms.values[0, 0] != 99.0
    with pytest.raises(ValueError):
        rdms.values[0, 0] = 1.0
    with pytest.raises(AttributeError):
        rdms.distance = "x"


def test_reorder_permutes_rows_and_columns_consistently(rng):
    rdms = RDMs(rng.random((2, 10)), stimulus_ids=list("abcde"))
    order = ["c", "a", "e", "b", "d"]
    index = [2, 0, 4, 1, 3]
    expected = rdms.to_square()[:, index][:, :, index]
    np.testing.assert_array_equal(rdms.reorder(order).to_square(), expected)
    assert rdms.reorder(order).stimulus_ids == tuple(order)


def test_subset_keeps_descriptors(rng):
    rdms = RDMs(rng.random((3, 3)), descriptors={"layer": [4, 5, 6]})
    assert rdms.subset([2]).descriptors["layer"].tolist() == [6]
    assert rdms.subset(1).n_rdms == 1


def test_to_frame_is_tidy():
    frame = RDMs([1.0, 2.0, 3.0], stimulus_ids="abc", descriptors={"layer": [7]}).to_frame()
    assert frame[["stimulus_id_a", "stimulus_id_b", "estimate", "layer"]].values.tolist() == [
        ["a", "b", 1.0, 7], ["a", "c", 2.0, 7], ["b", "c", 3.0, 7]]


def test_check_rdm_accepts_square_and_condensed():
    square = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    np.testing.assert_array_equal(check_rdm(square).values, check_rdm([1, 2, 3]).values)
    assert isinstance(check_rdm(square), RDMs)


def test_bad_length():
    with pytest.raises(ProbingError, match=r"n\*\(n-1\)/2 .* got 4"):
        RDMs(np.ones(4))


def test_bad_stimulus_count():
    with pytest.raises(ProbingError, match="stimulus_ids has 2 labels for 3 RDM rows"):
        RDMs(np.ones(3), stimulus_ids=["a", "b"])


def test_duplicate_stimuli():
    with pytest.raises(ProbingError, match="stimulus_ids must be unique"):
        RDMs(np.ones(3), stimulus_ids=["a", "b", "a"])


def test_bad_descriptor_rows():
    with pytest.raises(ProbingError, match="descriptors has 2 rows for 1 RDMs"):
        RDMs(np.ones(3), descriptors=pd.DataFrame({"layer": [1, 2]}))


def test_asymmetric_square():
    with pytest.raises(ProbingError, match="must be symmetric"):
        to_condensed([[0, 1], [2, 0]])


def test_nonzero_diagonal():
    with pytest.raises(ProbingError, match="zero diagonal"):
        to_condensed(np.ones((3, 3)))


def test_non_finite_user_rdm():
    with pytest.raises(ProbingError, match="must be finite"):
        check_rdm([1.0, np.nan, 2.0])


def test_reorder_unknown_stimulus():
    with pytest.raises(ProbingError, match=r"stimulus id\(s\) \['z'\] are not among"):
        RDMs([1.0, 2.0, 3.0], stimulus_ids="abc").reorder(["a", "z"])
