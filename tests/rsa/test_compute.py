"""compute_rdm against scipy and rsatoolbox; crossnobis unbiased; invariances; bad input."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from probing._core.errors import ProbingError
from probing.rsa import average_patterns, compute_rdm

from .conftest import rsatoolbox_dataset

SCIPY = ["correlation", "cosine", "euclidean", "sqeuclidean"]


@pytest.mark.parametrize("metric", SCIPY, ids=SCIPY)
def test_equals_scipy_pdist(patterns, metric):
    ours = compute_rdm(patterns, distance=metric, dtype="float64").values[0]
    np.testing.assert_allclose(ours, pdist(patterns, metric), rtol=0, atol=1e-10)


@pytest.mark.parametrize("metric", SCIPY, ids=SCIPY)
def test_float32_within_documented_tolerance(patterns, metric):
    ours = compute_rdm(patterns, distance=metric).values[0]
    np.testing.assert_allclose(ours, pdist(patterns, metric), rtol=1e-5, atol=1e-6)


def test_mahalanobis_equals_scipy(patterns, rng):
    cov = np.cov(rng.normal(size=(100, 30)), rowvar=False)
    ours = compute_rdm(patterns, distance="mahalanobis", noise=cov, dtype="float64").values[0]
    expected = pdist(patterns, "mahalanobis", VI=np.linalg.inv(cov))
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-9)


def _rsatoolbox_rdm(X, method, **kwargs):
    rsatoolbox = pytest.importorskip("rsatoolbox")
    labels = [f"c{i:02d}" for i in range(len(X))]
    dataset = rsatoolbox_dataset(X, stimulus_id=labels)
    return rsatoolbox.rdm.calc_rdm(dataset, method=method, descriptor="stimulus_id",
                                   **kwargs).get_vectors()[0]


def test_correlation_equals_rsatoolbox(patterns):
    ours = compute_rdm(patterns, distance="correlation", dtype="float64").values[0]
    np.testing.assert_allclose(ours, _rsatoolbox_rdm(patterns, "correlation"), atol=1e-10)


def test_rsatoolbox_euclidean_is_our_sqeuclidean_per_unit(patterns):
    ours = compute_rdm(patterns, distance="sqeuclidean", dtype="float64").values[0]
    theirs = _rsatoolbox_rdm(patterns, "euclidean")
    np.testing.assert_allclose(ours / patterns.shape[1], theirs, atol=1e-10)
    # and float32 stays within 1e-6 of their float64 numbers
    ours32 = compute_rdm(patterns, distance="sqeuclidean").values[0]
    np.testing.assert_allclose(ours32 / patterns.shape[1], theirs, atol=1e-6)


def test_rsatoolbox_mahalanobis_is_our_squared_per_unit(patterns, rng):
    cov = np.cov(rng.normal(size=(100, 30)), rowvar=False)
    ours = compute_rdm(patterns, distance="mahalanobis", noise=cov, dtype="float64").values[0]
    theirs = _rsatoolbox_rdm(patterns, "mahalanobis", noise=np.linalg.inv(cov))
    np.testing.assert_allclose(ours**2 / patterns.shape[1], theirs, atol=1e-10)


def _repeated(patterns, rng, n_folds=3):
    ids = np.repeat([f"c{i:02d}" for i in range(len(patterns))], n_folds)
    folds = np.tile(np.arange(n_folds), len(patterns))
    X = np.repeat(patterns, n_folds, axis=0) + rng.normal(size=(len(ids), patterns.shape[1]))
    return X, ids, folds


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")  # rsatoolbox
def test_rsatoolbox_crossnobis_is_ours_per_unit(patterns, rng):
    rsatoolbox = pytest.importorskip("rsatoolbox")
    X, ids, folds = _repeated(patterns, rng)
    cov = np.cov(rng.normal(size=(100, 30)), rowvar=False)
    ours = compute_rdm(X, distance="crossnobis", stimulus_ids=ids, folds=folds, noise=cov,
                       dtype="float64").values[0]
    dataset = rsatoolbox_dataset(X, stimulus_id=ids, folds=folds)
    theirs = rsatoolbox.rdm.calc_rdm(dataset, method="crossnobis", descriptor="stimulus_id",
                                     cv_descriptor="folds", noise=np.linalg.inv(cov))
    np.testing.assert_allclose(ours / X.shape[1], theirs.get_vectors()[0], atol=1e-10)


def test_mahalanobis_from_residuals_uses_the_shrinkage_estimate(patterns, rng):
    residuals = rng.normal(size=(40, 30))
    from probing.rsa import estimate_noise_cov

    direct = compute_rdm(patterns, distance="mahalanobis", noise=estimate_noise_cov(residuals))
    via = compute_rdm(patterns, distance="mahalanobis", residuals=residuals)
    np.testing.assert_array_equal(direct.values, via.values)


def test_identity_noise_gives_euclidean(patterns):
    ours = compute_rdm(patterns, distance="mahalanobis", noise=np.eye(30), dtype="float64")
    np.testing.assert_allclose(ours.values[0], pdist(patterns), atol=1e-10)


def test_layer_stack_equals_each_layer(rng):
    X = rng.normal(size=(4, 9, 16))  # 4 layers of 9 rows, given rows first
    stack = compute_rdm(np.swapaxes(X, 0, 1), distance="euclidean", dtype="float64")
    assert stack.descriptors["layer"].tolist() == [0, 1, 2, 3]
    for k in range(4):
        np.testing.assert_allclose(stack.values[k], pdist(X[k]), atol=1e-10)


def test_rows_sharing_a_stimulus_id_are_averaged(rng):
    X = rng.normal(size=(6, 5))
    ids = ["b", "a", "b", "c", "a", "c"]
    rdm = compute_rdm(X, distance="euclidean", stimulus_ids=ids, dtype="float64")
    means, labels = average_patterns(X, ids)
    assert rdm.stimulus_ids == labels == ("b", "a", "c")
    np.testing.assert_allclose(rdm.values[0], pdist(means), atol=1e-12)
    np.testing.assert_allclose(means[0], X[[0, 2]].mean(axis=0))


def test_crossnobis_unbiased_for_identical_stimuli(rng):
    # 300 independent data sets (as a layer stack): 6 identical stimuli, 4 folds of noise.
    n_sets, n_stim, n_folds, n_units = 300, 6, 4, 20
    X = rng.normal(size=(n_sets, n_stim * n_folds, n_units)).swapaxes(0, 1)  # rows first
    ids, folds = np.repeat(np.arange(n_stim), n_folds), np.tile(np.arange(n_folds), n_stim)
    per_set = compute_rdm(X, distance="crossnobis", stimulus_ids=ids, folds=folds,
                          dtype="float64").values.mean(axis=1)
    std_err = per_set.std(ddof=1) / np.sqrt(n_sets)
    assert abs(per_set.mean()) < 4 * std_err
    # control: the plain squared distance of the same data is biased upwards by noise
    biased = compute_rdm(X, distance="sqeuclidean", stimulus_ids=ids).values.mean()
    assert biased > 100 * std_err


def test_crossnobis_estimates_the_true_squared_distance(rng):
    n_sets, n_folds = 300, 3
    centres = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 2.0, 0.0]])
    ids = np.repeat([0, 1, 2], n_folds)
    folds = np.tile(np.arange(n_folds), 3)
    X = (centres[ids] + rng.normal(size=(n_sets, ids.size, 3))).swapaxes(0, 1)
    values = compute_rdm(X, distance="crossnobis", stimulus_ids=ids, folds=folds,
                         dtype="float64").values
    truth = pdist(centres, "sqeuclidean")
    std_err = values.std(axis=0, ddof=1) / np.sqrt(n_sets)
    assert np.all(np.abs(values.mean(axis=0) - truth) < 4 * std_err)


def test_shuffling_rows_permutes_the_rdm_consistently(rng):
    X = rng.normal(size=(10, 7))
    names = [f"s{i}" for i in range(10)]
    order = rng.permutation(10)
    base = compute_rdm(X, stimulus_ids=names, dtype="float64")
    shuffled = compute_rdm(X[order], stimulus_ids=[names[i] for i in order], dtype="float64")
    assert shuffled.stimulus_ids == tuple(names[i] for i in order)
    np.testing.assert_allclose(shuffled.reorder(names).values, base.values, atol=1e-12)


def test_crossnobis_does_not_depend_on_row_order(rng):
    X, ids, folds = _repeated(rng.normal(size=(5, 8)), rng)
    order = rng.permutation(len(X))
    base = compute_rdm(X, distance="crossnobis", stimulus_ids=ids, folds=folds, dtype="float64")
    moved = compute_rdm(X[order], distance="crossnobis", stimulus_ids=ids[order],
                        folds=folds[order], dtype="float64")
    np.testing.assert_allclose(moved.reorder(base.stimulus_ids).values, base.values, atol=1e-12)


def test_inputs_are_not_mutated(rng):
    X, ids, folds = _repeated(rng.normal(size=(4, 6)), rng)
    noise = np.eye(6) * 2
    copies = [a.copy() for a in (X, ids, folds, noise)]
    compute_rdm(X, distance="crossnobis", stimulus_ids=ids, folds=folds, noise=noise)
    compute_rdm(X, distance="euclidean", stimulus_ids=ids)
    for before, after in zip(copies, (X, ids, folds, noise), strict=True):
        np.testing.assert_array_equal(before, after)


def test_unknown_metric(patterns):
    with pytest.raises(ProbingError, match=r"distance must be one of \['correlation'.*got 'l1'"):
        compute_rdm(patterns, distance="l1")


def test_unknown_dtype(patterns):
    with pytest.raises(ProbingError, match=r"dtype must be one of \['float32', 'float64'\]"):
        compute_rdm(patterns, dtype="float16")


def test_bad_shape():
    with pytest.raises(ProbingError, match=r"X must be \(n_rows, n_units\).*got shape \(5,\)"):
        compute_rdm(np.ones(5))


def test_wrong_number_of_stimulus_labels(patterns):
    with pytest.raises(ProbingError, match=r"stimulus_ids must have one label per row \(12\)"):
        compute_rdm(patterns, stimulus_ids=["a", "b"])


def test_single_stimulus(patterns):
    with pytest.raises(ProbingError, match="need at least two stimulus_ids"):
        compute_rdm(patterns, stimulus_ids=["a"] * 12)


def test_constant_pattern_has_no_correlation_distance():
    with pytest.raises(ProbingError, match="'correlation' is undefined for a constant pattern"):
        compute_rdm(np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]]))


def test_mahalanobis_needs_noise(patterns):
    with pytest.raises(ProbingError, match="'mahalanobis' needs noise"):
        compute_rdm(patterns, distance="mahalanobis")


def test_noise_and_residuals_together(patterns):
    with pytest.raises(ProbingError, match="give noise or residuals, not both"):
        compute_rdm(patterns, distance="mahalanobis", noise=np.eye(30), residuals=np.ones((4, 30)))


def test_noise_of_the_wrong_shape(patterns):
    with pytest.raises(ProbingError, match=r"noise must be \(30, 30\)"):
        compute_rdm(patterns, distance="mahalanobis", noise=np.eye(3))


def test_noise_not_positive_definite(patterns):
    with pytest.raises(ProbingError, match="symmetric positive definite"):
        compute_rdm(patterns, distance="mahalanobis", noise=np.zeros((30, 30)))


def test_crossnobis_needs_folds(patterns):
    with pytest.raises(ProbingError, match="'crossnobis' needs stimulus_ids and folds"):
        compute_rdm(patterns, distance="crossnobis", stimulus_ids=list(range(12)))


def test_crossnobis_fold_missing_a_stimulus(rng):
    X = rng.normal(size=(5, 4))
    with pytest.raises(ProbingError, match="a fold lacks a stimulus id"):
        compute_rdm(X, distance="crossnobis", stimulus_ids=[0, 1, 0, 1, 2], folds=[0, 0, 1, 1, 1])


def test_crossnobis_single_fold(rng):
    with pytest.raises(ProbingError, match="crossnobis needs at least two folds"):
        compute_rdm(rng.normal(size=(3, 4)), distance="crossnobis", stimulus_ids=[0, 1, 2],
                    folds=[0, 0, 0])


def _null_crossnobis(seed, residuals, n_stim=5, n_folds=4, n_units=20):
    from probing.rsa import average_patterns, estimate_noise_cov

    rng = np.random.default_rng(seed)
    ids = np.tile(np.arange(n_stim), n_folds)
    folds = np.repeat(np.arange(n_folds), n_stim)
    X = rng.normal(size=(ids.size, n_units))  # every stimulus has the same mean
    kwargs = {"distance": "crossnobis", "stimulus_ids": ids, "folds": folds, "dtype": "float64"}
    if residuals == "same":  # the noise of the same patterns, estimated once
        means, _ = average_patterns(X, ids)
        return compute_rdm(X, noise=estimate_noise_cov(X - means[ids]), **kwargs).values.mean()
    return compute_rdm(X, residuals=residuals, **kwargs).values.mean()


def test_crossnobis_noise_from_training_folds_is_unbiased():
    # 5 stimuli x 4 folds: noise estimated from the same patterns gave +4.74 (audit).
    folds = np.array([_null_crossnobis(seed, "folds") for seed in range(60)])
    assert abs(folds.mean()) < 3 * folds.std(ddof=1) / np.sqrt(folds.size)
    same = np.array([_null_crossnobis(seed, "same") for seed in range(20)])
    assert same.mean() > 2.0  # the bias that residuals="folds" removes


def test_crossnobis_residuals_of_the_same_patterns_warn_and_folds_is_crossnobis_only(rng):
    X = rng.normal(size=(12, 4))
    ids, folds = np.tile(np.arange(3), 4), np.repeat(np.arange(4), 3)
    with pytest.warns(UserWarning, match="residuals='folds'"):
        compute_rdm(X, distance="crossnobis", stimulus_ids=ids, folds=folds, residuals=X)
    with pytest.raises(ProbingError, match="residuals='folds' applies to distance 'crossnobis'"):
        compute_rdm(X, distance="mahalanobis", residuals="folds")


def test_axis_order_is_that_of_activations(rng):
    # (n_rows, n_layers, n_units) as Activations, the probes and rsa_layers take it
    values = rng.normal(size=(7, 3, 5))
    stack = compute_rdm(values, distance="euclidean", dtype="float64")
    assert stack.n_rdms == 3 and stack.n_stimuli == 7
    for k in range(3):
        np.testing.assert_allclose(stack.values[k], pdist(values[:, k]), atol=1e-10)


def test_the_old_layers_first_order_is_deprecated(rng):
    values = rng.normal(size=(7, 3, 5))
    new = compute_rdm(values, stimulus_ids=list("abcdefg"))
    old = np.swapaxes(values, 0, 1)
    with pytest.warns(DeprecationWarning, match="layers_first=True"):
        np.testing.assert_allclose(compute_rdm(old, layers_first=True).values, new.values)
    with pytest.warns(DeprecationWarning, match=r"\(n_layers, n_rows, n_units\)"):
        by_labels = compute_rdm(old, stimulus_ids=list("abcdefg"))  # the labels fit axis 1
    np.testing.assert_allclose(by_labels.values, new.values)
