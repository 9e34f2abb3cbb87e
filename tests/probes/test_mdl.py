"""MDL online code: block fractions, separable data compresses, random labels do not."""

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.probes import FRACTIONS, MDL_COLUMNS, compute_online_codelength, mdl_layers
from probing.probes.mdl import block_ends

from .conftest import planted


def test_block_ends_are_the_standard_fractions():
    assert FRACTIONS == (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.25, 12.5, 25, 50, 100)
    assert block_ends(10_000) == [10, 20, 40, 80, 160, 320, 625, 1250, 2500, 5000, 10_000]
    assert block_ends(100)[0] == 1  # the uniform first block holds at least one row


def test_trivially_separable_task_codes_far_below_uniform(rng):
    X = rng.normal(size=(500, 4))
    y = np.where(X[:, 0] > 0, "a", "b")
    bits = compute_online_codelength(X, y)
    assert bits < 0.25 * 500  # uniform: 500 bits


def test_random_labels_code_at_about_uniform(rng):
    X, y = rng.normal(size=(500, 4)), rng.integers(0, 4, size=500)
    # Nothing to compress; early blocks' overfitting costs a little over uniform.
    assert 0.97 < compute_online_codelength(X, y) / (500 * np.log2(4)) < 1.2


def test_first_block_costs_the_uniform_code(rng):
    # With n = 10 rows the first block is one row at log2(3) bits; a one-class prefix is
    # coded with add-one frequencies, so a constant label is cheap but never free.
    X, y = rng.normal(size=(10, 2)), np.array([0, 1, 2] + [0] * 7)
    bits = compute_online_codelength(X, y, random_state=0)
    assert bits >= np.log2(3)


def test_mdl_layers_table_and_planted_layer_compresses_best():
    values, labels = planted(n_rows=200, n_layers=3, signal_layer=1, strength=4.0)
    table = mdl_layers(values, labels)
    assert tuple(table.columns) == MDL_COLUMNS
    wide = table.pivot(index="layer", columns="metric", values="estimate")
    np.testing.assert_allclose(wide.uniform_codelength, 200.0)
    np.testing.assert_allclose(wide.compression, wide.uniform_codelength / wide.codelength)
    assert wide.compression.idxmax() == 1 and wide.compression[1] > 3


def test_mlp_probe_works_and_is_deterministic():
    values, labels = planted(n_rows=120, n_layers=1, signal_layer=0, strength=4.0)
    from probing.probes import MLPProbe

    probe = MLPProbe(hidden_layer_sizes=(8,), max_iter=100, random_state=0)
    a = mdl_layers(values, labels, probe=probe)
    b = mdl_layers(values, labels, probe=probe)
    assert (a.probe == "MLPProbe").all()
    np.testing.assert_array_equal(a.estimate, b.estimate)


def test_probe_without_predict_proba_is_an_error():
    values, labels = planted(n_rows=20)
    with pytest.raises(ProbingError, match="probe must be a classifier with predict_proba"):
        mdl_layers(values, labels, probe="ridge_classifier")


def test_bad_smoothing_is_an_error(rng):
    with pytest.raises(ProbingError, match=r"smoothing must lie in \(0, 1\)"):
        compute_online_codelength(rng.normal(size=(10, 2)), np.arange(10) % 2, smoothing=0)
