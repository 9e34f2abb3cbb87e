"""Amnesic probing: erasing the concept a behaviour reads loses it; random erasures do not."""

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.causal import AMNESIC_COLUMNS, LeaceEraser, RandomEraser, amnesic_effect


def test_erasing_the_read_concept_loses_the_behaviour_random_erasure_does_not(rng):
    # A tiny model: the behaviour (log-prob difference) reads the number direction.
    n, d = 300, 16
    number = rng.integers(0, 2, n)
    direction = rng.normal(size=d)
    hidden = rng.normal(size=(n, d)) + 2.0 * np.outer(2 * number - 1, direction)
    readout = direction / np.linalg.norm(direction)

    def behaviour(h):   # positive when the model prefers the correct verb form
        return (2 * number - 1) * (h @ readout)

    leace = LeaceEraser().fit(hidden, number)
    randoms = [RandomEraser(rank=leace.rank_, random_state=s).fit(hidden) for s in range(99)]
    table = amnesic_effect(behaviour(hidden), behaviour(leace.transform(hidden)),
                           np.stack([behaviour(e.transform(hidden)) for e in randoms]),
                           chance=0.0, alternative="less", n_boot=500)
    assert tuple(table.columns) == AMNESIC_COLUMNS
    got = table.set_index("erasure")
    assert got.loc["leace", "fraction_lost"] > 0.9
    assert got.loc["random", "fraction_lost"] < 0.2
    assert got.loc["leace", "p_val"] == pytest.approx(0.01)
    assert got.loc["leace", "ci_high"] < got.loc["random", "ci_low"]


def test_values_are_the_means_they_name(rng):
    before, after = rng.normal(1, 1, 30), rng.normal(0, 1, 30)
    random_after = rng.normal(0.8, 1, (19, 30))
    table = amnesic_effect(before, after, random_after, chance=0.5, n_boot=50)
    leace, rand = table.iloc[0], table.iloc[1]
    assert leace["estimate"] == pytest.approx(np.mean(after - before))
    assert rand["estimate"] == pytest.approx(np.mean(random_after - before))
    assert leace["fraction_lost"] == pytest.approx((before.mean() - after.mean())
                                                   / (before.mean() - 0.5))
    assert np.isnan(amnesic_effect(before, after, random_after, n_boot=10)["fraction_lost"]).all()


@pytest.mark.parametrize(("change", "message"), [
    ({"after": np.zeros(3)}, "after has 3 rows, expected 4"),
    ({"random_after": np.zeros(4)}, "random_after must have 2 dimensions"),
    ({"random_after": np.zeros((2, 5))}, r"random_after must be \(n_sets, 4\)"),
    ({"chance": np.nan}, "chance must be a finite number"),
], ids=["lengths", "ndim", "shape", "chance"])
def test_bad_input_names_the_field(change, message):
    args = {"before": np.ones(4), "after": np.zeros(4), "random_after": np.zeros((3, 4))}
    args.update(change)
    with pytest.raises(ProbingError, match=message):
        amnesic_effect(args.pop("before"), args.pop("after"), args.pop("random_after"),
                       n_boot=10, **args)
