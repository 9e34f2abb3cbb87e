"""rsa_layers (planted layer recovered, tidy output, invariances) and second-order RSA."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.paradigms import generate, load_paradigm
from probing.rsa import (
    RSA_COLUMNS,
    build_model_rdms,
    compare_layers,
    compare_models,
    compare_rdms,
    compute_rdm,
    rsa_layers,
)
from probing.store import Activations


@pytest.fixture
def stimuli(paradigms_dir):
    return generate(load_paradigm(paradigms_dir / "rsa_number_animacy.yaml"), seed=0)


def _planted(stimuli, rng, layer=3, n_layers=6, n_units=32):
    """Activations where only ``layer`` carries animacy (and every layer carries noise)."""
    n = len(stimuli.table)
    values = rng.normal(size=(n, n_layers, n_units)).astype(np.float32)
    animate = (stimuli.table["animacy"] == "animate").to_numpy()
    values[animate, layer, :8] += 1.5
    index = stimuli.table[["stimulus_id"]].reset_index(drop=True)
    return Activations(values, index, layers=tuple(range(n_layers)), site="resid_post",
                       pooling="last")


def test_planted_structure_found_in_the_right_layer_only(stimuli, rng):
    acts = _planted(stimuli, rng)
    table = rsa_layers(acts, build_model_rdms(stimuli), n_perm=500, n_boot=200, random_state=0)
    assert list(table.columns) == list(RSA_COLUMNS)
    assert len(table) == 12 and set(table["model_rdm"]) == {"number", "animacy"}
    significant = table.loc[table["p_corr"] < 0.05, ["model_rdm", "layer"]].values.tolist()
    assert significant == [["animacy", 3]]
    hit = table.query("model_rdm == 'animacy' and layer == 3").iloc[0]
    assert hit["ci_low"] < hit["estimate"] < hit["ci_high"] and hit["ci_low"] > 0
    assert (table["site"] == "resid_post").all() and (table["correction"] == "holm").all()


def test_values_equal_compare_rdms(stimuli, rng):
    acts = _planted(stimuli, rng)
    models = build_model_rdms(stimuli)
    table = rsa_layers(acts, models, n_perm=10, bootstrap=None, random_state=0, dtype="float64")
    data = compute_rdm(acts.values, stimulus_ids=acts.index["stimulus_id"],
                       dtype="float64")
    expected = compare_rdms(data, models["animacy"])[:, 0]
    np.testing.assert_allclose(table.query("model_rdm == 'animacy'")["estimate"], expected,
                               atol=1e-12)
    assert table["ci_low"].isna().all() and (table["n_boot"] == 0).all()


def test_shuffling_stimuli_changes_nothing(rng):
    # 6 stimuli: exact enumeration, so p-values do not depend on the draw either
    X = rng.normal(size=(6, 3, 10))
    labels = np.array(list("abcdef"))
    model = compute_rdm(rng.normal(size=(6, 4)), stimulus_ids=labels)
    order = rng.permutation(6)
    base = rsa_layers(X, {"m": model}, stimulus_ids=labels, bootstrap=None)
    moved = rsa_layers(X[order], {"m": model}, stimulus_ids=labels[order], bootstrap=None)
    assert base["exact"].all()
    np.testing.assert_allclose(moved["estimate"], base["estimate"], atol=1e-6)
    np.testing.assert_allclose(moved["p_val"], base["p_val"])


def test_item_bootstrap_and_layer_subset(rng):
    centres = rng.normal(size=(4, 12))
    ids, items = np.repeat(list("abcd"), 5), np.tile(np.arange(5), 4)
    X = np.stack([centres[np.repeat(np.arange(4), 5)] + rng.normal(scale=0.3, size=(20, 12))
                  for _ in range(3)], axis=1)
    model = compute_rdm(centres, stimulus_ids=list("abcd"))
    table = rsa_layers(X, {"truth": model}, stimulus_ids=ids, groups=items,
                       bootstrap="items", layers=[0, 2], n_boot=50, random_state=0)
    assert table["layer"].tolist() == [0, 2] and (table["ci_low"] > 0.3).all()


def test_no_correction(rng):
    X = rng.normal(size=(8, 2, 5))
    table = rsa_layers(X, {"m": rng.normal(size=28)}, correction=None, n_perm=20,
                       bootstrap=None, random_state=0)
    np.testing.assert_array_equal(table["p_corr"], table["p_val"])
    assert (table["correction"] == "none").all()


def test_activations_not_mutated(rng):
    X = rng.normal(size=(8, 2, 5))
    before = X.copy()
    rsa_layers(X, {"m": rng.normal(size=28)}, n_perm=20, n_boot=20, random_state=0)
    np.testing.assert_array_equal(X, before)


def test_compare_layers_is_symmetric_with_unit_diagonal(rng):
    rdms = compute_rdm(rng.normal(size=(8, 4, 6)))
    table = compare_layers(rdms, comparison="pearson")
    square = table.pivot(index="layer_a", columns="layer_b", values="estimate").to_numpy()
    np.testing.assert_allclose(square, square.T, atol=1e-12)
    np.testing.assert_allclose(np.diag(square), 1.0)


def test_compare_models_aligns_stimuli(rng):
    labels = list("abcdefg")
    a = compute_rdm(rng.normal(size=(7, 2, 5)), stimulus_ids=labels)
    b = a.reorder(labels[::-1])
    table = compare_models({"a": a, "b": b})
    same = table.query("model_a == 'a' and model_b == 'b' and layer_a == layer_b")["estimate"]
    np.testing.assert_allclose(same, 1.0)
    assert list(table.columns) == ["model_a", "layer_a", "model_b", "layer_b", "metric", "estimate"]


def test_word_level_needs_stimuli(rng):
    index = pd.DataFrame({"stimulus_id": ["a", "a"], "word_index": [0, 1], "word": ["x", "y"]})
    acts = Activations(np.zeros((2, 1, 3), np.float32), index, layers=(0,), site="resid_post",
                       pooling="mean", level="word")
    with pytest.raises(ProbingError, match="word-level activations need stimulus_ids"):
        rsa_layers(acts, {"m": [1.0]})


def test_bad_array_shape(rng):
    with pytest.raises(ProbingError, match=r"\(n_rows, n_layers, n_units\); got shape"):
        rsa_layers(rng.normal(size=(6, 4)), {"m": rng.normal(size=15)})


def test_unknown_layer(rng):
    with pytest.raises(ProbingError, match=r"layers \[9\] not available; available: \[0, 1\]"):
        rsa_layers(rng.normal(size=(6, 2, 4)), {"m": rng.normal(size=15)}, layers=[9])


def test_empty_model_rdms(rng):
    with pytest.raises(ProbingError, match="model_rdms must be a non-empty mapping"):
        rsa_layers(rng.normal(size=(6, 2, 4)), {})


def test_stacked_model_rdm_refused(rng):
    with pytest.raises(ProbingError, match=r"model_rdms\['m'\] holds 2 RDMs"):
        rsa_layers(rng.normal(size=(6, 2, 4)), {"m": rng.normal(size=(2, 15))})


def test_unknown_bootstrap(rng):
    with pytest.raises(ProbingError, match=r"bootstrap must be one of \['stimuli', 'items'"):
        rsa_layers(rng.normal(size=(6, 2, 4)), {"m": rng.normal(size=15)}, bootstrap="pairs")


def test_item_bootstrap_needs_groups(rng):
    with pytest.raises(ProbingError, match="bootstrap='items' needs groups"):
        rsa_layers(rng.normal(size=(6, 2, 4)), {"m": rng.normal(size=15)}, bootstrap="items",
                   n_perm=5)


def test_groups_must_be_constant_within_a_stimulus(rng):
    with pytest.raises(ProbingError, match="groups must be constant within a stimulus id"):
        rsa_layers(rng.normal(size=(8, 2, 4)), {"m": rng.normal(size=6)},
                   stimulus_ids=list("aabbccdd"), groups=[0, 1] * 4, n_perm=5)


def test_compare_models_needs_a_mapping():
    with pytest.raises(ProbingError, match="compare_models: rdms must be a non-empty mapping"):
        compare_models([])


def test_bh_is_stored_by_its_canonical_name(rng):
    # one stored value per correction in every table: `bh` is written as `fdr_bh`
    X, model = rng.normal(size=(8, 2, 5)), {"m": rng.normal(size=28)}
    short = rsa_layers(X, model, correction="bh", n_perm=20, bootstrap=None, random_state=0)
    full = rsa_layers(X, model, correction="fdr_bh", n_perm=20, bootstrap=None, random_state=0)
    assert (short["correction"] == "fdr_bh").all()
    np.testing.assert_array_equal(short["p_corr"], full["p_corr"])


def test_n_items_counts_the_units_the_interval_resamples_and_few_warn():
    from probing.stats import FewItemsWarning

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 12)
    acts = rng.normal(size=(24, 2, 10))
    model = {"label": (labels[:, None] != labels[None]).astype(float)}
    groups = np.arange(24) // 2                       # 12 items of 2 stimuli
    table = rsa_layers(acts, model, n_perm=20, n_boot=20)
    assert (table["n_items"] == 24).all()
    with pytest.warns(FewItemsWarning, match="rsa_layers: 12 items"):
        table = rsa_layers(acts, model, groups=groups, n_perm=20, n_boot=20)
    assert (table["n_items"] == 12).all() and (table["n_stimuli"] == 24).all()
    with pytest.warns(FewItemsWarning, match="rsa_layers: 12 items"):
        table = rsa_layers(acts, model, groups=groups, bootstrap="items", n_perm=20,
                           n_boot=20)
    assert (table["n_items"] == 12).all()
