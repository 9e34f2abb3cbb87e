"""Interchange interventions on linear subspaces, and their accuracy per layer.

An interchange intervention on a subspace with orthonormal basis ``B`` (``d x k``)
replaces the component of the base run's hidden state in that subspace with the
source run's: ``h = h_base + (h_source - h_base) B B^T``. If the subspace carries a
variable of a causal model (e.g. the subject's number), the intervened run's output
should be the *counterfactual* one, what the causal model predicts when the variable
takes the source's value. Interchange-intervention accuracy (IIA, Geiger et al.) is
the fraction of interventions that give the counterfactual output.

Only linear maps are offered: non-linear alignment maps reach perfect IIA even on
randomly initialised models (Sutter et al. 2025). The controls are rows of the same
table: a control task (counterfactual labels from a random type-to-label map,
:func:`make_control_counterfactuals`), the re-initialised model, and random subspaces
of the same dimension (:func:`random_subspaces`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.causal._checks import (
    as_array,
    check_labels,
    check_options,
    group_codes,
)
from probing.causal._resample import draw_group_counts, group_sums, ratio_intervals

__all__ = ["IIA_COLUMNS", "interchange", "interchange_accuracy",
           "make_control_counterfactuals", "mean_difference_subspace", "probe_subspace",
           "random_subspaces"]

#: Columns of :func:`interchange_accuracy`.
IIA_COLUMNS = ("layer", "subspace", "task", "model_weights", "metric", "estimate", "ci_low",
               "ci_high", "n", "n_repeats")
_RANK_TOL = 1e-10


def _orthonormal_rows(vectors, func):
    """Orthonormal basis (columns) of the span of ``vectors`` (rows), by SVD."""
    _, s, vt = np.linalg.svd(vectors, full_matrices=False)
    keep = s > _RANK_TOL * max(1.0, s.max(initial=0.0))
    if not keep.any():
        raise ProbingError(f"{func}: the vectors span nothing (all zero)")
    return vt[keep].T


def probe_subspace(weights):
    """Orthonormal basis of the span of a linear probe's weight vectors.

    Parameters
    ----------
    weights : array_like of shape (n_units,) or (n_directions, n_units)
        ``coef_`` of a linear probe (one row per class for a multinomial probe).

    Returns
    -------
    numpy.ndarray of shape (n_units, rank)

    Examples
    --------
    >>> bool(np.allclose(probe_subspace([3.0, 0.0, 4.0]).ravel(), [0.6, 0.0, 0.8]))
    True
    """
    weights = np.atleast_2d(as_array(weights, "weights", "probe_subspace", ndim=(1, 2)))
    basis = _orthonormal_rows(weights, "probe_subspace")
    # A sign convention so that the first direction points along the first weight vector.
    return basis * np.where(weights[0] @ basis < 0, -1.0, 1.0)


def mean_difference_subspace(X, labels):
    """Basis of the span of the class means' differences from the grand mean.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_units)
        Activations at one layer.
    labels : array_like of shape (n_samples,)
        Class of each row (two or more classes).

    Returns
    -------
    numpy.ndarray of shape (n_units, n_classes - 1)
        For two classes, the unit vector along ``mean(class 1) - mean(class 0)``
        (classes in sorted order).

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [0.0, 3.0], [2.0, 1.0], [2.0, 3.0]])
    >>> bool(np.allclose(mean_difference_subspace(X, ["sg", "sg", "pl", "pl"]).ravel(), [-1, 0]))
    True
    """
    func = "mean_difference_subspace"
    X = as_array(X, "X", func, ndim=2)
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise ProbingError(f"{func}: labels must have one entry per row of X ({X.shape[0]}), "
                           f"got shape {labels.shape}")
    classes, codes = np.unique(labels, return_inverse=True)
    if classes.size < 2:
        raise ProbingError(f"{func}: need at least two classes, got {classes.tolist()}")
    means = np.stack([X[codes == c].mean(axis=0) for c in range(classes.size)])
    diffs = means[1:] - means[0]
    basis = _orthonormal_rows(diffs, func)
    return basis * np.where(diffs[0] @ basis < 0, -1.0, 1.0)


def random_subspaces(n_units, rank, *, n_subspaces=1, random_state=0):
    """Uniformly random (Haar) orthonormal bases: the control for a found subspace.

    Parameters
    ----------
    n_units : int
    rank : int
        Dimension of each subspace (that of the subspace it controls for).
    n_subspaces : int, default 1
    random_state : int, numpy.random.Generator or None, default 0

    Returns
    -------
    numpy.ndarray of shape (n_subspaces, n_units, rank)

    Examples
    --------
    >>> bases = random_subspaces(5, 2, n_subspaces=3)
    >>> bases.shape, np.allclose(bases[0].T @ bases[0], np.eye(2))
    ((3, 5, 2), True)
    """
    for name, value in (("n_units", n_units), ("rank", rank), ("n_subspaces", n_subspaces)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ProbingError(f"random_subspaces: {name} must be a positive integer, "
                               f"got {value!r}")
    if rank > n_units:
        raise ProbingError(f"random_subspaces: rank {rank} exceeds n_units {n_units}")
    rng = np.random.default_rng(random_state)
    gauss = rng.standard_normal((int(n_subspaces), int(n_units), int(rank)))
    q, r = np.linalg.qr(gauss)
    # Fixing the signs of R's diagonal makes Q Haar-distributed (Mezzadri 2007).
    return q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]


def _check_basis(basis, n_units, func):
    basis = as_array(basis, "basis", func, ndim=2)
    if basis.shape[0] != n_units:
        raise ProbingError(f"{func}: basis has {basis.shape[0]} rows, activations have "
                           f"{n_units} units")
    gram = basis.T @ basis
    if not np.allclose(gram, np.eye(basis.shape[1]), atol=1e-6):
        raise ProbingError(f"{func}: basis columns must be orthonormal (B^T B = I); build "
                           f"it with probe_subspace, mean_difference_subspace or "
                           f"random_subspaces")
    return basis


def interchange(base, source, basis):
    """Hidden states with the ``basis`` subspace taken from the source run.

    Parameters
    ----------
    base, source : array_like of shape (n, n_units)
        Hidden states of the base and source runs at one layer and position.
    basis : array_like of shape (n_units, rank)
        Orthonormal columns.

    Returns
    -------
    numpy.ndarray of shape (n, n_units)
        ``base + (source - base) @ basis @ basis.T``; its projection on the subspace is
        the source's, its orthogonal complement the base's.

    Examples
    --------
    >>> interchange([[1.0, 2.0]], [[5.0, 7.0]], [[1.0], [0.0]])
    array([[5., 2.]])
    """
    base = as_array(base, "base", "interchange", ndim=2)
    source = as_array(source, "source", "interchange", ndim=2)
    if base.shape != source.shape:
        raise ProbingError(f"interchange: base {base.shape} and source {source.shape} differ")
    basis = _check_basis(basis, base.shape[1], "interchange")
    return base + ((source - base) @ basis) @ basis.T


def make_control_counterfactuals(source_types, *, n_classes=2, random_state=0):
    """Counterfactual labels of a control task: a random label per source type.

    The control causal model assigns each word type (e.g. the source's subject noun)
    a random class, consistently across its occurrences (Hewitt & Liang 2019's control
    task, carried over to interventions): a subspace that reaches high IIA on it
    encodes the types, not the variable.

    Parameters
    ----------
    source_types : array_like of shape (n_pairs,)
    n_classes : int, default 2
    random_state : int, numpy.random.Generator or None, default 0

    Returns
    -------
    numpy.ndarray of shape (n_pairs,)
        Integer labels in ``[0, n_classes)``, equal for equal types.

    Examples
    --------
    >>> labels = make_control_counterfactuals(["key", "dog", "key"])
    >>> bool(labels[0] == labels[2])
    True
    """
    types = np.asarray(source_types, dtype=object)
    if types.ndim != 1 or pd.isna(types).any():
        raise ProbingError("make_control_counterfactuals: source_types must be 1-D with no "
                           "missing values")
    if isinstance(n_classes, bool) or int(n_classes) != n_classes or n_classes < 2:
        raise ProbingError(f"make_control_counterfactuals: n_classes must be an integer >= 2,"
                           f" got {n_classes!r}")
    codes, uniques = pd.factorize(types, sort=True)
    per_type = np.random.default_rng(random_state).integers(0, int(n_classes), len(uniques))
    return per_type[codes]


def interchange_accuracy(predicted, expected, *, layers=None, subspace="probe", task="task",
                         model_weights="trained", groups=None, n_boot=2000, ci=0.95,
                         random_state=0):
    """IIA per layer: how often the intervened run gives the counterfactual output.

    Parameters
    ----------
    predicted : array_like of shape (n_pairs, n_layers) or (n_pairs, n_layers, n_repeats)
        The intervened model's output per pair (base, source) and layer (a label, or a
        token id); with ``n_repeats`` one column per random subspace.
    expected : array_like of shape (n_pairs,)
        The counterfactual output (from the causal model, or the control task's).
    layers : sequence, optional
        Labels of the layer axis (default ``0..n_layers-1``).
    subspace : str, default "probe"
        Which map: ``probe``, ``mean_difference``, ``das``, ``random`` (copied into the
        table).
    task : {"task", "control"} or str, default "task"
    model_weights : {"trained", "reinitialised"} or str, default "trained"
    groups : array_like of shape (n_pairs,), optional
        ``item_id`` of each pair; whole items are resampled.
    n_boot, ci, random_state
        Item bootstrap; with repeats, a pair's score is its mean over repeats.

    Returns
    -------
    pandas.DataFrame
        ``layer, subspace, task, model_weights, metric, value, ci_low, ci_high, n,
        n_repeats`` with ``metric = "iia"``; concatenate the tables of the task and its
        controls into one.

    Examples
    --------
    >>> expected = np.tile([0, 1], 10)
    >>> predicted = np.stack([1 - expected, expected], axis=1)    # only layer 1 works
    >>> interchange_accuracy(predicted, expected, n_boot=100)[["layer", "estimate"]]
       layer  estimate
    0      0       0.0
    1      1       1.0
    """
    func = "interchange_accuracy"
    check_options(func, n_boot=n_boot, ci=ci)
    predicted, expected = np.asarray(predicted), np.asarray(expected)
    if predicted.ndim not in (2, 3) or expected.shape != predicted.shape[:1]:
        raise ProbingError(f"{func}: predicted must be (n_pairs, n_layers[, n_repeats]) and "
                           f"expected (n_pairs,); got {predicted.shape} and {expected.shape}")
    if predicted.shape[0] == 0:
        raise ProbingError(f"{func}: no pairs given")
    if pd.isna(predicted).any() or pd.isna(expected).any():
        raise ProbingError(f"{func}: predicted and expected may not hold missing values")
    predicted = predicted if predicted.ndim == 3 else predicted[:, :, None]
    labels = check_labels(func, "layers", layers, predicted.shape[1])
    correct = (predicted == expected[:, None, None]).mean(axis=2)
    codes = group_codes(groups, correct.shape[0], func)
    n_groups = int(codes.max()) + 1
    est, low, high = ratio_intervals(
        group_sums(correct, codes, n_groups), group_sums(np.ones_like(correct), codes, n_groups),
        draw_group_counts(n_groups, int(n_boot), random_state), ci)
    return pd.DataFrame({"layer": labels, "subspace": subspace, "task": task,
                         "model_weights": model_weights, "metric": "iia", "estimate": est,
                         "ci_low": low, "ci_high": high, "n": correct.shape[0],
                         "n_repeats": predicted.shape[2]})[list(IIA_COLUMNS)]
