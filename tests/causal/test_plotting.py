"""plot_patching: draws the sweep it was given on the Axes it was given, refuses ambiguity."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.causal import patching_effects, plot_patching


@pytest.fixture
def table(rng):
    clean, corrupted = rng.normal(2, 0.1, 20), rng.normal(-1, 0.1, 20)
    patched = np.repeat(corrupted[:, None, None, None], 4, axis=1).repeat(3, axis=2)
    patched = np.repeat(patched, 2, axis=3)
    patched[:, 2, 1, :] = clean[:, None]
    return patching_effects(clean, corrupted, patched, direction="denoising",
                            positions=["subj", "pp", "verb"], sites=["resid_post", "mlp_out"],
                            n_boot=50)


def test_heatmap_holds_the_effects_in_layer_by_position_order(table):
    fig, ax = plt.subplots()
    rows = table[table["site"] == "resid_post"]
    out = plot_patching(rows, ax=ax)
    assert out is ax
    image = ax.get_images()[0].get_array()
    assert image.shape == (4, 3)
    assert np.unravel_index(np.argmax(image), image.shape) == (2, 1)
    assert image[2, 1] == pytest.approx(1.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["subj", "pp", "verb"]
    plt.close(fig)


def test_new_axes_when_none_given(table):
    ax = plot_patching(table[table["site"] == "mlp_out"], metric="logprob_diff")
    assert ax.get_ylabel() == "layer"
    plt.close(ax.figure)


def test_two_sites_at_once_is_refused(table):
    with pytest.raises(ProbingError, match=r"select one value of \['site'\]"):
        plot_patching(table)


def test_unknown_metric_is_refused(table):
    with pytest.raises(ProbingError, match="no rows with metric 'accuracy'"):
        plot_patching(table, metric="accuracy")


def test_long_sweeps_get_slanted_thinned_labels(rng):
    n = 75  # token positions of a long stimulus
    clean, corrupted = rng.normal(2, 0.1, 5), rng.normal(-1, 0.1, 5)
    patched = np.repeat(corrupted[:, None, None, None], 2, axis=1).repeat(n, axis=2)
    table = patching_effects(clean, corrupted, patched, direction="denoising",
                             positions=[f"{i}:token{i}" for i in range(n)], n_boot=10)
    ax = plot_patching(table)
    labels = ax.get_xticklabels()
    assert [t.get_text() for t in labels] == [f"{i}:token{i}" for i in range(0, n, 3)]
    assert all(t.get_rotation() == 45 for t in labels)
    assert ax.get_images()[0].get_array().shape == (2, n)  # every column is still drawn
    plt.close(ax.figure)
