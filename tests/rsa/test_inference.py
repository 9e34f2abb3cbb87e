"""Stimulus-label permutation tests: exactness, agreement with explicit relabelling and
rsatoolbox, calibration under the null, reproducibility, bad input."""

import math

import numpy as np
import pytest
from scipy import stats

from probing._core.errors import ProbingError
from probing.rsa import METHODS, RDMs, compare_rdms, draw_permutations, permutation_test
from probing.rsa.rdm_comparison import RSATOOLBOX_METHODS


def _relabel(values, perm):
    """The model RDM with its stimuli permuted, the slow and obvious way."""
    square = RDMs(values).to_square()[0]
    return RDMs(square[np.ix_(perm, perm)][np.triu_indices(len(perm), 1)])


@pytest.mark.parametrize("method", METHODS, ids=METHODS)
def test_null_equals_explicit_relabelling(rng, method):
    data, model = rng.normal(size=(2, 36)), np.round(rng.normal(size=36))
    res = permutation_test(data, model, comparison=method, n_perm=20, random_state=1)
    for k in (0, 7, 19):
        expected = compare_rdms(data, _relabel(model, res.permutations[k]), comparison=method)
        np.testing.assert_allclose(res.null[k], expected, atol=1e-12)
    np.testing.assert_allclose(res.value, compare_rdms(data, model, comparison=method), atol=1e-12)


@pytest.mark.parametrize("method", ["spearman", "pearson", "rho_a", "whitened_pearson"])
def test_null_equals_rsatoolbox_on_the_same_permutations(rng, method):
    rsatoolbox = pytest.importorskip("rsatoolbox")
    data, model = rng.normal(size=(3, 45)), (rng.random(45) > 0.5).astype(float)
    res = permutation_test(data, model, comparison=method, n_perm=5, random_state=0)
    for k in range(5):
        permuted = rsatoolbox.rdm.RDMs(model[None].copy())
        permuted.reorder(res.permutations[k])
        theirs = rsatoolbox.rdm.compare(rsatoolbox.rdm.RDMs(data), permuted,
                                        method=RSATOOLBOX_METHODS[method])
        np.testing.assert_allclose(res.null[k], theirs, atol=1e-10)


def test_exact_enumeration_with_five_stimuli(rng):
    data = rng.normal(size=10)
    res = permutation_test(data, data, n_perm=50)
    assert res.exact and res.n_perm == math.factorial(5) == 120
    assert len({tuple(p) for p in res.permutations}) == 120
    # only the identity matches a generic RDM with itself perfectly: p = 1/120, not 0 or NaN
    assert res.p_val[0, 0] == pytest.approx(1 / 120)


def test_exact_p_values_count_the_identity(rng):
    res = permutation_test(rng.normal(size=(4, 6)), rng.normal(size=6), alternative="two-sided")
    assert res.exact and res.n_perm == 24
    assert np.all(res.p_val >= 1 / 24) and np.all(res.p_val <= 1)


def test_monte_carlo_p_values_are_never_zero(rng):
    model = rng.normal(size=190)
    res = permutation_test(model[None], model, n_perm=99, random_state=0)
    assert not res.exact
    assert res.p_val[0, 0] == pytest.approx(1 / 100)


def test_planted_relation_is_detected(rng):
    model = rng.normal(size=120)
    data = np.stack([model + rng.normal(scale=1.0, size=120), rng.normal(size=120)])
    res = permutation_test(data, model, n_perm=499, random_state=0)
    assert res.p_val[0, 0] < 0.01 < res.p_val[1, 0]


def test_same_seed_same_bytes(rng):
    data, model = rng.normal(size=(2, 45)), rng.normal(size=45)
    a = permutation_test(data, model, n_perm=50, random_state=3)
    b = permutation_test(data, model, n_perm=50, random_state=3)
    c = permutation_test(data, model, n_perm=50, random_state=4)
    assert a.null.tobytes() == b.null.tobytes() and a.p_val.tobytes() == b.p_val.tobytes()
    assert a.null.tobytes() != c.null.tobytes()


def test_invariant_to_stimulus_order(rng):
    ids = [f"c{i}" for i in range(10)]
    data = RDMs(rng.normal(size=(2, 45)), stimulus_ids=ids)
    model = RDMs(rng.normal(size=45), stimulus_ids=ids)
    order = list(rng.permutation(ids))
    base = permutation_test(data, model, n_perm=200, random_state=0)
    moved = permutation_test(data.reorder(order), model.reorder(order), n_perm=200,
                             random_state=0)
    np.testing.assert_allclose(moved.value, base.value, atol=1e-12)
    # permutation nulls differ draw by draw but estimate the same p-values
    np.testing.assert_allclose(moved.p_val, base.p_val, atol=0.1)


def test_inputs_not_mutated(rng):
    data, model = rng.normal(size=(2, 45)), rng.normal(size=45)
    copies = data.copy(), model.copy()
    permutation_test(data, model, n_perm=10, random_state=0)
    np.testing.assert_array_equal(data, copies[0])
    np.testing.assert_array_equal(model, copies[1])


@pytest.mark.slow
def test_null_is_calibrated():
    # 600 independent null data sets, 8 stimuli (Monte Carlo, 199 permutations each):
    # P(p <= alpha) must be alpha within a binomial tolerance.
    rng = np.random.default_rng(7)
    p_vals = np.array([permutation_test(rng.normal(size=28), rng.normal(size=28), n_perm=199,
                                        random_state=rng).p_val[0, 0] for _ in range(600)])
    for alpha in (0.05, 0.2):
        hits = int(np.sum(p_vals <= alpha))
        assert stats.binomtest(hits, 600, alpha).pvalue > 0.001, (alpha, hits)
    # exact enumeration with 5 stimuli: valid (never above alpha beyond noise)
    exact = np.array([permutation_test(rng.normal(size=10), rng.normal(size=10)).p_val[0, 0]
                      for _ in range(300)])
    assert stats.binomtest(int(np.sum(exact <= 0.05)), 300, 0.05,
                           alternative="greater").pvalue > 0.001


def test_draw_permutations_random_rows_are_permutations():
    perms, exact = draw_permutations(12, n_perm=30, random_state=0)
    assert not exact and perms.shape == (30, 12)
    assert np.all(np.sort(perms, axis=1) == np.arange(12))


def test_bad_n_perm(rng):
    with pytest.raises(ProbingError, match="n_perm must be a positive integer, got 0"):
        permutation_test(rng.normal(size=45), rng.normal(size=45), n_perm=0)


def test_bad_alternative(rng):
    with pytest.raises(ProbingError, match=r"alternative must be one of \['greater'"):
        permutation_test(rng.normal(size=6), rng.normal(size=6), alternative="bigger")


def test_bad_method(rng):
    with pytest.raises(ProbingError, match=r"permutation_test: comparison must be one of"):
        permutation_test(rng.normal(size=6), rng.normal(size=6), comparison="kendall")


def test_within_blocks_permutations_stay_inside_their_block():
    blocks = np.repeat(["a", "b", "c"], [4, 3, 1])
    perms, exact = draw_permutations(8, n_perm=500, within=blocks, random_state=0)
    assert not exact and perms.shape == (500, 8)
    for p in perms:
        assert (blocks[p] == blocks).all() and sorted(p) == list(range(8))
    assert (perms[:, 7] == 7).all()  # a block of one never moves
    assert len({tuple(p) for p in perms}) > 100  # 4! * 3! = 144 arrangements, well covered
    again, _ = draw_permutations(8, n_perm=500, within=blocks, random_state=0)
    np.testing.assert_array_equal(perms, again)


def test_within_blocks_test_uses_only_restricted_permutations(rng):
    model = rng.normal(size=28)
    data = model + rng.normal(size=28)
    blocks = np.repeat([0, 1], 4)
    res = permutation_test(data, model, n_perm=300, within=blocks, random_state=1)
    assert (np.sort(res.permutations[:, :4], axis=1) == np.arange(4)).all()
    assert res.p_val[0, 0] >= 1 / 301 and not res.exact


def test_rsa_layers_within_items(rng):
    from probing.rsa import rsa_layers

    labels = np.tile([0, 1], 12)
    items = np.repeat(np.arange(12), 2)
    acts = rng.normal(size=(24, 2, 10))
    acts[:, 1, :3] += 2 * labels[:, None]
    model = {"label": (labels[:, None] != labels[None]).astype(float)}
    table = rsa_layers(acts, model, n_perm=200, bootstrap=None, within=items, random_state=0)
    assert table.loc[table.layer == 1, "p_corr"].item() < 0.05
    assert table.loc[table.layer == 0, "p_corr"].item() > 0.05


@pytest.mark.parametrize("within, message", [
    (np.arange(3), r"one block label per stimulus \(8\)"),
    (np.arange(8), "every stimulus in its own block"),
], ids=["length", "singletons"])
def test_within_bad_input(within, message):
    with pytest.raises(ProbingError, match=message):
        draw_permutations(8, n_perm=10, within=within)
