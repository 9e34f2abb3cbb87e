"""compare_rdms against rsatoolbox and scipy; invariances; bad input."""

import numpy as np
import pytest
from scipy import stats

from probing._core.errors import ProbingError
from probing.rsa import METHODS, RDMs, compare_rdms
from probing.rsa.rdm_comparison import RSATOOLBOX_METHODS, tau_a


@pytest.fixture
def stacks(rng):
    a = rng.normal(size=(3, 66))
    b = rng.normal(size=(3, 66))
    b[1] = np.round(b[1])            # ties, as a graded model RDM has
    b[2] = (b[2] > 0).astype(float)  # a categorical model RDM: two values
    return a, b


@pytest.mark.parametrize("method", METHODS, ids=METHODS)
def test_equals_rsatoolbox(stacks, method):
    rsatoolbox = pytest.importorskip("rsatoolbox")
    a, b = stacks
    theirs = rsatoolbox.rdm.compare(rsatoolbox.rdm.RDMs(a), rsatoolbox.rdm.RDMs(b),
                                    method=RSATOOLBOX_METHODS[method])
    np.testing.assert_allclose(compare_rdms(a, b, comparison=method), theirs, rtol=0, atol=1e-10)


@pytest.mark.parametrize(("method", "reference"), [
    ("spearman", lambda x, y: stats.spearmanr(x, y).statistic),
    ("pearson", lambda x, y: stats.pearsonr(x, y).statistic),
    ("cosine", lambda x, y: x @ y / np.linalg.norm(x) / np.linalg.norm(y)),
], ids=["spearman", "pearson", "cosine"])
def test_equals_scipy_with_ties(stacks, method, reference):
    a, b = stacks
    expected = [[reference(x, y) for y in b] for x in a]
    np.testing.assert_allclose(compare_rdms(a, b, comparison=method), expected, atol=1e-12)


def test_tau_a_equals_scipy_kendall_without_ties(rng):
    x, y = rng.normal(size=45), rng.normal(size=45)
    assert tau_a(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)


def test_tau_a_counts_ties_as_zero():
    # 3 pairs of entries: (1,2) and (1,3) concordant, (2,3) tied in y -> 2/3 (tau-b: 0.816)
    assert tau_a([1, 2, 3], [0, 1, 1]) == pytest.approx(2 / 3)


def test_rho_a_equals_spearman_without_ties(rng):
    x, y = rng.normal(size=(1, 45)), rng.normal(size=(1, 45))
    np.testing.assert_allclose(compare_rdms(x, y, comparison="rho_a"),
                               compare_rdms(x, y, comparison="spearman"), atol=1e-12)


@pytest.mark.parametrize("method", METHODS, ids=METHODS)
def test_relabelling_stimuli_leaves_comparisons_unchanged(rng, method):
    ids = [f"c{i}" for i in range(9)]
    a = RDMs(rng.normal(size=(2, 36)), stimulus_ids=ids)
    b = RDMs(rng.normal(size=(1, 36)), stimulus_ids=ids)
    order = list(rng.permutation(ids))
    base = compare_rdms(a, b, comparison=method)
    np.testing.assert_allclose(compare_rdms(a.reorder(order), b.reorder(order), comparison=method),
                               base, atol=1e-12)
    # b in another order is aligned to a by label
    np.testing.assert_allclose(compare_rdms(a, b.reorder(order), comparison=method), base, atol=1e-12)


def test_constant_rdm_gives_nan_for_correlations(rng):
    assert np.isnan(compare_rdms(rng.normal(size=6), np.ones(6), comparison="pearson")[0, 0])
    assert np.isnan(compare_rdms(rng.normal(size=6), np.ones(6), comparison="tau_a")[0, 0])


def test_inputs_not_mutated(stacks):
    a, b = stacks
    copies = a.copy(), b.copy()
    for method in METHODS:
        compare_rdms(a, b, comparison=method)
    np.testing.assert_array_equal(a, copies[0])
    np.testing.assert_array_equal(b, copies[1])


def test_unknown_method(stacks):
    with pytest.raises(ProbingError, match=r"comparison must be one of \['spearman'.*got 'kendall'"):
        compare_rdms(*stacks, comparison="kendall")


def test_different_stimuli():
    a = RDMs([1.0, 2.0, 3.0], stimulus_ids="abc")
    b = RDMs([1.0, 2.0, 3.0], stimulus_ids="abd")
    with pytest.raises(ProbingError, match=r"must share their stimuli.*\['d'\] only in"):
        compare_rdms(a, b)


def test_different_lengths():
    with pytest.raises(ProbingError, match="stimulus_ids has 3 labels for 4 RDM rows"):
        compare_rdms(RDMs([1.0, 2.0, 3.0]), np.ones(6))


def test_every_method_agrees_a_constant_rdm_is_undefined(rng):
    # tau_a and rho_a scored a constant RDM 0 while spearman and pearson gave NaN, so a
    # bootstrap mixing methods read "no relation" off resamples that order nothing.
    x = rng.normal(size=10)
    for method in ("spearman", "pearson", "tau_a", "rho_a"):
        assert np.isnan(compare_rdms(x, np.full(10, 2.0), comparison=method)[0, 0]), method
    for method in METHODS:  # an all-zero RDM: nothing is defined
        assert np.isnan(compare_rdms(x, np.zeros(10), comparison=method)[0, 0]), method
