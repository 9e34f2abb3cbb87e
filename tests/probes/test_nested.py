"""Nested layer choice: the held-out suite never enters the choice; scores as held out."""

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.probes.heldout import heldout_folds, heldout_scores
from probing.probes.nested import nested_heldout_scores


def _design(seed=0, n_per_cell=4):
    """4 suites x 3 templates; each item an injected (1), a clean (0) and an unlabelled row."""
    rng = np.random.default_rng(seed)
    cells = [(s, t) for s in ("s0", "s1", "s2", "s3") for t in ("t0", "t1", "t2")]
    rows = [(s, t, f"{s}-{t}-{k}", y) for s, t in cells for k in range(n_per_cell)
            for y in (0.0, 1.0, np.nan)]
    suite, template, item, y = (np.array(c) for c in zip(*rows, strict=True))
    X = rng.normal(size=(len(y), 3, 6))
    X[:, 0, 0] += 0.8 * np.nan_to_num(y)  # a weak signal at layer 0 in every suite
    return suite, template, item, y.astype(float), X


def _choices(X, y, suite, template, probe="logistic"):
    out = nested_heldout_scores(X, y, [suite, template], probe=probe, names=["suite", "template"])
    return out, out.choices.set_index(["suite", "template"])


@pytest.mark.parametrize("probe", ["logistic", "ridge_classifier"])
def test_a_signal_planted_only_in_the_held_out_suite_never_moves_its_choice(probe):
    suite, template, _, y, X = _design()
    _, before = _choices(X, y, suite, template, probe)
    planted = X.copy()
    in_s3 = suite == "s3"
    planted[in_s3, 2, 1] += 6.0 * np.nan_to_num(y[in_s3])  # layer 2 separates, in s3 only
    _, after = _choices(planted, y, suite, template, probe)
    held_out = before.loc["s3"]
    assert after.loc["s3", "layer"].tolist() == held_out["layer"].tolist()
    np.testing.assert_array_equal(after.loc["s3", "estimate"], held_out["estimate"])
    # changing the held-out suite's labels as well changes nothing about its choice
    shuffled = y.copy()
    shuffled[in_s3] = np.random.default_rng(1).permutation(y[in_s3])
    _, relabelled = _choices(planted, shuffled, suite, template, probe)
    np.testing.assert_array_equal(relabelled.loc["s3", "estimate"], held_out["estimate"])
    # the same signal in every suite is found, so the planted layer was choosable
    everywhere = X.copy()
    everywhere[:, 2, 1] += 6.0 * np.nan_to_num(y)
    _, seen = _choices(everywhere, y, suite, template, probe)
    assert set(seen["layer"]) == {2}


def test_scores_are_the_outer_folds_held_out_scores_at_the_chosen_layer():
    suite, template, _, y, X = _design(seed=3)
    out = nested_heldout_scores(X, y, [suite, template], probe="ridge_classifier",
                                layers=[4, 8, 12])
    folds = heldout_folds(suite, template)
    # the batched fits equal the package's per-layer estimator fitted fold by fold
    np.testing.assert_allclose(out.by_layer, heldout_scores(X, y, folds, probe="ridge_classifier"),
                               atol=1e-8)
    for (_, test), layer in zip(folds, out.choices["layer"], strict=True):
        np.testing.assert_array_equal(out.scores[test], out.by_layer[test, [4, 8, 12].index(layer)])
    assert not np.isnan(out.scores).any()
    assert len(out.choices) == 12 and set(out.choices["metric"]) == {"inner_auc"}


def test_bad_input_messages():
    suite, template, _, y, X = _design()
    with pytest.raises(ProbingError, match="at least 2 values"):
        nested_heldout_scores(X, y, [np.where(suite == "s0", "a", "b")])
    with pytest.raises(ProbingError, match="labels must be 0, 1 or NaN"):
        nested_heldout_scores(X, np.full(len(y), 2.0), [suite])
    with pytest.raises(ProbingError, match="layer numbers"):
        nested_heldout_scores(X, y, [suite], layers=[0, 1])
    with pytest.raises(ProbingError, match="activations must be"):
        nested_heldout_scores(X[:, 0], y, [suite])
