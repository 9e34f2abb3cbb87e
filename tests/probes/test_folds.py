"""build_folds: groups never straddle, automatic grouping, explicit folds, bad input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold

from probing._core.errors import ProbingError
from probing.probes import build_folds
from probing.store import Activations

from .conftest import planted


def _groups_respected(folds, groups):
    return all(not set(groups[train]) & set(groups[test]) for train, test in folds)


def test_folds_partition_rows_and_keep_groups_together():
    values, labels = planted(n_rows=60)
    items = np.repeat(np.arange(30), 2)
    folds = build_folds(values, labels, groups=items, cv=5)
    assert len(folds) == 5 and _groups_respected(folds, items)
    assert np.array_equal(np.sort(np.concatenate([t for _, t in folds])), np.arange(60))


def test_auto_groups_word_level_by_lowercased_type(word_activations):
    acts, labels = word_activations
    folds = build_folds(acts, labels, cv=4)
    types = acts.index["word"].str.lower().to_numpy()
    assert _groups_respected(folds, types)


def test_auto_groups_sentence_level_by_item_from_stimuli():
    index = pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(20)]})
    acts = Activations(np.zeros((20, 1, 2), np.float32), index, layers=(0,), site="resid_post",
                       pooling="last")
    stimuli = pd.DataFrame({"stimulus_id": index["stimulus_id"], "item_id": np.arange(20) // 2})
    folds = build_folds(acts, np.arange(20) % 2, cv=5, stimuli=stimuli)
    assert _groups_respected(folds, np.arange(20) // 2)


def test_auto_groups_without_a_source_is_an_error():
    values, labels = planted(n_rows=20)
    with pytest.raises(ProbingError, match="pass groups= explicitly, or groups=None"):
        build_folds(values, labels)


def test_stimuli_missing_a_stimulus_is_an_error():
    index = pd.DataFrame({"stimulus_id": ["a", "b", "c", "d"]})
    acts = Activations(np.zeros((4, 1, 2), np.float32), index, layers=(0,), site="resid_post",
                       pooling="last")
    stimuli = pd.DataFrame({"stimulus_id": ["a", "b", "c"], "item_id": [0, 0, 1]})
    with pytest.raises(ProbingError, match=r"no item_id for stimulus_id \['d'\]"):
        build_folds(acts, [0, 1, 0, 1], cv=2, stimuli=stimuli)


def test_same_seed_same_folds_other_seed_other_folds():
    values, labels = planted(n_rows=60)
    items = np.repeat(np.arange(30), 2)
    a = build_folds(values, labels, groups=items, random_state=1)
    b = build_folds(values, labels, groups=items, random_state=1)
    c = build_folds(values, labels, groups=items, random_state=2)
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x[1], y[1]) for x, y in zip(a, c, strict=True))


def test_explicit_folds_and_splitters_are_accepted():
    values, labels = planted(n_rows=20)
    explicit = list(KFold(4).split(values))
    assert len(build_folds(values, labels, groups=None, cv=explicit)) == 4
    assert len(build_folds(values, labels, groups=None, cv=KFold(3))) == 3


def test_explicit_folds_splitting_a_group_are_an_error():
    values, labels = planted(n_rows=20)
    items = np.repeat(np.arange(10), 2)
    with pytest.raises(ProbingError, match="fold 0 puts rows of the same group in train and test"):
        build_folds(values, labels, groups=items, cv=list(KFold(4).split(values)))


def test_overlapping_test_sets_are_an_error():
    values, labels = planted(n_rows=10)
    folds = [(np.arange(5, 10), np.arange(5)), (np.arange(3, 10), np.arange(3))]
    with pytest.raises(ProbingError, match="test sets overlap"):
        build_folds(values, labels, groups=None, cv=folds)


@pytest.mark.parametrize("cv", [1, "five", 2.5], ids=["one", "str", "float"])
def test_bad_cv_is_an_error(cv):
    values, labels = planted(n_rows=10)
    with pytest.raises(ProbingError, match="cv must be an int >= 2"):
        build_folds(values, labels, groups=None, cv=cv)


def test_fold_indices_out_of_range_are_an_error():
    values, labels = planted(n_rows=10)
    with pytest.raises(ProbingError, match="fold 0 test indexes outside 0..9"):
        build_folds(values, labels, groups=None, cv=[(np.arange(5), np.array([5, 10]))])


def test_too_few_groups_for_the_splits_is_an_error():
    values, labels = planted(n_rows=8)
    with pytest.raises(ProbingError, match="cv could not split the rows"):
        build_folds(values, labels, groups=np.repeat([0, 1], 4), cv=5)


def test_groups_of_wrong_length_are_an_error():
    values, labels = planted(n_rows=10)
    with pytest.raises(ProbingError, match=r"groups must be 1-D with one entry per row \(10\)"):
        build_folds(values, labels, groups=np.arange(9))


def test_group_labels_one_and_one_point_zero_are_one_group():
    # 1 == 1.0: folds that split them straddle a group (and must be refused), while
    # 1 and "1" are two different groups.
    values, labels = planted(n_rows=8)
    groups = np.array([1, 1.0, 2, 2.0, 3, 3.0, 4, 4.0], dtype=object)
    split = [(np.array([1, 2, 3, 4, 5, 6, 7]), np.array([0]))]
    with pytest.raises(ProbingError, match="same group in train and test"):
        build_folds(values, labels, groups=groups, cv=split)
    folds = build_folds(values, labels, groups=list(groups), cv=2)
    assert _groups_respected(folds, np.array([1, 1, 2, 2, 3, 3, 4, 4]))
    mixed = [1, "1", 2, "2", 3, "3", 4, "4"]
    assert len(build_folds(values, labels, groups=mixed, cv=split)) == 1


def test_groups_auto_resolves_the_same_in_every_function():
    # "auto" is word type for word-level rows in build_folds, probe_layers,
    # permutation_test_layers and control_task_layers alike (it used to be the sentence
    # in control_task_layers); the Hewitt & Liang sentence split is named "sentences".
    from probing.probes import control_task_layers, permutation_test_layers, probe_layers
    from probing.probes._inputs import check_groups, check_source

    rng = np.random.default_rng(0)
    words = np.array(["a", "b", "c", "d", "e", "f"] * 10)
    index = pd.DataFrame({"stimulus_id": np.repeat([f"s{i}" for i in range(12)], 5),
                          "word_index": np.tile(np.arange(5), 12), "word": words})
    acts = Activations(rng.normal(size=(60, 1, 4)).astype("float32"), index, layers=(0,),
                       site="resid_post", pooling="mean", level="word")
    source = check_source(acts, None, "t")
    auto = check_groups("auto", source, 60, "t")
    np.testing.assert_array_equal(auto, check_groups("types", source, 60, "t"))
    np.testing.assert_array_equal(check_groups("sentences", source, 60, "t"),
                                  index["stimulus_id"].to_numpy())
    labels = (np.arange(60) % 2)
    folds_auto = build_folds(acts, labels, groups="auto", cv=3)
    for train, test in folds_auto:  # no word type on both sides, in each function
        assert not set(words[train]) & set(words[test])
    by_type = control_task_layers(acts, labels, groups="types", cv=3, seeds=(0,))
    by_auto = control_task_layers(acts, labels, groups="auto", cv=3, seeds=(0,))
    pd.testing.assert_frame_equal(by_type, by_auto)
    assert probe_layers(acts, labels, cv=3).equals(probe_layers(acts, labels, groups="types", cv=3))
    assert permutation_test_layers(acts, labels, cv=3, n_perm=9).equals(
        permutation_test_layers(acts, labels, groups="types", cv=3, n_perm=9))
