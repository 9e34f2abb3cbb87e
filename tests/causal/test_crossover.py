"""locate_crossover: the layer where a patching effect moves between two positions."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.causal import CROSSOVER_COLUMNS, locate_crossover, patching_effects


def _table(effects):
    """A patching table from {position: [effect per layer]} with the real columns."""
    rng = np.random.default_rng(0)
    n = 12
    clean, corrupted = rng.normal(2, 0.1, n), rng.normal(-2, 0.1, n)
    fractions = np.stack([np.asarray(v) for v in effects.values()], axis=1)  # layers x pos
    patched = corrupted[:, None, None] + fractions[None] * (clean - corrupted)[:, None, None]
    return patching_effects(clean, corrupted, patched[..., None], direction="denoising",
                            positions=list(effects), n_boot=50)


def test_planted_move_is_found_at_its_layer():
    table = _table({"subject": [1.0, 0.9, 0.8, 0.3, 0.0, 0.0],
                    "verb": [0.0, 0.1, 0.2, 0.7, 1.0, 1.0]})
    out = locate_crossover(table, from_position="subject", to_position="verb")
    assert list(out.columns) == list(CROSSOVER_COLUMNS)
    assert out["layer"].tolist() == list(range(6))
    assert out["moved"].tolist() == [False, False, False, True, True, True]
    np.testing.assert_allclose(out["from_effect"], [1.0, 0.9, 0.8, 0.3, 0.0, 0.0], atol=1e-9)


def test_a_later_reversal_is_not_a_move():
    table = _table({"subject": [1.0, 0.2, 0.9], "verb": [0.0, 0.8, 0.1]})
    out = locate_crossover(table, from_position="subject", to_position="verb")
    assert not out["moved"].any()


def test_input_not_mutated_and_rows_order_free():
    table = _table({"a": [1.0, 0.0], "b": [0.0, 1.0]})
    copy = table.copy()
    shuffled = table.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(locate_crossover(shuffled, from_position="a", to_position="b"),
                                  locate_crossover(table, from_position="a", to_position="b"))
    pd.testing.assert_frame_equal(table, copy)


@pytest.mark.parametrize("kwargs,message", [
    ({"from_position": "x", "to_position": "b"}, "no 'restored_fraction' rows at position 'x'"),
    ({"from_position": "a", "to_position": "b", "metric": "nope"}, "no 'nope' rows"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ProbingError, match=message):
        locate_crossover(_table({"a": [1.0, 0.0], "b": [0.0, 1.0]}), **kwargs)


def test_missing_columns():
    with pytest.raises(ProbingError, match="lacks column"):
        locate_crossover(pd.DataFrame({"layer": [0]}), from_position="a", to_position="b")


def test_head_missing_as_read_from_csv(tmp_path):
    table = _table({"a": [1.0, 0.0], "b": [0.0, 1.0]}).assign(head=-1)
    table.assign(head=None).to_csv(tmp_path / "patching.csv", index=False)
    read = pd.read_csv(tmp_path / "patching.csv")
    pd.testing.assert_frame_equal(locate_crossover(read, from_position="a", to_position="b"),
                                  locate_crossover(table, from_position="a", to_position="b"))
    with pytest.raises(ProbingError, match="per-head rows"):
        locate_crossover(table.assign(head=2), from_position="a", to_position="b")
