"""Unit responses from the activation store."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.localize import build_unit_responses, pool_words
from probing.store import Activations


def _acts(rng, level="sentence"):
    values = rng.normal(size=(5, 3, 4)).astype(np.float32)
    index = pd.DataFrame({"stimulus_id": list("abcde")})
    if level == "word":
        index = pd.DataFrame({"stimulus_id": list("aabbb"), "word_index": [0, 1, 0, 1, 2],
                              "word": list("vwxyz")})
    return Activations(values, index, layers=(0, 2, 4), site="mlp_out", pooling="mean",
                       level=level)


def test_responses_lay_layers_side_by_side(rng):
    acts = _acts(rng)
    raw, units = build_unit_responses(acts)
    absolute, _ = build_unit_responses(acts, absolute=True)
    assert raw.shape == (5, 12) and raw.dtype == np.float64
    row = units.index[(units["layer"] == 2) & (units["unit"] == 3)].item()
    np.testing.assert_array_equal(raw[:, row], acts.layer(2)[:, 3])
    np.testing.assert_array_equal(absolute, np.abs(raw))
    assert (units["site"] == "mlp_out").all() and list(units.columns) == ["layer", "site", "unit"]


def test_pool_words_means_every_word_equally(rng):
    words = _acts(rng, level="word")
    pooled = pool_words(words)
    np.testing.assert_allclose(pooled.values[0], np.asarray(words.values[:2]).mean(0), rtol=1e-6)
    np.testing.assert_allclose(pooled.values[1], np.asarray(words.values[2:]).mean(0), rtol=1e-6)
    assert pooled.index["stimulus_id"].tolist() == ["a", "b"] and pooled.pooling == "words:mean"


def test_bad_levels(rng):
    with pytest.raises(ProbingError, match="pool word rows first with pool_words"):
        build_unit_responses(_acts(rng, level="word"))
    with pytest.raises(ProbingError, match="pool_words needs word-level activations"):
        pool_words(_acts(rng))
    with pytest.raises(ProbingError, match="acts must be an Activations; got ndarray"):
        build_unit_responses(np.zeros((2, 2, 2)))
