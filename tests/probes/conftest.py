"""Synthetic designs for the probe tests: small, seeded, with a known answer."""

import numpy as np
import pandas as pd
import pytest

from probing.store import Activations


def planted(n_rows=120, n_layers=4, n_units=6, signal_layer=2, strength=2.0, n_classes=2,
            random_state=0):
    """Activations where only ``signal_layer`` encodes the label (in unit 0)."""
    rng = np.random.default_rng(random_state)
    labels = np.arange(n_rows) % n_classes
    values = rng.normal(size=(n_rows, n_layers, n_units))
    values[:, signal_layer, 0] += strength * labels
    return values, labels


@pytest.fixture
def word_activations():
    """Word-level Activations: 40 word types x 4 tokens, a type-level binary label."""
    rng = np.random.default_rng(1)
    words = [f"Word{t}" if t % 3 else f"word{t}" for t in range(40) for _ in range(4)]
    type_ids = np.repeat(np.arange(40), 4)
    labels = np.where(type_ids % 2 == 0, "NOUN", "VERB")
    values = rng.normal(size=(160, 3, 5)).astype(np.float32)
    values[:, 1, 0] += 2.0 * (labels == "NOUN")
    index = pd.DataFrame({"stimulus_id": [f"s{i // 8}" for i in range(160)],
                          "word_index": np.arange(160) % 8, "word": words})
    acts = Activations(values, index, layers=(0, 6, 12), site="resid_post", pooling="mean",
                       level="word")
    return acts, labels
