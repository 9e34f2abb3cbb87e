import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.rsa import compute_rdm, permutation_test
from probing.rsa.stream import stream_rsa


def _data(rng, n=23, n_layers=3, n_units=7):
    X = rng.normal(size=(n, n_layers, n_units))
    factor = np.arange(n) % 3
    X[:, 1, :3] += 2.0 * np.eye(3)[factor]  # planted in layer 1
    return X, factor


@pytest.mark.parametrize("distance", ["correlation", "cosine"])
@pytest.mark.parametrize("comparison", ["spearman", "pearson"])
@pytest.mark.parametrize("layers_per_pass, block_rows", [(1, 1), (2, 5), (4, 256)])
def test_equals_the_in_memory_path(rng, distance, comparison, layers_per_pass, block_rows):
    X, factor = _data(rng)
    model = rng.normal(size=23 * 22 // 2)
    model[:50] = model[0]  # ties: average ranks on both paths
    expected = permutation_test(compute_rdm(X, distance=distance, dtype="float64"), model,
                                comparison=comparison, n_perm=40, random_state=3)
    got = stream_rsa(X, model, distance=distance, comparison=comparison, n_perm=40,
                     random_state=3, layers_per_pass=layers_per_pass, block_rows=block_rows,
                     dtype="float64")
    np.testing.assert_array_equal(got.permutations, expected.permutations)
    np.testing.assert_allclose(got.value, expected.value, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.null, expected.null, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(got.p_val, expected.p_val)


def test_float32_gram_blocks_agree_to_float32_rounding(rng):
    # a block's float32 product may round differently from the whole Gram matrix's
    X, _ = _data(rng)
    model = rng.normal(size=23 * 22 // 2)
    expected = permutation_test(compute_rdm(X), model, comparison="pearson", n_perm=20)
    got = stream_rsa(X, model, comparison="pearson", n_perm=20, block_rows=1)
    np.testing.assert_allclose(got.null, expected.null, rtol=0, atol=1e-6)


def test_planted_layer_is_found_and_layers_select(rng):
    X, factor = _data(rng, n=30)
    rows, cols = np.triu_indices(30, k=1)
    model = (factor[rows] != factor[cols]).astype(float)  # categorical: same class or not
    res = stream_rsa(X, model, n_perm=200, random_state=0)
    assert res.p_val[1, 0] < 0.01 and res.value[1, 0] > 0.3
    assert res.p_val[0, 0] > 0.01 and res.p_val[2, 0] > 0.01
    only = stream_rsa(X, model, layers=[1], n_perm=200, random_state=0)
    np.testing.assert_allclose(only.value[0], res.value[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"distance": "euclidean"}, r"distance must be one of \['correlation', 'cosine'\]"),
    ({"comparison": "tau_a"}, r"comparison must be one of \['spearman', 'pearson'\]"),
    ({"block_rows": 0}, "block_rows must be a positive integer"),
    ({"model_rdm": np.zeros(5)}, "model must be one condensed RDM of 45 pairs for 10 stimuli"),
])
def test_bad_input(kwargs, message):
    X = np.random.default_rng(0).normal(size=(10, 2, 4))
    kwargs = {"model_rdm": np.zeros(45), **kwargs}
    with pytest.raises(ProbingError, match=message):
        stream_rsa(X, **kwargs)


@pytest.mark.parametrize("values", [
    np.random.default_rng(0).normal(size=1000),
    np.random.default_rng(1).integers(0, 4, size=1000).astype(float),  # heavy ties
    np.array([2.0, 2.0, 2.0]),
    np.array([1.0, np.nan, 0.0]),
], ids=["continuous", "ties", "constant", "nan"])
def test_in_place_ranks_equal_rankdata(values):
    from scipy.stats import rankdata

    from probing.rsa.stream import _average_ranks_

    expected = rankdata(values)
    got = _average_ranks_(values.copy(), block_size=64)  # several blocks
    np.testing.assert_array_equal(got, expected)


def test_ranks_with_ties_late_in_the_order_finish_and_equal_rankdata():
    """Runs of ties past the middle of the order, after earlier blocks became ranks.

    The end of a run must be searched for in the part still sorted: a search over the
    whole array met ranks (all > 1) where values were, stepped back, and looped forever.
    """
    import signal

    from scipy.stats import rankdata

    from probing.rsa.stream import _average_ranks_

    rng = np.random.default_rng(3)
    values = rng.permutation(np.r_[rng.random(600) * 0.5, np.repeat(0.5 + np.arange(40) / 80, 10)])

    def stop(*_):
        raise TimeoutError("_average_ranks_ did not finish")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(10)
    try:
        got = _average_ranks_(values.copy(), block_size=64)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    np.testing.assert_array_equal(got, rankdata(values))
