"""Held-out response profile: against a hand computation, planted conditions, bad input."""

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.localize import PROFILE_COLUMNS, build_response_profile


def _data(rng, n_items=30, n_units=12):
    conditions = np.tile(["sentences", "jabberwocky", "word_lists", "nonwords"], n_items)
    halves = np.repeat(np.arange(n_items) % 2, 4).astype(str)
    responses = rng.normal(size=(len(conditions), n_units)) * rng.uniform(1, 50, n_units)
    return responses, conditions, halves


def test_profile_equals_a_hand_computation(rng):
    responses, conditions, halves = _data(rng)
    chosen = {"0": np.arange(12) < 3, "1": np.arange(12) % 4 == 0}
    out = build_response_profile(responses, conditions, halves, chosen, n_boot=200)
    assert list(out.columns) == list(PROFILE_COLUMNS)
    row = out.query("selected_on == '0' and condition == 'word_lists' and metric == 'response_z'")
    held = responses[halves == "1"][:, chosen["0"]]
    z = (held - held.mean(0)) / held.std(0)
    expected = z[conditions[halves == "1"] == "word_lists"].mean(1).mean()
    assert row["estimate"].item() == pytest.approx(expected)
    assert row["measured_on"].item() == "1" and row["n"].item() == 15
    assert row["n_selected"].item() == 3
    raw = out.query("selected_on == '1' and condition == 'nonwords' and metric == 'response'")
    held = responses[halves == "0"][:, chosen["1"]]
    assert raw["estimate"].item() == pytest.approx(held[conditions[halves == "0"] == "nonwords"].mean())
    assert (out["ci_low"] <= out["estimate"]).all() and (out["estimate"] <= out["ci_high"]).all()


def test_planted_profile_orders_the_conditions(rng):
    # units that respond to structure and to meaning: sentences > jabberwocky ~ word lists
    responses, conditions, halves = _data(rng)
    bump = {"sentences": 2.0, "jabberwocky": 1.0, "word_lists": 1.0, "nonwords": 0.0}
    responses[:, :4] = rng.normal(size=(len(conditions), 4)) + np.vectorize(bump.get)(
        conditions)[:, None]
    chosen = {"0": np.arange(12) < 4, "1": np.arange(12) < 4}
    out = build_response_profile(responses, conditions, halves, chosen, n_boot=200)
    for half in ("0", "1"):
        z = out.query(f"selected_on == '{half}' and metric == 'response_z'").set_index("condition")
        assert z.loc["sentences", "ci_low"] > z.loc["word_lists", "ci_high"]
        assert z.loc["jabberwocky", "ci_low"] > z.loc["nonwords", "ci_high"]


def test_stimulus_order_does_not_matter(rng):
    responses, conditions, halves = _data(rng)
    chosen = {"0": np.arange(12) < 3, "1": np.arange(12) < 5}
    order = rng.permutation(len(conditions))
    first = build_response_profile(responses, conditions, halves, chosen, n_boot=10)
    again = build_response_profile(responses[order], conditions[order], halves[order], chosen,
                                   n_boot=10)
    key = ["selected_on", "condition", "metric"]
    a, b = (t.sort_values(key).reset_index(drop=True) for t in (first, again))
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-12)


def test_bad_input(rng):
    responses, conditions, halves = _data(rng)
    with pytest.raises(ProbingError, match=r"selections for exactly the two halves \['0', '1'\]; "
                                           r"got \['0'\]"):
        build_response_profile(responses, conditions, halves, {"0": np.ones(12, bool)})
    with pytest.raises(ProbingError, match="responses have 10 rows for 120 conditions"):
        build_response_profile(responses[:10], conditions, halves,
                               {"0": np.ones(12, bool), "1": np.ones(12, bool)})
