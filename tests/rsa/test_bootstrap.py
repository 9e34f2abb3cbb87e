"""Bootstraps over stimuli and items: weighted resamples equal rsatoolbox's
subsampling, intervals behave, bad input."""

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.rsa import bootstrap_items, bootstrap_stimuli, compare_rdms, compute_rdm
from probing.rsa.bootstrap import _stimulus_statistic
from probing.rsa.rdm_comparison import RSATOOLBOX_METHODS

RESAMPLED = ["spearman", "pearson", "tau_a", "rho_a", "cosine"]


@pytest.mark.parametrize("method", RESAMPLED, ids=RESAMPLED)
def test_resample_equals_rsatoolbox_subsample_pattern(rng, method):
    # rsatoolbox drops the pairs of a stimulus with its own copy (NaN) and keeps repeats
    rsatoolbox = pytest.importorskip("rsatoolbox")
    data, model = rng.normal(size=45), np.round(rng.normal(size=45))
    statistic = _stimulus_statistic(data, model, np.arange(10), 10, method)
    draws = rng.integers(0, 10, size=(4, 10))
    ours = statistic(draws.astype(float))
    for draw, value in zip(draws, ours, strict=True):
        a = rsatoolbox.rdm.RDMs(data[None].copy()).subsample_pattern("index", draw)
        b = rsatoolbox.rdm.RDMs(model[None].copy()).subsample_pattern("index", draw)
        theirs = rsatoolbox.rdm.compare(a, b, method=RSATOOLBOX_METHODS[method])[0, 0]
        assert value == pytest.approx(theirs, abs=1e-10)


def test_value_is_the_comparison_and_inside_the_interval(rng):
    model = rng.normal(size=(1, 66))
    data = model + rng.normal(size=(3, 66))
    res = bootstrap_stimuli(data, model, n_boot=300, random_state=0)
    np.testing.assert_allclose(res.value, compare_rdms(data, model), atol=1e-12)
    assert np.all(res.ci_low < res.value) and np.all(res.value < res.ci_high)
    assert res.ci_low.shape == (3, 1) and res.resample == "stimuli"


def test_planted_relation_excludes_zero(rng):
    model = rng.normal(size=190)
    res = bootstrap_stimuli(model + rng.normal(scale=0.5, size=190), model, n_boot=300,
                            random_state=0)
    assert res.ci_low[0, 0] > 0.5


def test_groups_resample_whole_groups(rng):
    model = rng.normal(size=66)
    data = model + rng.normal(size=66)
    groups = np.repeat(np.arange(4), 3)
    one = bootstrap_stimuli(data, model, groups=groups, n_boot=200, random_state=0)
    same = bootstrap_stimuli(data, model, groups=groups, n_boot=200, random_state=0)
    other = bootstrap_stimuli(data, model, n_boot=200, random_state=0)
    assert one.ci_low.tobytes() == same.ci_low.tobytes()
    assert one.ci_low[0, 0] != other.ci_low[0, 0]


def test_group_resample_equals_explicit_copies(rng):
    # Reference: build the resampled RDM by hand (one copy per draw), keeping pairs
    # across different copies and pairs inside one copy, dropping pairs across two
    # copies of the same group; then scipy's spearman on the kept pairs.
    from scipy import stats

    from probing.rsa import to_square

    groups = np.repeat(np.arange(4), 3)
    data, model = rng.normal(size=66), np.round(rng.normal(size=66))
    statistic = _stimulus_statistic(data, model, groups, 4, "spearman")
    square_d, square_m = to_square(data), to_square(model)
    for draw in rng.integers(0, 4, size=(5, 4)):
        copies = [(c, g) for c, g in enumerate(draw)]
        rows = [(c, i) for c, g in copies for i in np.flatnonzero(groups == g)]
        keep_d, keep_m = [], []
        for a in range(len(rows)):
            for b in range(a + 1, len(rows)):
                (ca, i), (cb, j) = rows[a], rows[b]
                if ca != cb and draw[ca] == draw[cb]:
                    continue  # two copies of one group
                # pairs inside a copy weigh (1 - 1/n) against 1 for pairs across two
                # groups (their expectations then match): repeated n - 1 : n times
                repeat = 3 if ca == cb else 4
                keep_d += [square_d[i, j]] * repeat
                keep_m += [square_m[i, j]] * repeat
        expected = stats.spearmanr(keep_d, keep_m)[0]
        assert statistic(draw[None].astype(float))[0] == pytest.approx(expected, abs=1e-10)


def test_group_interval_is_centred_despite_within_group_structure():
    # Pairs inside a group (the same lemma in singular and plural) are close in the data
    # whatever the model says. Weighted c**2 (twice on average) they pulled every
    # resample down and left the estimate near the top of its interval.
    from probing.rsa.rdm import pair_indices

    groups = np.repeat(np.arange(12), 4)
    rows, cols = pair_indices(groups.size)
    within = groups[rows] == groups[cols]
    positions = []
    for seed in range(8):
        r = np.random.default_rng(seed)
        model = r.integers(0, 2, size=rows.size).astype(float)
        model[within] = 1.0
        data = model + r.normal(size=rows.size)
        data[within] = -2.0
        res = bootstrap_stimuli(data, model, groups=groups, n_boot=400, random_state=seed)
        positions.append(float(((res.value - res.ci_low) / (res.ci_high - res.ci_low))[0, 0]))
    assert 0.35 < np.mean(positions) < 0.65, positions


def test_item_bootstrap_recovers_structure(rng):
    centres = rng.normal(size=(6, 20))
    X = np.repeat(centres, 8, axis=0) + rng.normal(scale=0.5, size=(48, 20))
    ids, items = np.repeat(list("abcdef"), 8), np.tile(np.arange(8), 6)
    model = compute_rdm(centres, stimulus_ids=list("abcdef"))
    stack = np.stack([X, rng.normal(size=X.shape)], axis=1)  # (n_rows, n_layers, n_units)
    res = bootstrap_items(stack, model, stimulus_ids=ids, items=items, n_boot=100,
                          random_state=0)
    assert res.resample == "items" and res.value.shape == (2, 1)
    assert res.ci_low[0, 0] > 0.5 and res.ci_low[1, 0] < 0.5
    # the order bootstrap_items took before 0.2 still works, with a warning (#14)
    with pytest.warns(DeprecationWarning, match="n_layers, n_rows, n_units"):
        old = bootstrap_items(np.swapaxes(stack, 0, 1), model, stimulus_ids=ids,
                              items=items, n_boot=100, random_state=0)
    np.testing.assert_array_equal(old.ci_low, res.ci_low)


def test_item_bootstrap_crossnobis_value_is_the_full_rdm(rng):
    X = rng.normal(size=(24, 10))
    ids, items = np.repeat(list("abcd"), 6), np.tile(np.arange(6), 4)
    model = rng.normal(size=6)
    res = bootstrap_items(X, model, stimulus_ids=ids, items=items, distance="crossnobis",
                          comparison="pearson", n_boot=20, random_state=0, dtype="float64")
    full = compute_rdm(X, distance="crossnobis", stimulus_ids=ids, folds=items,
                       dtype="float64")
    assert res.value[0, 0] == pytest.approx(compare_rdms(full, model, comparison="pearson")[0, 0])


def test_inputs_not_mutated(rng):
    data, model = rng.normal(size=(2, 45)), rng.normal(size=45)
    copies = data.copy(), model.copy()
    bootstrap_stimuli(data, model, n_boot=20, random_state=0)
    np.testing.assert_array_equal(data, copies[0])
    np.testing.assert_array_equal(model, copies[1])


def test_whitened_methods_refused(rng):
    with pytest.raises(ProbingError, match="'whitened_cosine' is not defined on resamples"):
        bootstrap_stimuli(rng.normal(size=10), rng.normal(size=10), comparison="whitened_cosine")


def test_groups_of_wrong_length(rng):
    with pytest.raises(ProbingError, match=r"groups must have one label per stimulus \(5\)"):
        bootstrap_stimuli(rng.normal(size=10), rng.normal(size=10), groups=[0, 1])


def test_too_few_units(rng):
    with pytest.raises(ProbingError, match="need at least 3 stimuli"):
        bootstrap_stimuli(rng.normal(size=10), rng.normal(size=10), groups=[0, 0, 0, 1, 1])


def test_items_of_wrong_length(rng):
    with pytest.raises(ProbingError, match=r"one label per row \(6\); got 6 and 2"):
        bootstrap_items(rng.normal(size=(6, 3)), rng.normal(size=3), stimulus_ids=list("aabbcc"),
                        items=[0, 1])


@pytest.mark.parametrize("method", RESAMPLED, ids=RESAMPLED)
def test_degenerate_resamples_are_counted_and_left_out(method):
    # 8 stimuli, a two-category model RDM: some resamples draw one category only and
    # the model is constant (all zero) over their pairs. Those made every interval NaN.
    rng = np.random.default_rng(0)
    category = np.repeat([0, 1], 4)
    model = compute_rdm(category[:, None].astype(float), distance="euclidean").values[0]
    data = model + rng.normal(size=model.size)
    res = bootstrap_stimuli(data, model, comparison=method, n_boot=300, random_state=0)
    assert 0 < res.n_degenerate[0, 0] < 300
    assert np.isfinite([res.ci_low[0, 0], res.ci_high[0, 0], res.std_err[0, 0]]).all()
    assert res.ci_low[0, 0] <= res.value[0, 0] <= res.ci_high[0, 0]


def test_no_degenerate_resample_counts_zero(rng):
    model = rng.normal(size=45)
    res = bootstrap_stimuli(model + rng.normal(size=45), model, n_boot=100, random_state=0)
    assert res.n_degenerate.tolist() == [[0]]


def test_estimate_inside_its_interval_with_identical_patterns_within_items():
    # rsa_layers(..., groups=item_ids) with the two stimuli of an item identical gave
    # -0.01083 outside [-0.01123, -0.01099] (stimuli) and [-0.0197, -0.0149] (items).
    from probing.rsa import rsa_layers

    rng = np.random.default_rng(0)
    items = np.repeat(np.arange(20), 2)
    acts = np.repeat(rng.normal(size=(20, 1, 30)), 2, axis=0)
    number = np.tile(["sg", "pl"], 20)
    model = {"number": (number[:, None] != number[None]).astype(float)}
    for bootstrap in ("stimuli", "items"):
        row = rsa_layers(acts, model, groups=items, n_perm=50, n_boot=300, random_state=0,
                         bootstrap=bootstrap).iloc[0]
        assert row.ci_low <= row.estimate <= row.ci_high, (bootstrap, row.estimate, row.ci_low)


def test_item_bootstrap_crossnobis_copies_share_a_fold():
    # Every stimulus has the same mean, so crossnobis distances are 0 on average. With
    # each copy of an item its own fold, a copy in the training mean and its twin in the
    # test mean made every resampled distance positive (cosine with a constant model
    # near +1, the estimate at the bottom of its interval).
    highs, inside = [], 0
    for seed in range(5):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(24, 10))
        ids, items = np.tile(list("abcd"), 6), np.repeat(np.arange(6), 4)
        res = bootstrap_items(X, np.ones(6), stimulus_ids=ids, items=items,
                              distance="crossnobis", comparison="cosine", n_boot=200,
                              random_state=0, dtype="float64")
        highs.append(res.ci_high[0, 0])
        inside += res.ci_low[0, 0] < res.value[0, 0] < res.ci_high[0, 0]
    assert np.mean(highs) < 0.9 and inside >= 4, (highs, inside)
