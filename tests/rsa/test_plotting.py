"""Figures return their Axes, carry the labels and never call show."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.rsa import RDMs, plot_rdm, plot_rsa_layers, rsa_layers


@pytest.fixture(autouse=True)
def _close_figures(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("show() called"))
    yield
    plt.close("all")


def test_plot_rdm_labels_and_values():
    rdm = RDMs([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], stimulus_ids=["sg", "pl", "x"])
    fig, ax = plt.subplots()
    assert plot_rdm(rdm, index=1, ax=ax) is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == ["sg", "pl", "x"]
    np.testing.assert_array_equal(ax.images[0].get_array(), rdm.to_square()[1])


def test_plot_rdm_hides_crowded_labels(rng):
    ax = plot_rdm(rng.random(100 * 99 // 2), colorbar=False)
    assert len(ax.get_xticks()) == 0


def test_plot_rsa_layers_marks_significant_layers(rng):
    X = rng.normal(size=(12, 3, 20))
    labels = np.repeat([0, 1], 6)
    X[:, 1, :10] += 3 * labels[:, None]
    table = rsa_layers(X, {"label": (labels[:, None] != labels).astype(float)}, n_perm=200,
                       n_boot=50, random_state=0)
    ax = plot_rsa_layers(table)
    lines = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    assert lines[0].get_xdata().tolist() == [1]  # the filled marker: layer 1 only
    assert len(ax.collections) == 1              # the CI band
    assert "spearman" in ax.get_ylabel()


def test_plot_rdm_bad_index():
    with pytest.raises(ProbingError, match=r"index must be in \[0, 1\), got 3"):
        plot_rdm(RDMs([1.0, 2.0, 3.0]), index=3)


def test_plot_rsa_layers_bad_table():
    with pytest.raises(ProbingError, match=r"missing column\(s\) \['model_rdm'\]"):
        plot_rsa_layers(pd.DataFrame({"layer": [0], "estimate": [0.1]}))
