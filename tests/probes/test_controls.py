"""Control tasks: type-consistent, distribution-matched, seeded labels; selectivity."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.probes import (
    SELECTIVITY_COLUMNS,
    control_task_layers,
    make_control_labels,
    probe_layers,
    selectivity,
)
from probing.store import Activations


def _types_and_labels(rng, n_types=400, n_tokens=5000):
    types = rng.integers(0, n_types, size=n_tokens)
    labels = rng.choice(np.array(["DET", "NOUN", "VERB"]), size=n_tokens, p=[0.2, 0.5, 0.3])
    return types, labels


def test_control_labels_are_constant_within_each_type(rng):
    types, labels = _types_and_labels(rng)
    control = make_control_labels(types, labels, random_state=0)
    for t in np.unique(types):
        assert np.unique(control[types == t]).size == 1


def test_control_labels_follow_the_token_label_distribution(rng):
    # Each of many types draws from the token frequencies (0.2, 0.5, 0.3).
    types, labels = _types_and_labels(rng, n_types=3000, n_tokens=3000)
    types = np.arange(3000)  # one token per type: type draws = token draws
    control = make_control_labels(types, labels, random_state=1)
    expected = {c: np.mean(labels == c) for c in ("DET", "NOUN", "VERB")}
    for c, p in expected.items():
        assert abs(np.mean(control == c) - p) <= 3 * np.sqrt(p * (1 - p) / 3000)


def test_control_labels_are_deterministic_per_seed(rng):
    types, labels = _types_and_labels(rng)
    a = make_control_labels(types, labels, random_state=3)
    np.testing.assert_array_equal(a, make_control_labels(types, labels, random_state=3))
    assert (a != make_control_labels(types, labels, random_state=4)).any()
    assert a.dtype == labels.dtype


def test_control_labels_of_mismatched_lengths_are_an_error():
    with pytest.raises(ProbingError, match="must be 1-D of the same length"):
        make_control_labels(["a", "b"], ["X"], random_state=0)


def test_control_task_uses_the_task_folds_and_gives_high_selectivity(word_activations):
    acts, labels = word_activations
    table = control_task_layers(acts, labels, cv=4, seeds=(0, 1, 2))
    # the same folds: grouped by sentence (Hewitt & Liang)
    task = probe_layers(acts, labels, groups=acts.index["stimulus_id"].to_numpy(), cv=4)
    mine = table[table.task == "task"].drop(columns="seed").reset_index(drop=True)
    np.testing.assert_allclose(mine["estimate"], task["estimate"])
    assert sorted(table.loc[table.task == "control", "seed"].unique()) == [0, 1, 2]
    sel = selectivity(table)
    assert tuple(sel.columns) == SELECTIVITY_COLUMNS
    sel = sel[sel.task == "selectivity"].set_index("layer")
    assert sel.loc[6, "estimate"] > 0.2 and sel["estimate"].idxmax() == 6
    assert (sel.ci_low <= sel.estimate).all() and (sel.n == 3).all()


def test_selectivity_is_task_minus_mean_control_with_a_t_interval(word_activations):
    acts, labels = word_activations
    table = control_task_layers(acts, labels, cv=4, seeds=(0, 1), layers=[6])
    sel = selectivity(table, metric="balanced_accuracy").set_index("task")
    rows = table[table.metric == "balanced_accuracy"]
    task = rows[rows.task == "task"].estimate.mean()
    control = rows[rows.task == "control"].groupby("seed").estimate.mean()
    assert sel.loc["selectivity", "estimate"] == pytest.approx(task - control.mean())
    assert sel.loc["control", "estimate"] == pytest.approx(control.mean())


def _lexical_design(n_types=30, n_sentences=60, seed=0):
    """Tokens whose vectors are their type's random embedding (pure lexical identity):
    types recur across sentences, labels are a type-level property."""
    rng = np.random.default_rng(seed)
    types = rng.integers(0, n_types, size=n_sentences * 8)
    embedding = rng.normal(size=(n_types, 40))
    values = (embedding[types] + 0.1 * rng.normal(size=(types.size, 40)))[:, None, :]
    index = pd.DataFrame({"stimulus_id": [f"s{i // 8}" for i in range(types.size)],
                          "word_index": np.arange(types.size) % 8,
                          "word": [f"w{t}" for t in types]})
    acts = Activations(values.astype(np.float32), index, layers=(1,), site="resid_post",
                       pooling="last", level="word")
    return acts, np.where(types % 3 == 0, "A", "B")


def test_control_task_is_learnable_with_sentence_folds_and_not_with_type_folds():
    # Hewitt & Liang's point: a probe memorises type -> label when types recur across
    # train and test. Grouping folds by type makes every test type unseen, and the
    # control task then cannot beat chance whatever the representation.
    acts, labels = _lexical_design()
    by_sentence = selectivity(control_task_layers(acts, labels, seeds=(0, 1, 2), cv=4))
    by_type = selectivity(control_task_layers(acts, labels, groups="types", seeds=(0, 1, 2),
                                              cv=4))
    control_sentence = by_sentence.set_index("task").loc["control", "estimate"]
    control_type = by_type.set_index("task").loc["control", "estimate"]
    assert control_sentence > 0.9 and control_type < 0.75


def test_groups_sentences_needs_a_stimulus_id_index():
    with pytest.raises(ProbingError, match="groups='sentences' groups folds by sentence"):
        control_task_layers(np.zeros((10, 1, 2)), np.arange(10) % 2, word_types=np.arange(10))
    with pytest.raises(ProbingError, match="groups must be 'auto', 'types', 'sentences', 'items', None"):
        control_task_layers(np.zeros((10, 1, 2)), np.arange(10) % 2, word_types=np.arange(10),
                            groups="words")


def test_word_types_auto_needs_word_level_activations():
    with pytest.raises(ProbingError, match="word_types='auto' needs word-level Activations"):
        control_task_layers(np.zeros((10, 1, 2)), np.arange(10) % 2)


def test_control_task_needs_a_classifier(word_activations):
    acts, _ = word_activations
    with pytest.raises(ProbingError, match="control tasks need a classifier probe"):
        control_task_layers(acts, np.arange(160, dtype=float), cv=2, probe="ridge")


def test_duplicate_seeds_are_an_error(word_activations):
    acts, labels = word_activations
    with pytest.raises(ProbingError, match="seeds must be one or more distinct ints"):
        control_task_layers(acts, labels, cv=2, seeds=(1, 1))


def test_selectivity_needs_a_control_task_table():
    with pytest.raises(ProbingError, match="table must come from control_task_layers"):
        selectivity(probe_layers(np.zeros((8, 1, 2)), np.arange(8) % 2, groups=None,
                                 cv=2).drop(columns="seed"))


def test_control_labels_keep_one_and_string_one_apart():
    # The int 1 and the string "1" are two word types; 1 and 1.0 are one.
    labels = np.tile(["a", "b"], 200)
    types = np.array([1, "1"] * 200, dtype=object)
    differ = [len({make_control_labels(types, labels, random_state=s)[k] for k in (0, 1)})
              for s in range(20)]
    assert max(differ) == 2  # drawn independently: some seed gives them different labels
    same = np.array([1, 1.0] * 200, dtype=object)
    assert all(len(set(make_control_labels(same, labels, random_state=s))) == 1
               for s in range(5))
    # as a plain list too (numpy would turn [1, "1"] into two strings "1")
    as_list = make_control_labels([1, "1"] * 200, labels, random_state=int(np.argmax(differ)))
    assert as_list[0] != as_list[1]
