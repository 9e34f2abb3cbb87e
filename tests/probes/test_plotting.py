"""plot_probe_layers: returns the Axes it drew on, never shows, marks significant layers."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.probes import (
    control_task_layers,
    permutation_test_layers,
    plot_probe_layers,
    probe_layers,
)


def test_task_control_selectivity_and_significance_are_drawn(word_activations):
    acts, labels = word_activations
    table = control_task_layers(acts, labels, cv=4, seeds=(0, 1))
    pvalues = permutation_test_layers(acts, labels, cv=4, n_perm=199)
    fig, ax = plt.subplots()
    out = plot_probe_layers(table, pvalues=pvalues, ax=ax)
    assert out is ax
    labels_drawn = [line.get_label() for line in ax.get_lines()]
    assert {"task", "control task", "selectivity", "majority class"} <= set(labels_drawn)
    stars = [line for line in ax.get_lines() if line.get_label().startswith("permutation test")][0]
    assert list(stars.get_xdata()) == [6]
    plt.close(fig)


def test_a_plain_sweep_draws_only_the_task():
    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 20)
    ax = plot_probe_layers(probe_layers(rng.normal(size=(40, 2, 3)), y, groups=None, cv=2))
    assert "control task" not in [line.get_label() for line in ax.get_lines()]
    plt.close(ax.figure)


def test_several_probes_are_an_error():
    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 10)
    t = probe_layers(rng.normal(size=(20, 1, 2)), y, groups=None, cv=2)
    with pytest.raises(ProbingError, match="must hold one probe"):
        plot_probe_layers(t.assign(probe=["a", "b"] * (len(t) // 2)))
