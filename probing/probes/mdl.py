"""Minimum description length probing with the online code (Voita & Titov 2020).

The labels are transmitted block by block, in a random order fixed by ``random_state``:
the first block (0.1 % of the rows) with the uniform code, ``log2 K`` bits per label;
every later block with a probe trained from scratch on all the rows before it, costing
``-log2 p(y)`` bits per label. A representation from which the labels are easy to
extract compresses them: ``compression = uniform codelength / online codelength``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier

from probing._core.defaults import RANDOM_STATE
from probing._core.errors import ProbingError
from probing.probes._inputs import check_labels, check_probe, check_source

__all__ = ["FRACTIONS", "MDL_COLUMNS", "compute_online_codelength", "mdl_layers"]

#: Block ends in percent of the rows (Voita & Titov 2020).
FRACTIONS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.25, 12.5, 25.0, 50.0, 100.0)
#: Columns of :func:`mdl_layers`.
MDL_COLUMNS = ("layer", "probe", "metric", "estimate")


def compute_online_codelength(X, labels, *, probe="logistic", smoothing=1e-3, random_state=RANDOM_STATE):
    """Online codelength of ``labels`` given ``X``, in bits.

    Parameters
    ----------
    X : array_like of shape (n_rows, n_units)
    labels : array_like of shape (n_rows,)
        Classes; ``K`` is the number of distinct classes in all of ``labels``.
    probe : {"logistic", "mlp"} or classifier with ``predict_proba``, default "logistic"
        Refitted from scratch on each prefix of the shuffled rows.
    smoothing : float, default 1e-3
        Every coded probability is ``(1 - smoothing) * p + smoothing / K``, so a class
        the probe never saw in training (``p = 0``) costs at most ``log2(K / smoothing)``
        bits instead of infinity, at a cost of under ``1.5 * smoothing`` bits per row
        elsewhere. A prefix holding a single class is coded with add-one class
        frequencies instead of a probe (a classifier needs two classes).
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).
        Seeds the one shuffle of the rows before blocking.

    Returns
    -------
    float
        The codelength in bits (``n_rows * log2 K`` is the uniform codelength).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3)); y = (X[:, 0] > 0).astype(int)
    >>> bool(compute_online_codelength(X, y) < 0.3 * 400)  # uniform: 400 bits
    True
    """
    where = "compute_online_codelength"
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ProbingError(f"{where}: X must be (n_rows, n_units) with n_rows >= 2; "
                           f"got shape {X.shape}")
    estimator, _ = _check_mdl_probe(probe, where)
    labels = check_labels(labels, X.shape[0], True, where)
    if not 0 < smoothing < 1:
        raise ProbingError(f"{where}: smoothing must lie in (0, 1); got {smoothing!r}")
    return _codelength(X, labels, estimator, smoothing, random_state)


def _check_mdl_probe(probe, where):
    estimator, name = check_probe(probe, where)
    if not is_classifier(estimator) or not hasattr(estimator, "predict_proba"):
        raise ProbingError(f"{where}: probe must be a classifier with predict_proba "
                           f"('logistic', 'mlp'); got {name}")
    return estimator, name


def block_ends(n_rows, fractions=FRACTIONS):
    """Distinct block end indices (first block at least one row, last ``n_rows``)."""
    ends = [max(1, int(round(f / 100 * n_rows))) for f in fractions]
    return sorted(set(ends) | {n_rows})


def _codelength(X, labels, estimator, smoothing, random_state):
    classes, y = np.unique(labels, return_inverse=True)
    n_classes = len(classes)
    order = np.random.default_rng(random_state).permutation(len(y))
    X, y = X[order], y[order]
    ends = block_ends(len(y))
    bits = ends[0] * np.log2(n_classes)  # the first block: the uniform code
    for start, end in zip(ends[:-1], ends[1:], strict=True):
        proba = _block_proba(X[:start], y[:start], X[start:end], estimator, n_classes)
        proba = (1 - smoothing) * proba + smoothing / n_classes
        bits -= np.log2(proba[np.arange(end - start), y[start:end]]).sum()
    return float(bits)


def _block_proba(X_train, y_train, X_code, estimator, n_classes):
    """``(n_code, n_classes)`` probabilities from a probe fitted on the prefix."""
    seen = np.unique(y_train)
    if seen.size < 2:
        counts = np.bincount(y_train, minlength=n_classes) + 1.0
        return np.tile(counts / counts.sum(), (len(X_code), 1))
    model = clone(estimator).fit(X_train, y_train)
    proba = np.zeros((len(X_code), n_classes))
    proba[:, model.classes_] = model.predict_proba(X_code)
    return proba


def mdl_layers(activations, labels, *, probe="logistic", layers=None, smoothing=1e-3,
               random_state=RANDOM_STATE, n_jobs=None):
    """Online codelength, uniform codelength and compression of each layer.

    Parameters
    ----------
    activations : Activations or numpy.ndarray of shape (n_rows, n_layers, n_units)
    labels : array_like of shape (n_rows,)
    probe : {"logistic", "mlp"} or classifier with ``predict_proba``, default "logistic"
    layers : sequence of int, optional
        As in :func:`~probing.probes.probe_layers`.
    smoothing, random_state
        As in :func:`compute_online_codelength` (the same shuffle for every layer).
    n_jobs : int, optional
        Layers in parallel (joblib).

    Returns
    -------
    pandas.DataFrame
        ``layer, probe, metric, value`` with metrics ``codelength``,
        ``uniform_codelength`` (bits) and ``compression`` (uniform / online). Stack the
        tables of several probes with ``pd.concat``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.tile([0, 1], 100); X = rng.normal(size=(200, 2, 3)); X[:, 1, 0] += 4 * y
    >>> table = mdl_layers(X, y)
    >>> table[table.metric == "compression"].estimate.round(1).tolist()
    [0.9, 4.0]
    """
    where = "mdl_layers"
    source = check_source(activations, layers, where)
    estimator, name = _check_mdl_probe(probe, where)
    labels = check_labels(labels, source.n_rows, True, where)
    if not 0 < smoothing < 1:
        raise ProbingError(f"{where}: smoothing must lie in (0, 1); got {smoothing!r}")
    jobs = (delayed(_codelength)(source.layer(k), labels, estimator, smoothing, random_state)
            for k in source.layers)
    online = np.array(Parallel(n_jobs=n_jobs)(jobs))
    uniform = source.n_rows * np.log2(np.unique(labels).size)
    rows = []
    for layer, bits in zip(source.layers, online, strict=True):
        rows += [(layer, name, "codelength", bits), (layer, name, "uniform_codelength", uniform),
                 (layer, name, "compression", uniform / bits)]
    return pd.DataFrame(rows, columns=list(MDL_COLUMNS))
