"""Computing RDMs from patterns: :func:`compute_rdm` and :func:`average_patterns`.

Every distance is computed from a Gram matrix (one matrix product per layer), never from
an ``n_pairs x n_stimuli`` contrast matrix, so memory grows with ``n_stimuli**2``
and not with ``n_stimuli**3``.

Metric definitions and their equivalents (each row checked in ``tests/rsa/test_compute.py``;
``p`` is ``n_units``, ``d`` our value):

================  ==============================================  ===================  =====================
ours              definition                                      scipy ``pdist``      rsatoolbox ``calc_rdm``
================  ==============================================  ===================  =====================
``correlation``   ``1 - pearson r`` of two patterns               ``correlation``      ``correlation`` (= d)
``cosine``        ``1 - cosine`` of two patterns                  ``cosine``           none
``euclidean``     ``||x - y||``                                   ``euclidean``        none (``sqrt(p * e)``)
``sqeuclidean``   ``||x - y||**2``                                ``sqeuclidean``      ``euclidean`` = d / p
``mahalanobis``   ``sqrt((x - y)' S^-1 (x - y))``, ``S`` = noise  ``mahalanobis``      ``mahalanobis`` = d**2 / p
                                                                  (``VI = S^-1``)      (``noise = S^-1``)
``crossnobis``    ``(a_i - a_j)' S^-1 (b_i - b_j)``, leave one    none                 ``crossnobis`` = d / p
                  fold out, averaged over folds (can be < 0)                           (``noise = S^-1``)
================  ==============================================  ===================  =====================

rsatoolbox's ``calc_rdm`` also sorts its conditions (our stimulus ids) alphabetically;
ours keep the order of first appearance in ``stimulus_ids``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from probing._core.deprecation import renamed, warn_renamed
from probing._core.errors import ProbingError
from probing._core.values import DISTANCES
from probing.rsa.noise import COVARIANCES, estimate_noise_cov
from probing.rsa.rdm import RDMs, pair_indices

__all__ = ["DISTANCES", "METRICS", "average_patterns", "compute_rdm"]

METRICS = DISTANCES  # its name before 0.2 (one release)
DTYPES = ("float32", "float64")


def _labels_codes(labels, n_rows, name):
    labels = np.asarray(labels, dtype=object)
    if labels.shape != (n_rows,):
        raise ProbingError(f"compute_rdm: {name} must have one label per row ({n_rows}); "
                           f"got shape {labels.shape}")
    if pd.isna(labels).any():
        raise ProbingError(f"compute_rdm: {name} contains missing labels")
    codes, uniques = pd.factorize(labels)
    return codes, tuple(uniques.tolist())


def _averaging_matrix(codes, n_groups, weights=None):
    """``(n_groups, n_rows)`` matrix whose product with patterns gives group means."""
    weights = np.ones(codes.size) if weights is None else weights
    mat = np.zeros((n_groups, codes.size))
    mat[codes, np.arange(codes.size)] = weights
    totals = mat.sum(axis=1, keepdims=True)
    if np.any(totals == 0):
        raise ProbingError("compute_rdm: every stimulus id needs at least one pattern in each "
                           "average (a fold lacks a stimulus id)")
    return mat / totals


@renamed(conditions="stimulus_ids")
def average_patterns(X, stimulus_ids):
    """Mean pattern of each stimulus id, in order of first appearance.

    Parameters
    ----------
    X : array_like of shape (n_rows, n_units) or (n_layers, n_rows, n_units)
    stimulus_ids : array_like of shape (n_rows,)
        Stimulus id of each row.

    Returns
    -------
    means : numpy.ndarray of shape (n_stimuli, n_units) or (n_layers, n_stimuli, n_units)
    labels : tuple
        The stimulus_ids, in the order of the rows of ``means``.

    Examples
    --------
    >>> means, labels = average_patterns(np.array([[0.0], [2.0], [5.0]]), ["a", "a", "b"])
    >>> means.ravel().tolist(), labels
    ([1.0, 5.0], ('a', 'b'))
    """
    X = _check_patterns(X)
    codes, labels = _labels_codes(stimulus_ids, X.shape[-2], "stimulus_ids")
    return _averaging_matrix(codes, len(labels)) @ X, labels


def _shown(X):
    """The shape as the caller gave it (a 3-D stack is held layers first here)."""
    return X.shape if X.ndim != 3 else (X.shape[1], X.shape[0], X.shape[2])


def _check_patterns(X):
    X = np.asarray(X)
    if X.ndim not in (2, 3) or X.shape[-2] < 2 or X.shape[-1] < 1:
        raise ProbingError(f"compute_rdm: X must be (n_rows, n_units) or (n_rows, n_layers, "
                           f"n_units) with at least 2 rows; got shape {_shown(X)}")
    if not np.issubdtype(X.dtype, np.number):
        raise ProbingError(f"compute_rdm: X must be numeric; got dtype {X.dtype}")
    return X


def _check_noise(noise, residuals, n_layers, n_units, distance):
    if noise is not None and residuals is not None:
        raise ProbingError("compute_rdm: give noise or residuals, not both")
    if residuals is not None:
        noise = estimate_noise_cov(residuals)
    if noise is None:
        if distance == "mahalanobis":
            raise ProbingError("compute_rdm: distance 'mahalanobis' needs noise (a covariance "
                               "(n_units, n_units)) or residuals to estimate it from")
        return None
    noise = np.asarray(noise, dtype=np.float64)
    stack = noise[None] if noise.ndim == 2 else noise
    if stack.ndim != 3 or stack.shape[1:] != (n_units, n_units) or len(stack) not in (1, n_layers):
        raise ProbingError(f"compute_rdm: noise must be ({n_units}, {n_units}) or "
                           f"({n_layers}, {n_units}, {n_units}); got shape {noise.shape}")
    try:
        # Whitening by the inverse Cholesky factor: (x W')(y W')' = x S^-1 y'.
        factors = np.linalg.cholesky((stack + np.swapaxes(stack, 1, 2)) / 2)
    except np.linalg.LinAlgError:
        raise ProbingError("compute_rdm: noise covariance must be symmetric positive "
                           "definite") from None
    eye = np.eye(n_units)
    return np.stack([np.linalg.solve(f, eye).T for f in factors])


def _per_fold_residuals(residuals, distance, n_layers, n_rows, n_units):
    """For crossnobis: residuals to estimate per fold (one entry per layer), else None."""
    if isinstance(residuals, str):
        if residuals != "folds" or distance != "crossnobis":
            raise ProbingError(f"compute_rdm: residuals='folds' applies to distance "
                               f"'crossnobis' only; got residuals={residuals!r}, "
                               f"distance={distance!r}")
        return ["folds"]
    if distance != "crossnobis" or residuals is None:
        return None
    residuals = np.asarray(residuals, dtype=np.float64)
    stack = residuals[None] if residuals.ndim == 2 else residuals
    if stack.ndim == 3 and stack.shape[1:] == (n_rows, n_units) and len(stack) in (1, n_layers):
        # One residual per row of X: the same patterns' noise. Each fold's training rows
        # are used (bias +5.7 -> +2.4 at 5 stimuli x 4 folds), but residuals from means
        # over all rows still see the test fold; "folds" removes the bias (-0.04 +- 0.19).
        warnings.warn("compute_rdm: crossnobis residuals with one row per pattern are the "
                      "same patterns' noise; each fold uses its training rows, but residuals "
                      "from stimulus means over every fold still bias the distances "
                      "upwards: pass residuals='folds'", UserWarning, stacklevel=5)
        return list(stack)
    return None


def unit_patterns(P, distance, dtype, where="compute_rdm"):
    """Rows centred (``correlation``) and scaled to unit norm, cast to ``dtype``: their
    Gram products are one minus the correlation (cosine) distances."""
    P = np.asarray(P, dtype=np.float64)
    if distance == "correlation":
        P = P - P.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(P, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ProbingError(f"{where}: distance {distance!r} is undefined for a constant "
                           f"pattern (zero norm)")
    return (P / norms).astype(dtype)


def _gram_distances(P, distance, whitener, dtype):
    """Condensed distances of one layer's stimulus patterns ``P`` (n, p)."""
    P = np.asarray(P, dtype=np.float64)
    if distance in ("correlation", "cosine"):
        P = unit_patterns(P, distance, dtype)
        gram = (P @ P.T).astype(np.float64)
        rows, cols = pair_indices(len(P))
        return 1.0 - gram[rows, cols]
    # Distances do not change when the mean pattern is removed, and removing it keeps
    # the Gram entries small, so float32 loses little to cancellation in g_ii + g_jj - 2 g_ij.
    P = P - P.mean(axis=0)
    if whitener is not None:
        P = P @ whitener
    P = P.astype(dtype)
    gram = (P @ P.T).astype(np.float64)
    diag = np.diag(gram)
    rows, cols = pair_indices(len(P))
    sq = np.maximum(diag[rows] + diag[cols] - 2.0 * gram[rows, cols], 0.0)
    return np.sqrt(sq) if distance in ("euclidean", "mahalanobis") else sq


def _crossnobis(X, codes, n_stim, folds, whitener, dtype, residuals=None, fold_weights=None):
    """Leave-one-fold-out crossnobis of one layer's rows ``X`` (n_rows, p).

    ``residuals`` (aligned with the rows, or ``"folds"``) gives each fold its own noise
    estimate from its training rows only, so that the whitening is independent of the
    test fold and the distance stays unbiased. ``fold_weights`` (one per fold label, in
    order of first appearance) weights the average over folds: an item drawn ``k`` times
    in a bootstrap resample is one fold (its copies must share it) that counts ``k``
    times, as it would among ``k`` distinct items.
    """
    fold_codes, fold_labels = _labels_codes(folds, X.shape[0], "folds")
    if len(fold_labels) < 2:
        raise ProbingError("compute_rdm: crossnobis needs at least two folds")
    rows, cols = pair_indices(n_stim)
    total = np.zeros(rows.size)
    weights = np.ones(len(fold_labels)) if fold_weights is None else np.asarray(fold_weights, float)
    X = np.asarray(X, dtype=np.float64)
    X = X @ whitener if whitener is not None else X
    for k in range(len(fold_labels)):
        test = fold_codes == k
        if residuals is not None:
            Xk = X @ _fold_whitener(X, codes, n_stim, ~test, residuals)
        else:
            Xk = X
        A = _averaging_matrix(codes[~test], n_stim) @ Xk[~test]
        B = _averaging_matrix(codes[test], n_stim) @ Xk[test]
        gram = (A.astype(dtype) @ B.astype(dtype).T).astype(np.float64)
        diag = np.diag(gram)
        total += weights[k] * (diag[rows] + diag[cols] - gram[rows, cols] - gram[cols, rows])
    return total / weights.sum()


def _fold_whitener(X, codes, n_stim, train, residuals):
    """Whitener from the training rows' noise: their own residuals from their training
    stimulus means (``"folds"``), or the training rows of a residual array."""
    if isinstance(residuals, str):
        means = _averaging_matrix(codes[train], n_stim) @ X[train]
        noise = X[train] - means[codes[train]]
        dof = max(int(train.sum()) - n_stim, 1)
    else:
        noise, dof = residuals[train], None
    return _whitener(estimate_noise_cov(noise, dof=dof))


def _warn_if_same_data(X, codes, n_stim, noise):
    """Warn when a crossnobis ``noise`` is the covariance of these patterns' own residuals."""
    given = np.asarray(noise, dtype=np.float64)
    given = given[0] if given.ndim == 3 else given
    X = np.asarray(X, dtype=np.float64)
    if X.shape[0] - n_stim < 1:
        return
    residuals = X - (_averaging_matrix(codes, n_stim) @ X)[codes]
    for dof in (None, X.shape[0] - n_stim):
        for covariance in COVARIANCES:
            estimate = estimate_noise_cov(residuals, covariance=covariance, dof=dof)
            if np.allclose(estimate, given, rtol=1e-6, atol=1e-12 * np.abs(given).max()):
                warnings.warn("compute_rdm: the crossnobis noise covariance is estimated from "
                              "the same patterns, which biases every distance upwards (+4.87 "
                              "at 0 true distance); pass residuals='folds' instead",
                              UserWarning, stacklevel=5)
                return


def _whitener(cov):
    try:
        factor = np.linalg.cholesky((cov + cov.T) / 2)
    except np.linalg.LinAlgError:
        raise ProbingError("compute_rdm: noise covariance must be symmetric positive "
                           "definite") from None
    return np.linalg.solve(factor, np.eye(cov.shape[0])).T


@renamed(metric="distance", conditions="stimulus_ids")
def compute_rdm(X, *, distance="correlation", stimulus_ids=None, folds=None, noise=None,
                residuals=None, dtype="float32", descriptors=None, layers_first=False):
    """RDM(s) of stimulus patterns, vectorised over a stack of layers.

    Parameters
    ----------
    X : array_like of shape (n_rows, n_units) or (n_rows, n_layers, n_units)
        Patterns, in the axis order of :class:`~probing.store.Activations`, the probes
        and :func:`~probing.rsa.rsa_layers` (an ``Activations.values`` goes in as it is).
        Without ``stimulus_ids`` each row is one stimulus (one RDM row).
    distance : str, default "correlation"
        One of ``correlation, cosine, euclidean, sqeuclidean, mahalanobis, crossnobis``
        (definitions and their scipy / rsatoolbox equivalents in the module docstring).
    stimulus_ids : array_like of shape (n_rows,), optional
        Stimulus id of each row. Rows sharing an id are averaged (except for
        ``crossnobis``, which averages within folds). Required for ``crossnobis``.
    folds : array_like of shape (n_rows,), optional
        Independent measurement split of each row (for example ``item_id``); required
        for ``crossnobis``, which averages over leave-one-fold-out splits. Every fold
        must contain every stimulus id.
    noise : array_like of shape (n_units, n_units) or (n_layers, n_units, n_units), optional
        Noise covariance ``S`` (not its inverse) for ``mahalanobis`` and ``crossnobis``.
    residuals : array_like of shape (n_obs, n_units) or (n_obs, n_layers, n_units), or "folds"
        Noise samples from which ``S`` is estimated with
        :func:`~probing.rsa.estimate_noise_cov` (``shrinkage_diag``). For
        ``crossnobis``, residuals with one row per row of ``X`` (for example each
        pattern minus its stimulus's mean) are taken to be the same patterns' noise: each
        fold then estimates ``S`` from its training rows only, since a noise estimate
        that includes the test fold correlates with it and biases every distance
        upwards (+4.74 with 5 stimuli x 4 folds). ``"folds"`` computes those
        residuals itself (each training row minus its stimulus's training mean).
        Residuals of another length are taken as an independent noise sample.
    dtype : {"float32", "float64"}, default "float32"
        Precision of the Gram matrix products. float32 is about twice as fast and
        agrees with float64 to about 1e-6 relative; use float64 for reference checks.
    descriptors : pandas.DataFrame or mapping, optional
        One row per RDM; for a stack the default is ``layer = 0 .. n_layers - 1``.
    layers_first : bool, default False
        Deprecated: ``True`` reads a 3-D ``X`` (and ``residuals``) in the order
        ``(n_layers, n_rows, n_units)`` that ``compute_rdm`` took before 0.2. A 3-D ``X``
        whose labels (``stimulus_ids`` or ``folds``) match its second axis and not its
        first is read that way too, with the same warning.

    Returns
    -------
    RDMs
        ``n_layers`` RDMs (1 for 2-D ``X``) over the stimulus_ids in order of first
        appearance (``0 .. n_rows - 1`` without labels), ``distance`` set.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> compute_rdm(X, distance="sqeuclidean", dtype="float64").values
    array([[2., 1., 1.]])
    >>> rng = np.random.default_rng(0)
    >>> compute_rdm(rng.normal(size=(10, 4, 8))).values.shape   # 10 rows, 4 layers
    (4, 45)
    """
    X = np.asarray(X)
    if X.ndim == 3 and not layers_first:
        layers_first = _old_order(X, stimulus_ids, folds)
    elif layers_first:
        warn_renamed("compute_rdm", "layers_first=True", "X of shape (n_rows, n_layers, n_units)",
                     stacklevel=4)
    if X.ndim == 3 and not layers_first:
        X = np.swapaxes(X, 0, 1)  # a view: the sweep below runs layer by layer
        if not isinstance(residuals, str) and residuals is not None and np.ndim(residuals) == 3:
            residuals = np.swapaxes(np.asarray(residuals), 0, 1)
    return stack_rdms(X, distance=distance, stimulus_ids=stimulus_ids, folds=folds, noise=noise,
                      residuals=residuals, dtype=dtype, descriptors=descriptors)


def _old_order(X, stimulus_ids, folds):
    """True (with a warning) when the labels say ``X`` is ``(n_layers, n_rows, n_units)``."""
    n = {len(v) for v in (stimulus_ids, folds) if v is not None and np.ndim(v) == 1}
    if len(n) == 1 and X.shape[1] in n and X.shape[0] not in n:
        warn_renamed("compute_rdm", "X of shape (n_layers, n_rows, n_units)",
                     "X of shape (n_rows, n_layers, n_units)", stacklevel=5)
        return True
    return False


def stack_rdms(X, *, distance="correlation", stimulus_ids=None, folds=None, noise=None,
               residuals=None, dtype="float32", descriptors=None, fold_weights=None):
    """:func:`compute_rdm` on a layers-first ``(n_layers, n_rows, n_units)`` stack (internal:
    the layer sweeps hold their patterns that way, a view of the store without a copy;
    ``fold_weights`` serves the item bootstrap of crossnobis)."""
    X = _check_patterns(X)
    if distance not in DISTANCES:
        raise ProbingError(f"compute_rdm: distance must be one of {list(DISTANCES)}, got {distance!r}")
    if dtype not in DTYPES:
        raise ProbingError(f"compute_rdm: dtype must be one of {list(DTYPES)}, got {dtype!r}")
    stack = X[None] if X.ndim == 2 else X
    n_layers, n_rows, n_units = stack.shape
    per_fold = _per_fold_residuals(residuals, distance, n_layers, n_rows, n_units)
    whiteners = _check_noise(noise, None if per_fold is not None else residuals, n_layers,
                             n_units, distance) if distance in ("mahalanobis", "crossnobis") else None
    if distance == "crossnobis" and (stimulus_ids is None or folds is None):
        raise ProbingError("compute_rdm: distance 'crossnobis' needs stimulus_ids and folds "
                           "(one label of each per row)")
    if stimulus_ids is None:
        codes, labels = np.arange(n_rows), tuple(range(n_rows))
    else:
        codes, labels = _labels_codes(stimulus_ids, n_rows, "stimulus_ids")
    if len(labels) < 2:
        raise ProbingError("compute_rdm: need at least two stimulus_ids")
    values = np.empty((n_layers, len(labels) * (len(labels) - 1) // 2))
    average = None if stimulus_ids is None else _averaging_matrix(codes, len(labels))
    for k in range(n_layers):
        whitener = None if whiteners is None else whiteners[min(k, len(whiteners) - 1)]
        if distance == "crossnobis":
            layer_residuals = None if per_fold is None else per_fold[min(k, len(per_fold) - 1)]
            if noise is not None and k == 0:
                _warn_if_same_data(stack[k], codes, len(labels), noise)
            values[k] = _crossnobis(stack[k], codes, len(labels), folds, whitener, dtype,
                                    layer_residuals, fold_weights)
        else:
            P = stack[k] if average is None else average @ np.asarray(stack[k], np.float64)
            values[k] = _gram_distances(P, distance, whitener, dtype)
    if descriptors is None and X.ndim == 3:
        descriptors = {"layer": np.arange(n_layers)}
    return RDMs(values, stimulus_ids=labels, distance=distance, descriptors=descriptors)
